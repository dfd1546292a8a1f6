"""Trained parameters of a linkage model, independent of any SQL engine.

Splink's own model JSON holds each level's SQL in the dialect it was trained with. We keep, beside
it, the numbers alone, keyed by our spec's comparison names and level labels, so a model trained
on DuckDB can be compiled again for Spark (or any backend) from the spec and these numbers.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict


class LevelParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    m_probability: float | None = None
    """P(this level | the records are the same person). None for the null level or when untrained."""
    u_probability: float | None = None
    """P(this level | the records are different people)."""

    @property
    def match_weight(self) -> float | None:
        """log2(m/u): the evidence this level gives, before any term-frequency adjustment."""
        if not self.m_probability or not self.u_probability:
            return None
        return math.log2(self.m_probability / self.u_probability)


class ComparisonParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    levels: tuple[LevelParameters, ...]


class ModelParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    probability_two_random_records_match: float
    comparisons: tuple[ComparisonParameters, ...]

    @property
    def prior_match_weight(self) -> float:
        p = self.probability_two_random_records_match
        return math.log2(p / (1 - p))

    def level(self, comparison: str, index: int) -> LevelParameters:
        for c in self.comparisons:
            if c.name == comparison:
                return c.levels[index]
        raise KeyError(f"no parameters for comparison {comparison!r}")

    @classmethod
    def from_splink_settings(cls, settings: dict[str, Any]) -> ModelParameters:
        """Read the numbers out of a Splink settings dict (``linker.misc.save_model_to_json()``).

        Splink keeps the levels in the order they were given, which is the spec's order.
        """
        comparisons = []
        for comp in settings["comparisons"]:
            levels = tuple(
                LevelParameters(
                    label=lv.get("label_for_charts", ""),
                    m_probability=None if lv.get("is_null_level") else lv.get("m_probability"),
                    u_probability=None if lv.get("is_null_level") else lv.get("u_probability"),
                )
                for lv in comp["comparison_levels"]
            )
            comparisons.append(ComparisonParameters(name=comp["output_column_name"], levels=levels))
        return cls(
            probability_two_random_records_match=settings["probability_two_random_records_match"],
            comparisons=tuple(comparisons),
        )
