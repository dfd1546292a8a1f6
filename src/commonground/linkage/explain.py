"""Why two records are, or are not, the same person: each comparison's level and weight.

An explanation is data (:class:`PairExplanation`, for the web app and the audit log) and plain
text (:meth:`PairExplanation.as_text`), in the form of Splink's waterfall chart: the prior, then
each comparison's match weight (log2 of the Bayes factor, term-frequency adjustment included),
adding up to the pair's match weight and probability.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from splink import Linker

from commonground.linkage.prepare import prepare_records, records_table
from commonground.linkage.spec import ComparisonSpec, LevelSpec, MissingLevel
from commonground.linkage.threshold import weight_to_probability
from commonground.linkage.training import TrainedModel


class ComparisonExplanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    comparison: str
    title: str
    level: str
    """The level's plain-English label."""
    comparison_vector_value: int
    match_weight: float
    """The evidence from this comparison, term-frequency adjustment included (0 when missing)."""
    term_frequency_adjustment: float | None = None
    """The part of ``match_weight`` due to how common the shared value is, if adjusted."""
    values: tuple[tuple[str, Any, Any], ...] = ()
    """(column, left value, right value) for the columns compared. Personal data: show only
    to people allowed to see both records."""

    def line(self, *, show_values: bool = False) -> str:
        text = f"{self.title}: {self.level} ({self.match_weight:+.1f}"
        if self.term_frequency_adjustment:
            how = "rarer" if self.term_frequency_adjustment > 0 else "more common"
            text += f", of which {self.term_frequency_adjustment:+.1f} as the value is {how} than most"
        text += ")"
        if show_values:
            shown = "; ".join(f"{col} {_show(lv)} / {_show(rv)}" for col, lv, rv in self.values)
            text += f"  [{shown}]"
        return text


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


class PairExplanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    left_id: str
    right_id: str
    prior_match_weight: float
    comparisons: tuple[ComparisonExplanation, ...]
    match_weight: float
    match_probability: float
    threshold_match_weight: float

    @property
    def same_person(self) -> bool:
        """At or above the threshold: the pair would join one cluster (directly)."""
        return self.match_weight >= self.threshold_match_weight

    def as_text(self, *, show_values: bool = False) -> str:
        verdict = "the same person" if self.same_person else "not linked"
        one_in = 1 + 2**-self.prior_match_weight  # prior weight = log2(p / (1 - p)); 1/p = 1 + 2^-w
        threshold = weight_to_probability(self.threshold_match_weight)
        lines = [
            f"{self.left_id} and {self.right_id}: {verdict} (match weight {self.match_weight:+.1f}, "
            f"probability {_probability(self.match_probability)}; threshold {_probability(threshold)}, "
            f"{self.threshold_match_weight:+.1f})",
            f"  starting point: about 1 in {one_in:,.0f} pairs of records are the same person "
            f"({self.prior_match_weight:+.1f})",
        ]
        lines += [f"  {c.line(show_values=show_values)}" for c in self.comparisons]
        return "\n".join(lines)


def _probability(p: float) -> str:
    """Enough decimals to tell 0.99990 from 0.99996 near a threshold of 0.99995."""
    return f"{p:.6f}" if p >= 0.999 else f"{p:.4f}"


@cache
def _levels_by_vector_value(spec: ComparisonSpec) -> dict[int, LevelSpec]:
    """Splink numbers the levels: -1 for the missing level, then from the top level (n-1) down to 0."""
    non_missing = [lv for lv in spec.levels if not isinstance(lv, MissingLevel)]
    found: dict[int, LevelSpec] = {-1: spec.levels[0]}
    for i, level in enumerate(non_missing):
        found[len(non_missing) - 1 - i] = level
    return found


@cache
def _value_columns(spec: ComparisonSpec) -> tuple[str, ...]:
    return tuple(sorted(spec.columns(), key=lambda c: (c != spec.column, c)))


def explain_prediction(
    model: TrainedModel, row: Mapping[str, Any], *, threshold_match_weight: float | None = None
) -> PairExplanation:
    """Explain one row of Splink's predictions (made with our settings, which keep the gamma_,
    mw_ and mw_tf_adj_ columns and the compared values)."""
    parts = []
    for comp in model.spec.comparisons:
        gamma = int(row[f"gamma_{comp.name}"])
        level = _levels_by_vector_value(comp)[gamma]
        tf = row.get(f"mw_tf_adj_{comp.name}")
        weight = float(row[f"mw_{comp.name}"]) + (float(tf) if tf is not None else 0.0)
        values = tuple((col, row.get(f"{col}_l"), row.get(f"{col}_r")) for col in _value_columns(comp))
        parts.append(
            ComparisonExplanation(
                comparison=comp.name,
                title=comp.title,
                level=level.label,
                comparison_vector_value=gamma,
                match_weight=weight,
                term_frequency_adjustment=float(tf) if tf else None,
                values=values,
            )
        )
    return PairExplanation(
        left_id=str(row["unique_id_l"]),
        right_id=str(row["unique_id_r"]),
        # The prior the scorer used (it fits the number of records linked): what the comparisons leave.
        prior_match_weight=float(row["match_weight"]) - sum(p.match_weight for p in parts),
        comparisons=tuple(parts),
        match_weight=float(row["match_weight"]),
        match_probability=float(row["match_probability"]),
        threshold_match_weight=(
            model.spec.default_threshold_match_weight if threshold_match_weight is None else threshold_match_weight
        ),
    )


def explain_pair(
    linker: Linker,
    model: TrainedModel,
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    *,
    threshold_match_weight: float | None = None,
) -> PairExplanation:
    """Score two standardised records (dicts with the linkage input columns) with the model and
    explain the score. Term frequencies come from the linker's data, as in prediction."""
    db_api = linker._db_api  # Splink keeps it private; one place reads it.
    sides = []
    for record in (left, right):  # one table each, so every column keeps its type
        raw = db_api.register(records_table([dict(record)]))
        sides.append(prepare_records(db_api=db_api, source_table=raw.physical_name))
    rows = linker.inference.score_pair(sides[0], sides[1]).as_record_list()
    return explain_prediction(model, rows[0], threshold_match_weight=threshold_match_weight)
