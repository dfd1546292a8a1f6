"""The audit log: typed events, appended in the caller's transaction, hash-chained, verifiable.

Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON. Appending first
updates the single head row (which locks it on PostgreSQL and takes SQLite's write lock), so concurrent writers
queue and the chain never forks; a rolled-back transaction takes its events and the head's advance with it.
:func:`verify_audit` walks the chain and names any entry that was edited, deleted or reordered. To detect a
rewrite of the whole chain after some entry, keep the head printed by ``commonground audit verify`` elsewhere
and pass it back as ``expect``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from commonground.access.models import AuditEvent, AuditHead, BreakGlassReport
from commonground.hub.db import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
_TABLE = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_COLUMNS = tuple(_TABLE.columns.keys())


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in person (with organisation and role), anonymous, or a stage of the system."""

    label: str
    user_id: int | None = None
    organisation_id: int | None = None
    role: str | None = None


ANONYMOUS = Actor(label="anonymous")
RULES_STAGE = Actor(label="system:rules")


@dataclass(frozen=True)
class Event:
    """A typed audit event: who (actor, organisation, role), why (purpose, reason), what (action, subject)."""

    actor: Actor
    action: str
    subject_type: str
    outcome: Literal["allowed", "denied"] = "allowed"
    subject_id: str | None = None
    person_id: str | None = None
    purpose: str | None = None
    break_glass: bool = False
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Entry(Protocol):
    seq: int
    occurred_at: dt.datetime
    actor_user_id: int | None
    actor: str
    organisation_id: int | None
    role: str | None
    purpose: str | None
    action: str
    outcome: str
    subject_type: str
    subject_id: str | None
    person_id: str | None
    break_glass: bool
    reason: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_content(row: _Entry) -> str:
    """The part of an entry the hash covers, as canonical JSON (sorted keys, no spaces)."""
    content = {
        "seq": row.seq,
        "occurred_at": _stamp(row.occurred_at),
        "actor_user_id": row.actor_user_id,
        "actor": row.actor,
        "organisation_id": row.organisation_id,
        "role": row.role,
        "purpose": row.purpose,
        "action": row.action,
        "outcome": row.outcome,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "person_id": row.person_id,
        "break_glass": bool(row.break_glass),
        "reason": row.reason,
        "detail": row.detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, row: _Entry) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical_content(row)}".encode()).hexdigest()


def record(session: Session, event: Event, *, at: dt.datetime | None = None) -> AuditEvent:
    """Append one event in the session's transaction (committed or rolled back with the action it records)."""
    return record_many(session, [event], at=at)[0]


def record_many(session: Session, events: Sequence[Event], *, at: dt.datetime | None = None) -> list[AuditEvent]:
    """Append events in order, in the session's transaction, advancing the chain's head once. Returns the entries
    as written (not attached to the session)."""
    if not events:
        return []
    moment = at or utcnow()
    session.flush()  # the caller's own changes go first, before the head is locked
    # Plain statements from here to the commit (not the ORM's unit of work): the head stays locked until the
    # commit, so the less work between locking it and committing, the more appends a second.
    lock, insert_rows, set_hash = _statements()
    head_seq, prev_hash = session.execute(lock, {"count": len(events)}).one()
    seq = head_seq - len(events)
    rows: list[AuditEvent] = []
    for event in events:
        seq += 1
        row = _row(event, seq=seq, at=moment, prev_hash=prev_hash)
        prev_hash = row.hash
        rows.append(row)
    values = [{c: getattr(row, c) for c in _COLUMNS} for row in rows]
    session.execute(insert_rows, values[0] if len(values) == 1 else values)
    session.execute(set_hash, {"new_hash": prev_hash})
    for event, row in zip(events, rows, strict=True):
        if event.break_glass and event.outcome == "allowed":
            _report_break_glass(session, event, row)
    return rows


@cache
def _statements() -> tuple[UpdateBase, UpdateBase, UpdateBase]:
    """Lock the head and advance its sequence number by ``count``; insert entries; set the head's hash. Built
    once, with bound parameters (building a statement costs more CPU than running it)."""
    head = _HEAD.c
    lock = (
        update(_HEAD)
        .where(head.id == HEAD_ID)
        .values(seq=head.seq + bindparam("count", type_=Integer()))
        .returning(head.seq, head.hash)
    )
    set_hash = update(_HEAD).where(head.id == HEAD_ID).values(hash=bindparam("new_hash"))
    return lock, insert(_TABLE), set_hash


def _row(event: Event, *, seq: int, at: dt.datetime, prev_hash: str) -> AuditEvent:
    row = AuditEvent(
        seq=seq,
        occurred_at=at.astimezone(dt.UTC),
        actor_user_id=event.actor.user_id,
        actor=event.actor.label,
        organisation_id=event.actor.organisation_id,
        role=event.actor.role,
        purpose=event.purpose,
        action=event.action,
        outcome=event.outcome,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        person_id=event.person_id,
        break_glass=event.break_glass,
        reason=event.reason,
        detail=json.loads(json.dumps(event.detail, sort_keys=True, default=str)),
        prev_hash=prev_hash,
    )
    row.hash = chain_hash(prev_hash, row)
    return row


def _report_break_glass(session: Session, event: Event, row: AuditEvent) -> None:
    if event.actor.user_id is None or event.actor.organisation_id is None or not event.reason:
        raise ValueError("a break-glass access needs a signed-in person and a reason")
    session.add(
        BreakGlassReport(
            audit_seq=row.seq,
            user_id=event.actor.user_id,
            organisation_id=event.actor.organisation_id,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            reason=event.reason,
            occurred_at=row.occurred_at,
        )
    )


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_audit` found: ``ok`` when the chain is whole; each problem names an entry."""

    checked: int
    head_seq: int
    head_hash: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit(session: Session, *, expect: tuple[int, str] | None = None, batch: int = 5_000) -> Verification:
    """Walk the whole chain; report every entry edited, deleted or reordered, and a head that does not match.

    ``expect`` is an anchor kept outside the database (sequence number, hash) that the chain must still contain.
    """
    problems: list[str] = []
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    anchor_seen = False
    for row in _rows_in_order(session, batch=batch):
        checked += 1
        problems.extend(_check_row(row, expected_seq=expected_seq, prev_hash=prev_hash))
        if expect is not None and row.seq == expect[0]:
            anchor_seen = True
            if row.hash != expect[1]:
                problems.append(f"entry {row.seq} is not the entry anchored earlier (its hash differs)")
        prev_hash, expected_seq = row.hash, row.seq + 1
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (-1, "")
    if head is None:
        problems.append("the audit head row is missing")
    elif head_seq != expected_seq - 1 or head_hash != prev_hash:
        problems.append(
            f"the log ends at entry {expected_seq - 1} but its head says {head_seq}: entries were deleted or replaced"
        )
    if expect is not None and not anchor_seen:
        problems.append(f"anchored entry {expect[0]} is missing")
    return Verification(checked=checked, head_seq=head_seq, head_hash=head_hash, problems=tuple(problems))


def _check_row(row: _Entry, *, expected_seq: int, prev_hash: str) -> list[str]:
    problems = []
    if row.seq != expected_seq:
        problems.append(f"entries {expected_seq} to {row.seq - 1} are missing (deleted?)")
    if row.prev_hash != prev_hash:
        problems.append(f"entry {row.seq} does not follow the entry before it (deleted or reordered?)")
    if chain_hash(row.prev_hash, row) != row.hash:
        problems.append(f"entry {row.seq} was edited after it was written")
    return problems


def _rows_in_order(session: Session, *, batch: int) -> Iterable[_Entry]:
    """Plain rows (not ORM objects), a batch at a time, so a long log does not fill the session."""
    columns = AuditEvent.__table__.columns
    last = 0
    while True:
        rows: Sequence[Any] = session.execute(
            select(*columns).where(columns.seq > last).order_by(columns.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def list_events(
    session: Session,
    *,
    before_seq: int | None = None,
    limit: int = 100,
    person_id: str | None = None,
    action: str | None = None,
    actor_user_id: int | None = None,
) -> list[AuditEvent]:
    """Newest first, with optional filters; page backwards with ``before_seq``."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    if person_id is not None:
        query = query.where(AuditEvent.person_id == person_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    return list(session.scalars(query))
