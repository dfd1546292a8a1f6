"""Work items: flags from the rules stage, routed to an organisation and a role, with a deadline.

The rules stage calls :func:`upsert_work_items` with its flag records after each build. A flag is identified by
its person, rule, destination (organisation and role) and episode: a flag seen before, on any earlier build and
whatever became of its work item, is never made twice; new evidence is added to the existing item. A rule that
wants a fresh item for a new occurrence (each domestic-abuse incident, say) gives each occurrence its own
``episode``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.agreements import About
from commonground.access.audit import RULES_STAGE, Actor
from commonground.access.purposes import Purpose
from commonground.access.relationships import record_relationship
from commonground.access.resolver import Subject
from commonground.access.roles import Role
from commonground.cases.organisations import organisation_for_route
from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum
from commonground.store.organisation_types import OrganisationType


class WorkItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Rating(StrEnum):
    """A work item's RAG rating: its priority, as the rules raised it (the routing pack's usual rating for the flag,
    moved one step by the flag's own reasons). The timescale follows from it; the time left is a separate matter."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        """0 for red, 1 for amber, 2 for green: the queue's order."""
        return list(Rating).index(self)


class Outcome(StrEnum):
    """What came of a closed work item, coded so that closed work can teach the rules (issue #20): the share of a
    rule's judged flags that were a real concern is its positive predictive value in the world."""

    ACTION_TAKEN = "action_taken"
    ALREADY_KNOWN = "already_known"
    NO_CONCERN = "no_concern"
    WRONG_PERSON = "wrong_person"
    NOT_ENOUGH_INFORMATION = "not_enough_information"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self][0]

    @property
    def hint(self) -> str:
        return OUTCOME_LABELS[self][1]

    @property
    def confirms_concern(self) -> bool | None:
        """Whether the flag pointed at a real concern: ``None`` when the outcome does not judge the rule (the
        records were not one person, or there was too little to go on)."""
        return {Outcome.ACTION_TAKEN: True, Outcome.ALREADY_KNOWN: True, Outcome.NO_CONCERN: False}.get(self)


OUTCOME_LABELS: dict[Outcome, tuple[str, str]] = {
    Outcome.ACTION_TAKEN: (
        "Action taken",
        "The concern was real and something was done (a referral, a visit, a plan).",
    ),
    Outcome.ALREADY_KNOWN: (
        "Already known and being worked",
        "The concern was real, and a team already had it in hand.",
    ),
    Outcome.NO_CONCERN: ("No concern found", "Looked into: the flag did not point at a real concern."),
    Outcome.WRONG_PERSON: (
        "Wrong person",
        "The records behind the flag are not all the same person. The link is sent for review and the records are "
        "held apart until it is decided.",
    ),
    Outcome.NOT_ENOUGH_INFORMATION: (
        "Not enough information",
        "There was too little to tell whether the concern was real.",
    ),
}
"""Each outcome's words on the close form: a label and a hint."""


class WorkItem(Base):
    """A flag routed to an organisation and role, with its deadline and evidence. ``flag_key`` identifies the flag
    across builds (person, rule, destination, episode), so a flag seen before is never made twice."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_queue", "organisation_id", "role", "status", "due_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_key: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(40))
    episode: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    due_by: Mapped[dt.datetime]
    rating: Mapped[Rating | None] = mapped_column(str_enum(Rating))
    """The RAG rating the rules gave the flag (none for a school's notice, or an item made before ratings)."""
    rating_reason: Mapped[str | None] = mapped_column(Text)
    """Why it has that rating, in words ("Red: usually amber; raised one step because ...")."""
    evidence: Mapped[list[str]]
    status: Mapped[WorkItemStatus] = mapped_column(str_enum(WorkItemStatus), default=WorkItemStatus.OPEN)
    assigned_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    outcome_code: Mapped[Outcome | None] = mapped_column(str_enum(Outcome))
    """The coded outcome of a closed item (items closed before codes existed have none)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    @property
    def evidence_feeds(self) -> frozenset[str]:
        return frozenset(evidence.split(":", 1)[0] for evidence in self.evidence)


def subject_of(item: WorkItem) -> Subject:
    """The work item as the resolver sees it: routed to an organisation and a role, about a person, from the feeds
    of its evidence."""
    return Subject(
        kind=SubjectKind.WORK_ITEM,
        id=str(item.id),
        organisation_id=item.organisation_id,
        role=item.role,
        person_id=item.person_id,
        feeds=item.evidence_feeds,
    )


class RouteTo(BaseModel):
    """Where a flag goes: a kind of organisation and a role; ``organisation`` picks one organisation by its code
    (a school by its URN), and may be left out only when the partnership has one organisation of that kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    organisation_type: OrganisationType
    role: Role
    organisation: str | None = None


class FlagRecord(BaseModel):
    """One flag as the rules stage hands it over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str = Field(min_length=1, max_length=64)
    rule_id: str = Field(min_length=1, max_length=100)
    rule_version: str = Field(min_length=1, max_length=40)
    route_to: RouteTo
    due_by: AwareDatetime
    evidence_ids: tuple[str, ...] = Field(min_length=1, description="'feed:record_id' for each evidence record")
    purpose: Purpose
    episode: str = Field(default="", max_length=200)
    rating: Rating | None = None
    """The flag's RAG rating (none for a flag whose deadline is not rated, such as a school's notice)."""
    rating_reason: str | None = Field(default=None, max_length=1_000)
    """Why it has that rating, in words."""
    raised_at: AwareDatetime | None = None
    """When the rule raised the flag (the rules run's as-of moment): a new item is in the queue from then, not from
    the moment the hub happened to sync. Left out, the item is in the queue from now."""

    @field_validator("evidence_ids")
    @classmethod
    def _evidence_names_its_feed(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        for evidence in ids:
            feed, _, record = evidence.partition(":")
            if feed not in FEEDS or not record:
                raise ValueError(f"evidence {evidence!r} is not 'feed:record_id' with a known feed")
        return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class UpsertResult:
    created: int
    already_seen: int
    evidence_added: int
    unroutable: tuple[FlagRecord, ...]


def flag_key(flag: FlagRecord, *, organisation_id: int) -> str:
    identity = [flag.person_id, flag.rule_id, organisation_id, flag.route_to.role.value, flag.episode]
    return hashlib.sha256(json.dumps(identity, separators=(",", ":")).encode()).hexdigest()


def upsert_work_items(
    session: Session,
    flags: Iterable[FlagRecord | Mapping[str, Any]],
    *,
    by: Actor = RULES_STAGE,
    now: dt.datetime | None = None,
) -> UpsertResult:
    """Turn flag records into work items, in the caller's transaction: new flags become open items (each audited,
    with a relationship "own case" between the person and the organisation); flags seen before only add new
    evidence. Flags whose destination cannot be found are returned as ``unroutable``, not guessed. A new item is
    in the queue from the moment its rule raised it (``raised_at``, never later than now); the audit log and
    ``updated_at`` keep the real clock. ``now``: the service's clock when it is not the real one (a demo moved on:
    its items are raised at moments the real clock has not reached)."""
    records = [f if isinstance(f, FlagRecord) else FlagRecord.model_validate(f) for f in flags]
    keyed: dict[str, tuple[FlagRecord, int]] = {}
    unroutable: list[FlagRecord] = []
    destinations: dict[tuple[OrganisationType, str | None], int | None] = {}
    for record in records:
        route = (record.route_to.organisation_type, record.route_to.organisation)
        if route not in destinations:
            found = organisation_for_route(session, type=route[0], code=route[1])
            destinations[route] = found.id if found is not None else None
        organisation_id = destinations[route]
        if organisation_id is None:
            unroutable.append(record)
            continue
        keyed.setdefault(flag_key(record, organisation_id=organisation_id), (record, organisation_id))
    existing = _existing(session, list(keyed))
    now = now or utcnow()
    created, added = [], 0
    for key, (record, organisation_id) in keyed.items():
        item = existing.get(key)
        if item is not None:
            added += _add_evidence(item, record, now=now)
            continue
        item = _new_item(key, record, organisation_id=organisation_id, now=now)
        session.add(item)
        created.append(item)
        record_relationship(
            session,
            person_id=record.person_id,
            organisation_id=organisation_id,
            about=About.OWN_CASES,
            source="work_items",
        )
    session.flush()
    audit.record_many(session, [_created_event(item, by=by) for item in created])
    return UpsertResult(
        created=len(created),
        already_seen=len(records) - len(unroutable) - len(created),
        evidence_added=added,
        unroutable=tuple(unroutable),
    )


def _existing(session: Session, keys: list[str]) -> dict[str, WorkItem]:
    found: dict[str, WorkItem] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            (item.flag_key, item) for item in session.scalars(select(WorkItem).where(WorkItem.flag_key.in_(chunk)))
        )
    return found


def _new_item(key: str, record: FlagRecord, *, organisation_id: int, now: dt.datetime) -> WorkItem:
    return WorkItem(
        flag_key=key,
        person_id=record.person_id,
        rule_id=record.rule_id,
        rule_version=record.rule_version,
        episode=record.episode,
        organisation_id=organisation_id,
        role=record.route_to.role,
        purpose=record.purpose,
        due_by=record.due_by,
        rating=record.rating,
        rating_reason=record.rating_reason,
        evidence=list(record.evidence_ids),
        status=WorkItemStatus.OPEN,
        created_at=min(record.raised_at, now) if record.raised_at is not None else now,
        updated_at=now,
    )


def _add_evidence(item: WorkItem, record: FlagRecord, *, now: dt.datetime) -> int:
    new = [e for e in record.evidence_ids if e not in item.evidence]
    if new:
        item.evidence = [*item.evidence, *new]
        item.rule_version = record.rule_version
        item.updated_at = now
    return len(new)


def _created_event(item: WorkItem, *, by: Actor) -> audit.Event:
    return audit.Event(
        actor=by,
        action="create-work-item",
        subject_type="work_item",
        subject_id=str(item.id),
        person_id=item.person_id,
        purpose=item.purpose.value,
        detail={
            "rule_id": item.rule_id,
            "rule_version": item.rule_version,
            "organisation_id": item.organisation_id,
            "rating": item.rating.value if item.rating else None,
        },
    )


TRANSITIONS: dict[WorkItemStatus, frozenset[WorkItemStatus]] = {
    WorkItemStatus.OPEN: frozenset({WorkItemStatus.IN_PROGRESS, WorkItemStatus.CLOSED}),
    WorkItemStatus.IN_PROGRESS: frozenset({WorkItemStatus.OPEN, WorkItemStatus.CLOSED}),
    WorkItemStatus.CLOSED: frozenset(),
}
"""The allowed moves of a work item's status, in one place."""


def update_work_item(
    session: Session,
    *,
    item: WorkItem,
    by: Actor,
    status: WorkItemStatus | None = None,
    assigned_to_user_id: int | None = None,
    outcome: str | None = None,
    outcome_code: Outcome | None = None,
    purpose: Purpose,
) -> WorkItem:
    """Move a work item (claim, assign, close with an outcome in words and a coded one); refused moves are a
    :class:`UserError`."""
    changes: dict[str, Any] = {}
    if status is not None and status != item.status:
        if status not in TRANSITIONS[item.status]:
            raise UserError(f"a work item cannot go from {item.status.value} to {status.value}")
        if status is WorkItemStatus.CLOSED and not (outcome or "").strip():
            raise UserError("closing a work item needs an outcome", field="outcome")
        if status is WorkItemStatus.CLOSED and outcome_code is None:
            raise UserError("closing a work item needs a coded outcome", field="outcome_code")
        item.status = status
        item.closed_at = utcnow() if status is WorkItemStatus.CLOSED else None
        item.outcome_code = outcome_code if status is WorkItemStatus.CLOSED else None
        changes["status"] = status.value
        if outcome_code is not None and status is WorkItemStatus.CLOSED:
            changes["outcome_code"] = outcome_code.value
    if assigned_to_user_id is not None and assigned_to_user_id != item.assigned_to_user_id:
        item.assigned_to_user_id = assigned_to_user_id
        changes["assigned_to_user_id"] = assigned_to_user_id
    if outcome is not None and outcome.strip():
        item.outcome = outcome.strip()
        changes["outcome"] = "recorded"
    if changes:
        item.updated_at = utcnow()
        audit.record(
            session,
            audit.Event(
                actor=by,
                action="update-work-item",
                subject_type="work_item",
                subject_id=str(item.id),
                person_id=item.person_id,
                purpose=purpose.value,
                detail=changes,
            ),
        )
    return item
