"""A synthetic area with ground truth: people, households, schools and life events, seen through every feed.

``generate(people=..., seed=..., out=...)`` writes one CSV per partner feed (with the errors real
extracts have, and a few deliberately broken cells) and a ``truth/`` folder saying who every
record really is, who lived with whom, what really happened to each person, and which cells were
broken on purpose. ``noise="harsh"`` observes the same town through worse extracts (see
:mod:`commonground.synth.noise`) and lists every identity error in ``truth/identity_errors.csv``.
See ``docs/synth.md``.
"""

from commonground.synth.generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
