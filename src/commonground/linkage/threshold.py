"""The threshold as a match probability, and the prior that fits the number of records linked.

A pair's match weight is the prior's weight (how likely two records picked at random are the same
person) plus the evidence of its comparisons; its match probability is ``1 / (1 + 2^-weight)``.
The prior is not a constant of the model: in an area of ``n`` records where each record has, on
average, ``k`` other records of the same person, ``k * n / 2`` of the ``n (n - 1) / 2`` pairs are
matches, so the prior is ``k / (n - 1)`` and falls as the area grows. Training estimates it on the
records trained on (Splink's estimate from deterministic rules, :mod:`.training`); linking with a
saved model uses the same expected matches per record, ``k``, for however many records are linked
now (:func:`prior_for`), so a later, larger build or one record matched against a build (which has
its own size) reads probabilities on the right scale.

A threshold kept as a probability (``threshold_match_probability`` in the spec) then means the
same at every size: a pair is linked when, given everything the model knows, including how many
people there are to be confused with, it is at least that likely to be the same person. As a match
weight it is ``log2(p / (1 - p))`` whatever the size; what changes with the size is the prior
inside every pair's weight.
"""

from __future__ import annotations

import math

from commonground.linkage.training import TrainedModel

MAX_PRIOR = 0.5
"""A prior is never set above this (two or three records make a tiny area, not a likely match)."""


def prior_for(model: TrainedModel, record_count: int) -> float:
    """The probability that two random records match, for ``record_count`` records, from the
    trained prior and the number of records it was estimated on (the same expected number of
    matches per record). The trained prior itself at the training's own size."""
    trained = model.parameters.probability_two_random_records_match
    trained_on = model.training.record_count
    if record_count < 2 or trained_on < 2 or record_count == trained_on:
        return trained
    return min(trained * (trained_on - 1) / (record_count - 1), MAX_PRIOR)


def probability_to_weight(probability: float) -> float:
    """log2(p / (1 - p)): the match weight at which a pair's match probability is ``probability``."""
    if not 0 < probability < 1:
        raise ValueError("a match probability threshold must be between 0 and 1")
    return math.log2(probability / (1 - probability))


def weight_to_probability(weight: float) -> float:
    """1 / (1 + 2^-weight), written so that neither side overflows."""
    small = math.exp2(-abs(weight))
    return 1 / (1 + small) if weight >= 0 else small / (1 + small)


def threshold_weight(
    model: TrainedModel,
    *,
    threshold_match_probability: float | None = None,
    threshold_match_weight: float | None = None,
) -> float:
    """The threshold as a match weight: a probability given here, else a weight given here, else
    the spec's default (its probability, or the weight older specs kept)."""
    if threshold_match_probability is not None:
        return probability_to_weight(threshold_match_probability)
    if threshold_match_weight is not None:
        return threshold_match_weight
    return model.spec.default_threshold_match_weight


DEFAULT_REVIEW_BAND_LOWER = 0.999
"""The review band's floor when the spec gives none (models saved before the band): a pair at least this likely
to be the same person, but below the threshold, is offered to people to decide rather than linked or dropped.
Why 0.999 (docs/linkage.md, "A band for people to decide"): on the synthetic areas most true pairs the threshold
misses lie between it and the threshold, while below it the pairs are mostly members of one household, too many
for people to read and too few of them the same person to be worth their time."""


def review_band_weights(model: TrainedModel, *, threshold_match_weight: float) -> tuple[float, float]:
    """The review band as match weights, ``(lower, upper)``: from the spec's floor probability (or the default)
    up to the threshold in use; an empty band (lower = upper) when the floor is not below the threshold."""
    lower = model.spec.review_band_lower_probability or DEFAULT_REVIEW_BAND_LOWER
    return min(probability_to_weight(lower), threshold_match_weight), threshold_match_weight
