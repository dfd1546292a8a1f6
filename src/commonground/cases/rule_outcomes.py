"""What closed work says about each rule: how often its flags pointed at a real concern (issue #20).

A closed work item carries a coded outcome (:class:`commonground.cases.work_items.Outcome`). "Action taken" and
"already known and being worked" confirm the concern, "no concern found" does not; "wrong person" (a linkage error,
counted apart) and "not enough information" judge nothing. A rule version's positive predictive value in the world
is the confirmed share of its judged items. A rule whose PPV falls below :data:`PPV_FLOOR` over at least
:data:`MIN_JUDGED` judged items is marked for review: the steering group reads its rule again beside these figures.

The figures are counts of work items by rule, never about a person: nothing here is identifiable, and the page that
shows them opens no record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonground.cases.work_items import Outcome, WorkItem, WorkItemStatus

PPV_FLOOR = 0.5
"""Below this share of judged flags confirmed, a rule is marked for review: more than half its flags led nowhere."""
MIN_JUDGED = 10
"""A rule is marked for review only on at least this many judged items (fewer say too little either way)."""


@dataclass(frozen=True)
class RuleOutcomes:
    """Closed work items of one rule version, by coded outcome."""

    rule_id: str
    rule_version: str
    counts: dict[Outcome, int] = field(default_factory=dict)
    uncoded: int = 0
    """Closed before outcomes were coded: counted as closed, judging nothing."""
    open: int = 0
    """Not yet closed."""

    @property
    def closed(self) -> int:
        return sum(self.counts.values()) + self.uncoded

    @property
    def confirmed(self) -> int:
        return sum(n for outcome, n in self.counts.items() if outcome.confirms_concern)

    @property
    def judged(self) -> int:
        return sum(n for outcome, n in self.counts.items() if outcome.confirms_concern is not None)

    @property
    def ppv(self) -> float | None:
        """The confirmed share of judged items (``None`` when nothing is judged yet)."""
        return self.confirmed / self.judged if self.judged else None

    @property
    def for_review(self) -> bool:
        return self.ppv is not None and self.judged >= MIN_JUDGED and self.ppv < PPV_FLOOR

    def count(self, outcome: Outcome) -> int:
        return self.counts.get(outcome, 0)


def rule_outcomes(session: Session) -> list[RuleOutcomes]:
    """Every rule version that has raised a work item, with its closed items by outcome, by rule then version."""
    rows = session.execute(
        select(WorkItem.rule_id, WorkItem.rule_version, WorkItem.status, WorkItem.outcome_code, func.count()).group_by(
            WorkItem.rule_id, WorkItem.rule_version, WorkItem.status, WorkItem.outcome_code
        )
    )
    counts: dict[tuple[str, str], dict[Outcome, int]] = defaultdict(dict)
    uncoded: dict[tuple[str, str], int] = defaultdict(int)
    still_open: dict[tuple[str, str], int] = defaultdict(int)
    for rule_id, version, status, code, n in rows:
        key = (rule_id, version)
        if status is not WorkItemStatus.CLOSED:
            still_open[key] += n
        elif code is None:
            uncoded[key] += n
        else:
            counts[key][code] = counts[key].get(code, 0) + n
    keys = sorted(set(counts) | set(uncoded) | set(still_open), key=lambda k: (k[0], _version_order(k[1])))
    return [
        RuleOutcomes(rule_id=r, rule_version=v, counts=counts[(r, v)], uncoded=uncoded[(r, v)], open=still_open[(r, v)])
        for r, v in keys
    ]


def _version_order(version: str) -> tuple[int, str]:
    """Versions as numbers where they are ("10" after "9"), else as text."""
    return (int(version), "") if version.isdigit() else (1 << 30, version)
