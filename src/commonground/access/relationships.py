"""People's relationships to organisations: a pupil on a school's roll, a case routed to an organisation.

Agreements that cover only "own pupils" or "own cases" are checked against these rows. Work items add the
"own cases" rows themselves (:func:`commonground.cases.work_items.upsert_work_items`); the linkage build adds the
pupils from the school roll through :func:`record_relationship`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, bindparam, or_, select
from sqlalchemy.orm import Session

from commonground.access.agreements import About
from commonground.access.models import PersonRelationship
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
