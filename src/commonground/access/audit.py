"""The audit log: typed events, appended in the caller's transaction, hash-chained, verifiable.

The log is several hash chains (``audit_head`` holds one row per chain: its number, the place and hash of its last
entry). Each entry's hash is SHA-256 over the previous entry's hash in its chain and the entry's canonical JSON,
which includes its place in the chain. Appending takes the head of a chain that nobody else is appending to (on
PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at a time and so fills the first chain), advances it
and keeps it locked until the transaction ends: a chain never forks, a rolled-back transaction takes its entries
and the head's advance with it, and concurrent requests append side by side instead of queueing for one lock
that is held while each commit reaches the disk. :func:`verify_audit` walks every chain and names any entry that
was edited, deleted or reordered. To detect a rewrite of a whole chain after some entry, keep the anchor printed by
``commonground audit verify`` elsewhere and pass it back as ``expect``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from commonground.access.models import AuditEvent, AuditHead, BreakGlassReport
from commonground.store.db import utcnow

GENESIS = "0" * 64
CHAINS = 8
"""How many chains a new store has (migration 0007); :func:`verify_audit` checks every chain it finds."""
_TABLE = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_COLUMNS = tuple(c.key for c in _TABLE.columns if c.key != "seq")  # the database numbers entries


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
    chain: int
    chain_seq: int
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
    """The part of an entry the hash covers, as canonical JSON (sorted keys, no spaces): its place in its chain
    and everything it says. (Chain 1 leaves its number out: its first entries were written when it was the only
    chain, and keep the hashes they were written with.)"""
    content: dict[str, Any] = {
        "seq": row.chain_seq,
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
    if row.chain != 1:
        content["chain"] = row.chain
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, row: _Entry) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical_content(row)}".encode()).hexdigest()


def record(session: Session, event: Event, *, at: dt.datetime | None = None) -> AuditEvent:
    """Append one event in the session's transaction (committed or rolled back with the action it records)."""
    return record_many(session, [event], at=at)[0]


def record_many(session: Session, events: Sequence[Event], *, at: dt.datetime | None = None) -> list[AuditEvent]:
    """Append events in order, in the session's transaction, to one chain, advancing its head once. Returns the
    entries as written (not attached to the session)."""
    if not events:
        return []
    moment = at or utcnow()
    session.flush()  # the caller's own changes go first, before a head is locked
    # Plain statements from here to the commit (not the ORM's unit of work): the head stays locked until the
    # commit, so the less work between locking it and committing, the more appends a second.
    # On the session's connection, not through the ORM session: these are plain statements, and the ORM's
    # handling of each one cost more CPU than running it.
    connection = session.connection()
    take_free, take_any, insert_rows, set_hash = _statements()
    count = {"count": len(events)}
    head = connection.execute(take_free, count).first() or connection.execute(take_any, count).one()
    chain, place, prev_hash = head
    place -= len(events)
    rows: list[AuditEvent] = []
    for event in events:
        place += 1
        row = _row(event, chain=chain, place=place, at=moment, prev_hash=prev_hash)
        prev_hash = row.hash
        rows.append(row)
    values = [{c: getattr(row, c) for c in _COLUMNS} for row in rows]
    to_head = {"chain_id": chain, "new_hash": prev_hash}
    numbers: Sequence[int]
    if len(rows) == 1 and connection.dialect.name == "postgresql":  # one statement: one trip to the database
        entry = {f"e_{c}": v for c, v in values[0].items()}
        numbers = [connection.execute(_insert_and_set_hash(), entry | to_head).scalar_one()]
    else:
        numbers = connection.execute(insert_rows, values[0] if len(values) == 1 else values).scalars().all()
        connection.execute(set_hash, to_head)
    for event, row, seq in zip(events, rows, numbers, strict=True):
        row.seq = seq
        if event.break_glass and event.outcome == "allowed":
            _report_break_glass(session, event, row)
    return rows


@cache
def _statements() -> tuple[UpdateBase, UpdateBase, UpdateBase, UpdateBase]:
    """Take a chain's head (one nobody holds; failing that, any, waiting for it) and advance its place by
    ``count``; insert entries, numbered by the database; set the head's hash. Built once, with bound parameters
    (building a statement costs more CPU than running it)."""
    head = _HEAD.c
    free = select(head.id).order_by(head.id).limit(1).with_for_update(skip_locked=True).scalar_subquery()
    any_ = select(head.id).order_by(func.random()).limit(1).scalar_subquery()
    advance = {"seq": head.seq + bindparam("count", type_=Integer())}
    take_free = update(_HEAD).where(head.id == free).values(advance).returning(head.id, head.seq, head.hash)
    take_any = update(_HEAD).where(head.id == any_).values(advance).returning(head.id, head.seq, head.hash)
    set_hash = update(_HEAD).where(head.id == bindparam("chain_id")).values(hash=bindparam("new_hash"))
    insert_rows = insert(_TABLE).returning(_TABLE.c.seq, sort_by_parameter_order=True)
    return take_free, take_any, insert_rows, set_hash


@cache
def _insert_and_set_hash() -> UpdateBase:
    """PostgreSQL: insert one entry and set its chain's head hash in one statement (the insert as a CTE)."""
    entry = (
        insert(_TABLE)
        .values({c: bindparam(f"e_{c}", type_=_TABLE.c[c].type) for c in _COLUMNS})
        .returning(_TABLE.c.seq)
        .cte("entry")
    )
    head = _HEAD.c
    return (
        update(_HEAD)
        .where(head.id == bindparam("chain_id"))
        .values(hash=bindparam("new_hash"))
        .returning(select(entry.c.seq).scalar_subquery())
        .add_cte(entry)
    )


def _row(event: Event, *, chain: int, place: int, at: dt.datetime, prev_hash: str) -> AuditEvent:
    row = AuditEvent(
        chain=chain,
        chain_seq=place,
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
class Anchor:
    """Where every chain had got to, kept outside the database: each chain's place (chains 1, 2, ... in order) and
    one SHA-256 over the hashes of the entries at those places. Written ``3.0.12:<64 hex>``."""

    places: tuple[int, ...]
    digest: str

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.places) + ":" + self.digest

    @classmethod
    def parse(cls, text: str) -> Anchor:
        places, _, digest = text.strip().partition(":")
        parts = places.split(".")
        if not all(p.isdigit() for p in parts) or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("an anchor is PLACES:HASH, as printed by `commonground audit verify`")
        return cls(places=tuple(int(p) for p in parts), digest=digest)

    @classmethod
    def of(cls, hashes: Sequence[tuple[int, str]]) -> Anchor:
        """The anchor of each chain's (place, hash), chains 1, 2, ... in order."""
        digest = hashlib.sha256("\n".join(h for _, h in hashes).encode()).hexdigest()
        return cls(places=tuple(p for p, _ in hashes), digest=digest)


@dataclass(frozen=True)
class ChainHead:
    chain: int
    seq: int
    """The place of the chain's last entry (0: none yet)."""
    hash: str


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_audit` found: ``ok`` when every chain is whole; each problem names an entry."""

    checked: int
    heads: tuple[ChainHead, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def anchor(self) -> Anchor:
        """The anchor of the heads as they are now, to keep outside the database."""
        return Anchor.of([(h.seq, h.hash) for h in self.heads])


def verify_audit(session: Session, *, expect: Anchor | None = None, batch: int = 5_000) -> Verification:
    """Walk every chain; report every entry edited, deleted or reordered, and a head that does not match.

    ``expect`` is an anchor kept outside the database: the entries at its places must still be there, unchanged.
    """
    heads = {row.id: ChainHead(row.id, row.seq, row.hash) for row in session.execute(select(_HEAD)).all()}
    chains = sorted(set(heads) | set(session.scalars(select(AuditEvent.chain).distinct())))
    wanted = dict(enumerate(expect.places, start=1)) if expect is not None else {}
    at_anchor: dict[int, str] = {c: GENESIS for c, place in wanted.items() if place == 0}
    problems: list[str] = []
    checked = 0
    for chain in chains:
        prev_hash, expected = GENESIS, 1
        for row in _rows_of(session, chain, batch=batch):
            checked += 1
            problems.extend(_check_row(row, expected=expected, prev_hash=prev_hash))
            if wanted.get(chain) == row.chain_seq:
                at_anchor[chain] = row.hash
            prev_hash, expected = row.hash, row.chain_seq + 1
        head = heads.get(chain)
        if head is None:
            problems.append(f"chain {chain} has entries but no head row")
        elif (head.seq, head.hash) != (expected - 1, prev_hash):
            problems.append(
                f"chain {chain} ends at place {expected - 1} but its head says {head.seq}: "
                "entries were deleted or replaced"
            )
    if expect is not None:
        missing = [c for c in wanted if c not in at_anchor]
        if missing:
            problems.append(f"the anchored entries of chain {', '.join(map(str, missing))} are missing")
        elif Anchor.of([(wanted[c], at_anchor[c]) for c in sorted(wanted)]) != expect:
            problems.append("the entries anchored earlier are not there as they were (a chain was rewritten)")
    return Verification(checked=checked, heads=tuple(heads[c] for c in sorted(heads)), problems=tuple(problems))


def _check_row(row: _Entry, *, expected: int, prev_hash: str) -> list[str]:
    problems = []
    if row.chain_seq != expected:
        problems.append(
            f"chain {row.chain}: places {expected} to {row.chain_seq - 1} are missing (deleted?)"
            if row.chain_seq > expected
            else f"entry {row.seq} is out of place in chain {row.chain}"
        )
    if row.prev_hash != prev_hash:
        problems.append(f"entry {row.seq} does not follow the entry before it in its chain (deleted or reordered?)")
    if chain_hash(row.prev_hash, row) != row.hash:
        problems.append(f"entry {row.seq} was edited after it was written")
    return problems


def _rows_of(session: Session, chain: int, *, batch: int) -> Iterable[_Entry]:
    """One chain's entries in order, as plain rows (not ORM objects), a batch at a time, so that a long log
    does not fill the session."""
    columns = AuditEvent.__table__.columns
    last = -1
    while True:
        rows: Sequence[Any] = session.execute(
            select(*columns)
            .where(columns.chain == chain, columns.chain_seq > last)
            .order_by(columns.chain_seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].chain_seq


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
