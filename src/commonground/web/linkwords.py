"""Why two records are one person, in words: each comparison's level (the linkage model's own plain-English label)
and the weight of evidence it gave, from the links the build kept."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from commonground.cases.person_view import Link
from commonground.linkage.spec import ComparisonSpec, LevelSpec, MissingLevel, default_spec


@dataclass(frozen=True)
class LinkInWords:
    left: str
    right: str
    probability: float
    match_weight: float
    reasons: tuple[tuple[str, str, float], ...]
    """(what was compared, what was found, weight) for each comparison, strongest evidence first."""

    @property
    def confidence(self) -> str:
        if self.probability >= 0.9999:
            return "Very high"
        if self.probability >= 0.999:
            return "High"
        if self.probability >= 0.99:
            return "Moderate"
        return "Low"


@cache
def _comparisons() -> dict[str, ComparisonSpec]:
    return {c.name: c for c in default_spec().comparisons}


def _level(spec: ComparisonSpec, gamma: int) -> LevelSpec:
    non_missing = [lv for lv in spec.levels if not isinstance(lv, MissingLevel)]
    if gamma < 0:
        return spec.levels[0]
    return non_missing[len(non_missing) - 1 - gamma]


def link_words(link: Link) -> LinkInWords:
    comparisons = _comparisons()
    reasons = []
    for name, gamma in link.gammas.items():
        spec = comparisons.get(name)
        if spec is None:
            continue
        try:
            label = _level(spec, gamma).label
        except IndexError:
            label = f"level {gamma}"
        reasons.append((spec.title, label, link.weights.get(name, 0.0)))
    reasons.sort(key=lambda r: -abs(r[2]))
    return LinkInWords(
        left=link.left,
        right=link.right,
        probability=link.match_probability,
        match_weight=link.match_weight,
        reasons=tuple(reasons),
    )
