"""Partner organisations: add, change, list. Every change is audited in the caller's transaction.

The checked operations (:func:`add_organisation`, :func:`organisations`, :func:`organisation`) take the operation
:class:`~commonground.access.context.Context`: the API and the administrator's pages both call them.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.audit import Actor
from commonground.access.context import Context
from commonground.access.resolver import Subject
from commonground.errors import NotFound, UserError
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_URN = re.compile(r"^\d{6}$")


def create_organisation(
    session: Session, *, code: str, name: str, type: OrganisationType, by: Actor, urn: str | None = None
) -> Organisation:
    """Add a partner organisation. A school needs its six-digit URN; no other kind of organisation has one."""
    if not _CODE.match(code):
        raise UserError("an organisation code is 1-40 letters, digits, '-' or '_'", field="code")
    if not name.strip():
        raise UserError("an organisation needs a name", field="name")
    if type is OrganisationType.SCHOOL:
        if urn is None or not _URN.match(urn):
            raise UserError("a school needs its URN (6 digits)", field="urn")
    elif urn is not None:
        raise UserError("only a school has a URN", field="urn")
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise UserError(f"an organisation with code {code!r} already exists", field="code")
    if urn is not None and session.scalar(select(Organisation.id).where(Organisation.urn == urn)) is not None:
        raise UserError(f"a school with URN {urn} already exists", field="urn")
    organisation = Organisation(code=code, name=name.strip(), type=type, urn=urn, active=True)
    session.add(organisation)
    session.flush()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="manage-organisations",
            subject_type="organisation",
            subject_id=str(organisation.id),
            detail={"change": "created", "code": code, "type": type.value},
        ),
    )
    return organisation


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def organisation_by_code(session: Session, code: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.code == code))


def organisation_for_route(session: Session, *, type: OrganisationType, code: str | None) -> Organisation | None:
    """The organisation a flag is routed to: by code (for a school, its code or URN); with no code, the only
    active organisation of that type, or None when there is none or more than one."""
    query = select(Organisation).where(Organisation.type == type, Organisation.active.is_(True))
    if code is not None:
        match = session.scalar(query.where(Organisation.code == code))
        if match is None and type is OrganisationType.SCHOOL:
            match = session.scalar(query.where(Organisation.urn == code))
        return match
    candidates = list(session.scalars(query.limit(2)))
    return candidates[0] if len(candidates) == 1 else None


# --- the checked operations ---------------------------------------------------------------------------------------

ORGANISATIONS = Subject(kind=SubjectKind.ORGANISATION)


def organisations(ctx: Context) -> list[Organisation]:
    """Every partner organisation, by name."""
    ctx.require("view-organisations", ORGANISATIONS)
    return list_organisations(ctx.db)


def organisation(ctx: Context, *, organisation_id: int) -> Organisation:
    """One partner organisation, or :class:`~commonground.errors.NotFound`."""
    ctx.require("view-organisations", ORGANISATIONS)
    found = ctx.db.get(Organisation, organisation_id)
    if found is None:
        raise NotFound()
    return found


def add_organisation(
    ctx: Context, *, code: str, name: str, type: OrganisationType, urn: str | None = None
) -> Organisation:
    """Add a partner organisation, audited and committed; a wrong one is a :class:`UserError` naming its field."""
    ctx.require("manage-organisations", ORGANISATIONS)
    try:
        created = create_organisation(ctx.db, code=code, name=name, type=type, urn=urn, by=ctx.me().actor)
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return created
