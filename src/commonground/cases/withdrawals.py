"""One path for work whose flag no longer holds after a build (#16): the work item is withdrawn, with a reason the
worker reads in words, audited in the same transaction; a school notice already made is followed by a correction
(:mod:`commonground.cases.notice_corrections`).

Three causes reach it, found in this order for the records the item rested on:

- a partner **retracted** a record (``<feed>.retractions.csv``) or **corrected** it (a new version), and the rule no
  longer holds: "Withdrawn on 7 Dec: the police record it rested on was retracted by the partner";
- a reviewer decided records it rested on are **not the same person** (a link review), or holds them apart while
  checking;
- none of these, but the current build's rule does not raise the flag: the **rule no longer holds** on the records
  as they are now (the words the work item page used to work out for itself, session 7).

Flags of rules that are raised only for recent evidence (``raise_within_days``, such as a school notice, and each
occurrence of an episodic rule) stop being raised as time passes: for those, only a change to the records (a
retraction, a correction, a rejected link), or an older occurrence raised where this one was, withdraws the item;
age alone never does. A closed item is withdrawn only for a change to its records (its outcome stands; a school's
notice still gets its correction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.cases.link_reviews import LinkReview, LinkReviewStatus
from commonground.cases.organisations import organisation_for_route
from commonground.cases.work_items import FlagRecord, WorkItem, WorkItemStatus, flag_key
from commonground.ingest.history import RecordState, record_states
from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum

UK = ZoneInfo("Europe/London")
WITHDRAWALS = Actor(label="system:withdrawals")

NOT_RAISED_NOW = (
    "The current build no longer raises this flag: its rule does not hold on the records as they are now (a record "
    "corrected or withdrawn by a partner, records linked differently, or the rule changed)."
)
"""What the work item page says of an item whose flag the current build does not raise, before (or without) a
withdrawal: the flag may be raised again, or withdrawn at the next sync."""


def not_raised_words(raise_within_days: int | None) -> str:
    """:data:`NOT_RAISED_NOW`, or for a rule raised only while its evidence is recent (which is not withdrawn when
    its records simply grow old), that the records are older than the rule looks at now: nothing is wrong with the
    item, which stays open until someone closes it."""
    if raise_within_days is None:
        return NOT_RAISED_NOW
    return (
        f"The current build does not raise this flag again: its rule raises it only while the latest record behind it "
        f"is within the last {raise_within_days} days, and these records are older now (or have changed since). The "
        "item stays in the queue until it is closed."
    )


class WithdrawalCause(StrEnum):
    RETRACTED = "retracted"
    CORRECTED = "corrected"
    LINK_REJECTED = "link_rejected"
    LINK_IN_REVIEW = "link_in_review"
    RULE_NO_LONGER_HOLDS = "rule_no_longer_holds"

    @property
    def from_records(self) -> bool:
        """The cause is a change to the records the item rested on (not the rule's judgement of them)."""
        return self is not WithdrawalCause.RULE_NO_LONGER_HOLDS


RECORD_KIND: dict[str, str] = {
    "police_incidents": "police",
    "police_incident_persons": "police",
    "custody_records": "police custody",
    "missing_episodes": "police missing-person",
    "street_triage": "street triage",
    "ed_attendances": "emergency department",
    "mental_health_contacts": "mental-health",
    "substance_treatment": "drug and alcohol service",
    "childrens_social_care": "children's social care",
    "custodial_sentences": "prison",
    "school_roll": "school roll",
}
"""The kind of record, as a worker names it ("the police record"); a feed not listed is "partner"."""


class WorkItemWithdrawal(Base):
    """Why and when a work item was withdrawn. One per item: a withdrawn item is not withdrawn again."""

    __tablename__ = "work_item_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    cause: Mapped[WithdrawalCause] = mapped_column(str_enum(WithdrawalCause))
    feed: Mapped[str | None] = mapped_column(String(64))
    """The feed of the record that changed (for the words), when the cause is a record."""
    records: Mapped[int] = mapped_column(default=0)
    """How many of the item's records the cause touched."""
    build_id: Mapped[str] = mapped_column(String(64))
    """The build after which the flag no longer held."""
    withdrawn_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def words(self) -> str:
        """The reason as the worker reads it (made from the cause each time, so it is never stored twice)."""
        return withdrawal_words(self.cause, feed=self.feed, records=self.records, at=self.withdrawn_at)


def withdrawal_words(cause: WithdrawalCause, *, feed: str | None, records: int, at: dt.datetime) -> str:
    """The reason as the worker reads it: "Withdrawn on 7 Dec: the police record it rested on was retracted by the
    partner". Names the kind of record, never its content."""
    local = at.astimezone(UK) if at.tzinfo else at.replace(tzinfo=dt.UTC).astimezone(UK)
    kind = RECORD_KIND.get(feed or "", "partner")
    record = f"the {kind} record it rested on was" if records <= 1 else f"{records} {kind} records it rested on were"
    why = {
        WithdrawalCause.RETRACTED: f"{record} retracted by the partner",
        WithdrawalCause.CORRECTED: f"{record} corrected by the partner, and the rule no longer holds on it",
        WithdrawalCause.LINK_REJECTED: "a reviewer decided that records it rested on are not the same person",
        WithdrawalCause.LINK_IN_REVIEW: (
            "records it rested on are held apart while a reviewer checks whether they are the same person"
        ),
        WithdrawalCause.RULE_NO_LONGER_HOLDS: "its rule no longer holds on the records as they are now",
    }[cause]
    return f"Withdrawn on {local.day} {local:%b}: {why}"


def withdrawal_of(session: Session, *, work_item_id: int) -> WorkItemWithdrawal | None:
    """The item's withdrawal, if it was withdrawn (the work item page shows it in place of "why this was flagged")."""
    return session.scalar(select(WorkItemWithdrawal).where(WorkItemWithdrawal.work_item_id == work_item_id))


@dataclass(frozen=True)
class Cause:
    """Why one item is withdrawn: the cause, and for a record's change the feed and how many records it touched."""

    cause: WithdrawalCause
    feed: str | None = None
    records: int = 0


@dataclass(frozen=True)
class CurrentFlags:
    """What the current build raises, as the hub keys it: every flag key, and for each (person, rule, organisation,
    role) the latest episode raised (for episodic rules)."""

    keys: frozenset[str]
    latest_episode: dict[tuple[str, str, int, str], str]
    time_limited: frozenset[str]
    """Rules raised only for recent evidence (``raise_within_days``) or by occurrence (episodic)."""


def current_flags(session: Session, flags: Iterable[FlagRecord], *, time_limited: Iterable[str]) -> CurrentFlags:
    """The build's flags keyed as :func:`~commonground.cases.work_items.upsert_work_items` keys them (a flag whose
    destination the partnership lacks has no item, so it is left out)."""
    keys: set[str] = set()
    latest: dict[tuple[str, str, int, str], str] = {}
    organisations: dict[tuple[str, str | None], int | None] = {}
    for flag in flags:
        route = (flag.route_to.organisation_type.value, flag.route_to.organisation)
        if route not in organisations:
            found = organisation_for_route(
                session, type=flag.route_to.organisation_type, code=flag.route_to.organisation
            )
            organisations[route] = found.id if found is not None else None
        organisation_id = organisations[route]
        if organisation_id is None:
            continue
        keys.add(flag_key(flag, organisation_id=organisation_id))
        slot = (flag.person_id, flag.rule_id, organisation_id, flag.route_to.role.value)
        latest[slot] = max(latest.get(slot, ""), flag.episode)
    return CurrentFlags(frozenset(keys), latest, frozenset(time_limited))


def time_limited_rules(build_path: Path, *, episodic: Iterable[str] = ()) -> frozenset[str]:
    """The build's rules raised only for recent evidence, and the episodic rules given."""
    limited = set(episodic)
    rules_file = build_path / "rules.duckdb"
    if rules_file.exists():
        con = duckdb.connect(str(rules_file), read_only=True)
        try:
            limited |= {
                str(r)
                for (r,) in con.execute("SELECT rule_id FROM rules WHERE raise_within_days IS NOT NULL").fetchall()
            }
        finally:
            con.close()
    return frozenset(limited)


def _unheld(session: Session, current: CurrentFlags) -> list[WorkItem]:
    """Work items not withdrawn whose flag the current build does not raise."""
    rows = session.execute(
        select(WorkItem.id, WorkItem.flag_key)
        .outerjoin(WorkItemWithdrawal, WorkItemWithdrawal.work_item_id == WorkItem.id)
        .where(WorkItemWithdrawal.id.is_(None))
    ).all()
    ids = [i for i, key in rows if key not in current.keys]
    items: list[WorkItem] = []
    for start in range(0, len(ids), 500):
        items += session.scalars(select(WorkItem).where(WorkItem.id.in_(ids[start : start + 500]))).all()
    return sorted(items, key=lambda i: i.id)


def _record_cause(item: WorkItem, states: dict[tuple[str, str], RecordState]) -> Cause | None:
    """A partner's change to a record the item rested on: a retraction, or a new version since the item was made."""
    mine = [(feed, record) for feed, _, record in (e.partition(":") for e in item.evidence)]
    retracted = [r for r in mine if r in states and states[r].retracted]
    if retracted:
        return Cause(WithdrawalCause.RETRACTED, retracted[0][0], len(retracted))
    # The ingest store keeps the machine's local wall clock, naive: compare like with like.
    created = item.created_at.astimezone().replace(tzinfo=None) if item.created_at.tzinfo else item.created_at
    corrected = [
        r
        for r in mine
        if r in states and (at := states[r].corrected_at) is not None and at.replace(tzinfo=None) > created
    ]
    if corrected:
        return Cause(WithdrawalCause.CORRECTED, corrected[0][0], len(corrected))
    return None


def _link_cause(item: WorkItem, reviews: Sequence[LinkReview]) -> Cause | None:
    """A link review about the item's person or records: decided "not the same person", or still open."""
    evidence = set(item.evidence)
    touching = [r for r in reviews if r.person_id == item.person_id or evidence & set(r.records)]
    if any(r.status is LinkReviewStatus.NOT_SAME_PERSON for r in touching):
        return Cause(WithdrawalCause.LINK_REJECTED)
    if any(r.status is LinkReviewStatus.OPEN for r in touching):
        return Cause(WithdrawalCause.LINK_IN_REVIEW)
    return None


def cause_of(
    item: WorkItem,
    *,
    current: CurrentFlags,
    states: dict[tuple[str, str], RecordState],
    reviews: Sequence[LinkReview],
) -> Cause | None:
    """Why the item's flag no longer holds, or None when it should stay as it is (a closed item whose records did
    not change; a time-limited flag that has only aged)."""
    found = _record_cause(item, states) or _link_cause(item, reviews)
    if found is not None:
        return found
    if item.status is WorkItemStatus.CLOSED:
        return None
    if item.rule_id in current.time_limited:
        slot = (item.person_id, item.rule_id, item.organisation_id, item.role.value)
        newer = current.latest_episode.get(slot)
        if newer is None or not item.episode or newer >= item.episode:
            return None  # aged out, or a later occurrence is raised: time, not a change to the records
    return Cause(WithdrawalCause.RULE_NO_LONGER_HOLDS)


@dataclass(frozen=True)
class WithdrawalRun:
    withdrawn: tuple[WorkItemWithdrawal, ...]

    def count(self, cause: WithdrawalCause) -> int:
        return sum(1 for w in self.withdrawn if w.cause is cause)


def withdraw_unheld(
    session: Session,
    *,
    flags: Iterable[FlagRecord],
    build_id: str,
    data_dir: Path,
    time_limited: Iterable[str] = (),
    rules_ran: bool = True,
    by: Actor = WITHDRAWALS,
    now: dt.datetime | None = None,
) -> WithdrawalRun:
    """Withdraw, in the caller's transaction, every work item whose flag the current build (``flags``) no longer
    raises and whose cause is found (:func:`cause_of`); an open item is closed with the reason as its outcome (no
    coded outcome: a withdrawal does not judge the rule). Each withdrawal is audited. A build whose rules have not run
    (``rules_ran`` false) withdraws nothing: its missing flags say nothing about the records."""
    if not rules_ran:
        return WithdrawalRun(())  # no rules output: no flag can be said to have stopped holding
    moment = now or utcnow()
    current = current_flags(session, flags, time_limited=time_limited)
    items = _unheld(session, current)
    if not items:
        return WithdrawalRun(())
    states = record_states(
        data_dir=data_dir, records=((f, r) for item in items for f, _, r in (e.partition(":") for e in item.evidence))
    )
    reviews = list(
        session.scalars(
            select(LinkReview).where(LinkReview.status.in_([LinkReviewStatus.OPEN, LinkReviewStatus.NOT_SAME_PERSON]))
        )
    )
    made: list[tuple[WorkItemWithdrawal, WorkItem, bool]] = []
    for item in items:
        cause = cause_of(item, current=current, states=states, reviews=reviews)
        if cause is None:
            continue
        was_closed = item.status is WorkItemStatus.CLOSED
        made.append((_withdraw(session, item, cause, build_id=build_id, at=moment), item, was_closed))
    session.flush()
    audit.record_many(
        session,
        [
            audit.Event(
                actor=by,
                action="withdraw-work-item",
                subject_type="work_item",
                subject_id=str(item.id),
                person_id=item.person_id,
                purpose=item.purpose.value,
                detail={"cause": w.cause.value, "build_id": build_id, "was_closed": was_closed},
            )
            for w, item, was_closed in made
        ],
    )
    return WithdrawalRun(tuple(w for w, _, _ in made))


def _withdraw(session: Session, item: WorkItem, cause: Cause, *, build_id: str, at: dt.datetime) -> WorkItemWithdrawal:
    withdrawal = WorkItemWithdrawal(
        work_item_id=item.id,
        cause=cause.cause,
        feed=cause.feed,
        records=cause.records,
        build_id=build_id,
        withdrawn_at=at,
    )
    session.add(withdrawal)
    if item.status is not WorkItemStatus.CLOSED:
        item.status = WorkItemStatus.CLOSED
        item.closed_at = at
        item.outcome = withdrawal.words
        item.outcome_code = None
        item.updated_at = at
    return withdrawal
