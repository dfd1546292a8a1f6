"""Retention periods, as data (#16): how long each feed's batches stay in the ingest store, with the partner's
retention schedule each comes from, and how many published builds are kept. Read from ``retention.yaml`` beside this
module; every feed must have a period (a feed with none would be kept for ever, which no schedule allows)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from commonground.contracts.feeds import FEEDS


class Period(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    years: int = Field(ge=1, le=100)
    source: str = Field(min_length=10)
    """The partner's retention schedule the period comes from."""


class RetentionSchedule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    builds_kept: int = Field(ge=1, le=100)
    feeds: dict[str, Period]

    @model_validator(mode="after")
    def _every_feed_has_a_period(self) -> RetentionSchedule:
        missing = sorted(set(FEEDS) - set(self.feeds))
        unknown = sorted(set(self.feeds) - set(FEEDS))
        if missing or unknown:
            raise ValueError(f"retention periods: feeds without one {missing}, periods of no feed {unknown}")
        return self


@cache
def retention_schedule() -> RetentionSchedule:
    """The partnership's retention schedule (``contracts/retention.yaml``)."""
    text = (resources.files("commonground.contracts") / "retention.yaml").read_text(encoding="utf-8")
    return RetentionSchedule.model_validate(yaml.safe_load(text))
