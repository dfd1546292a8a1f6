"""Apply the partnership's retention schedule (#16) and record that it happened.

:func:`apply_retention_schedule` removes the ingest store's expired batches (:mod:`commonground.ingest.retention`,
each leaving a tombstone of counts) and the published builds beyond the newest ``builds_kept`` (with their person
views), then writes one audit event, ``apply-retention``, with counts only: the audit log keeps that retention ran
and how much went, never what was removed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.contracts.retention import RetentionSchedule
from commonground.ingest.retention import ExpiredBatch, apply_retention, due_for_removal
from commonground.linkage.builds import builds_beyond, prune_builds


@dataclass(frozen=True)
class FeedRetention:
    feed: str
    years: int
    source: str
    batches: int = 0
    records: int = 0
    """Record versions removed (current and earlier)."""
    quarantined: int = 0


@dataclass(frozen=True)
class RetentionReport:
    at: dt.datetime
    applied: bool
    """False for a report of what is due (nothing removed)."""
    feeds: list[FeedRetention] = field(default_factory=list)
    builds: list[str] = field(default_factory=list)

    @property
    def batches(self) -> int:
        return sum(f.batches for f in self.feeds)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.feeds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "applied": self.applied,
            "feeds": [f.__dict__ for f in self.feeds],
            "builds": len(self.builds),
            "totals": {"batches": self.batches, "records": self.records, "builds": len(self.builds)},
        }


def _report(
    schedule: RetentionSchedule, batches: list[ExpiredBatch], builds: list[str], *, at: dt.datetime, applied: bool
) -> RetentionReport:
    by_feed: dict[str, list[ExpiredBatch]] = defaultdict(list)
    for batch in batches:
        by_feed[batch.feed].append(batch)
    feeds = [
        FeedRetention(
            feed=name,
            years=period.years,
            source=period.source,
            batches=len(by_feed[name]),
            records=sum(b.records for b in by_feed[name]),
            quarantined=sum(b.quarantined_rows for b in by_feed[name]),
        )
        for name, period in schedule.feeds.items()
    ]
    return RetentionReport(at=at, applied=applied, feeds=feeds, builds=builds)


def retention_due(*, data_dir: Path, schedule: RetentionSchedule, at: dt.datetime) -> RetentionReport:
    """What retention would remove at ``at``: nothing is removed and nothing audited."""
    batches = due_for_removal(data_dir=data_dir, schedule=schedule, now=at)
    return _report(schedule, batches, builds_beyond(data_dir, schedule.builds_kept), at=at, applied=False)


def apply_retention_schedule(
    session: Session, *, data_dir: Path, schedule: RetentionSchedule, at: dt.datetime, by: Actor
) -> RetentionReport:
    """Remove what the schedule says has expired at ``at``; audit that it ran (counts only) in the caller's
    transaction."""
    batches = apply_retention(data_dir=data_dir, schedule=schedule, now=at)
    builds = prune_builds(data_dir, schedule.builds_kept)
    report = _report(schedule, batches, builds, at=at, applied=True)
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="apply-retention",
            subject_type="retention",
            detail={"batches": report.batches, "records": report.records, "builds": len(builds)},
        ),
    )
    return report
