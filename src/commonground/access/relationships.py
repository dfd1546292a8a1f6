"""People's relationships to organisations: a pupil on a school's roll, a case routed to an organisation, and
records shared with an organisation one by one.

Agreements that cover only "own pupils" or "own cases" are checked against these rows. Work items add the
"own cases" rows themselves (:func:`commonground.cases.work_items.upsert_work_items`); the linkage build adds the
pupils from the school roll through :func:`record_relationship`.

A referral makes no relationship: it shares the records its sender chose (:func:`share_records`), for its purpose,
while it is with the partner. The partner's agreement about its own cases then opens those records for that
purpose and nothing else of the person (#16, #17); :func:`end_shares` ends them when the referral leaves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, bindparam, or_, select
from sqlalchemy.orm import Session

from commonground.access.agreements import About
from commonground.access.models import PersonRelationship, RecordShare
from commonground.access.purposes import Purpose
from commonground.store.db import UTCDateTime, utcnow

KIND_OF = {About.OWN_PUPILS: "pupil", About.OWN_CASES: "case"}
ABOUT_OF = {kind: about for about, kind in KIND_OF.items()}


def record_relationship(
    session: Session,
    *,
    person_id: str,
    organisation_id: int,
    about: About,
    source: str,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
) -> PersonRelationship:
    """Add (or refresh the dates of) one relationship; ``source`` says where it came from (a build, a work item)."""
    if about is About.EVERYONE:
        raise ValueError("'everyone' is not a relationship to record")
    kind = KIND_OF[about]
    row = session.scalar(
        select(PersonRelationship).where(
            PersonRelationship.person_id == person_id,
            PersonRelationship.organisation_id == organisation_id,
            PersonRelationship.kind == kind,
            PersonRelationship.source == source,
        )
    )
    if row is None:
        row = PersonRelationship(person_id=person_id, organisation_id=organisation_id, kind=kind, source=source)
        session.add(row)
    row.valid_from = valid_from or utcnow()
    row.valid_until = valid_until
    return row


def end_relationship(
    session: Session, *, person_id: str, organisation_id: int, about: About, source: str, at: dt.datetime
) -> None:
    """End one relationship at ``at`` (it stays, with its dates, as a record of what was in force when)."""
    row = session.scalar(
        select(PersonRelationship).where(
            PersonRelationship.person_id == person_id,
            PersonRelationship.organisation_id == organisation_id,
            PersonRelationship.kind == KIND_OF[about],
            PersonRelationship.source == source,
        )
    )
    if row is not None and (row.valid_until is None or row.valid_until > at):
        row.valid_until = at


def relationships_of(session: Session, *, person_id: str, organisation_id: int, at: dt.datetime) -> frozenset[About]:
    """The relationships in force between a person and an organisation at ``at``."""
    kinds = session.scalars(
        _in_force_statement(), {"person_id": person_id, "organisation_id": organisation_id, "at": at}
    )
    return frozenset(ABOUT_OF[kind] for kind in kinds if kind in ABOUT_OF)


def relationships_of_each(
    session: Session, *, person_ids: Sequence[str], organisation_id: int, at: dt.datetime
) -> dict[str, frozenset[About]]:
    """:func:`relationships_of` for several people, in one statement."""
    table = cast(Table, PersonRelationship.__table__)
    rows = session.execute(
        select(table.c.person_id, table.c.kind).where(
            table.c.person_id.in_(list(person_ids)),
            table.c.organisation_id == organisation_id,
            table.c.valid_from <= at,
            or_(table.c.valid_until.is_(None), table.c.valid_until > at),
        )
    )
    found: dict[str, set[About]] = {}
    for person_id, kind in rows:
        if kind in ABOUT_OF:
            found.setdefault(person_id, set()).add(ABOUT_OF[kind])
    return {p: frozenset(found.get(p, ())) for p in person_ids}


SharedRecords = Mapping[Purpose, frozenset[tuple[str, str]]]
"""Per purpose, the records ``(feed, record_id)`` of a person shared with an organisation."""


def share_records(
    session: Session,
    *,
    person_id: str,
    organisation_id: int,
    purpose: Purpose,
    records: Iterable[tuple[str, str]],
    source: str,
    source_ref: str,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
) -> None:
    """Share ``records`` of a person with an organisation for ``purpose`` from ``valid_from`` to ``valid_until``
    (added, or their dates refreshed when ``source`` and ``source_ref`` shared them with it before)."""
    existing = {
        (row.feed, row.record_id): row
        for row in session.scalars(
            select(RecordShare).where(
                RecordShare.organisation_id == organisation_id,
                RecordShare.source == source,
                RecordShare.source_ref == source_ref,
            )
        )
    }
    for feed, record_id in sorted(set(records)):
        row = existing.get((feed, record_id))
        if row is None:
            row = RecordShare(
                person_id=person_id,
                organisation_id=organisation_id,
                feed=feed,
                record_id=record_id,
                source=source,
                source_ref=source_ref,
            )
            session.add(row)
        row.purpose = purpose.value
        row.valid_from = valid_from
        row.valid_until = valid_until


def end_shares(session: Session, *, organisation_id: int, source: str, source_ref: str, at: dt.datetime) -> None:
    """End at ``at`` what ``source_ref`` shared with an organisation (the rows stay, with their dates, as a record of
    what was open to whom and when)."""
    for row in session.scalars(
        select(RecordShare).where(
            RecordShare.organisation_id == organisation_id,
            RecordShare.source == source,
            RecordShare.source_ref == source_ref,
        )
    ):
        if row.valid_until is None or row.valid_until > at:
            row.valid_until = at


def shared_with(session: Session, *, person_id: str, organisation_id: int, at: dt.datetime) -> SharedRecords:
    """The records of a person shared with an organisation and in force at ``at``, per purpose."""
    found: dict[Purpose, set[tuple[str, str]]] = {}
    for purpose, feed, record_id in session.execute(
        _shares_statement(), {"person_id": person_id, "organisation_id": organisation_id, "at": at}
    ):
        found.setdefault(Purpose(purpose), set()).add((feed, record_id))
    return {purpose: frozenset(records) for purpose, records in found.items()}


@cache
def _shares_statement() -> Select[str, str, str]:
    table = cast(Table, RecordShare.__table__)
    at = bindparam("at", type_=UTCDateTime())
    return select(table.c.purpose, table.c.feed, table.c.record_id).where(
        table.c.person_id == bindparam("person_id"),
        table.c.organisation_id == bindparam("organisation_id"),
        table.c.valid_from <= at,
        or_(table.c.valid_until.is_(None), table.c.valid_until > at),
    )


@cache
def _in_force_statement() -> Select[str]:
    """Built once, with bound parameters: every identifiable request runs it, and building a statement costs more
    CPU than running it."""
    table = cast(Table, PersonRelationship.__table__)
    at = bindparam("at", type_=UTCDateTime())
    return select(table.c.kind).where(
        table.c.person_id == bindparam("person_id"),
        table.c.organisation_id == bindparam("organisation_id"),
        table.c.valid_from <= at,
        or_(table.c.valid_until.is_(None), table.c.valid_until > at),
    )
