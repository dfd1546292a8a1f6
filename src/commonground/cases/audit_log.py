"""The audit log as the data protection officer reads it: the entries newest first, searched by who, what, about
whom, when, outcome and break-glass; and the check of its hash chains. For the API (``/api/audit``) and the
DPO's pages (``/audit``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.models import AuditEvent, User
from commonground.access.resolver import Subject
from commonground.store.models import Organisation

UK = ZoneInfo("Europe/London")
AUDIT_LOG = Subject(kind=SubjectKind.AUDIT_LOG)


@dataclass(frozen=True)
class AuditSearch:
    """What to look for (empty: anything): the account's email, the action, the person, the UK days from and to
    (inclusive), the outcome ('allowed' or 'denied'), break-glass only, and entries before a place."""

    who: str = ""
    action: str = ""
    person: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    outcome: str = ""
    glass: bool = False
    before: int | None = None

    def statement(self, *, limit: int) -> Select[AuditEvent]:
        query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if self.before:
            query = query.where(AuditEvent.seq < self.before)
        if self.who:
            query = query.where(AuditEvent.actor == self.who.strip().lower())
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.person:
            query = query.where(AuditEvent.person_id == self.person.strip())
        if self.since:
            query = query.where(AuditEvent.occurred_at >= _start_of(self.since))
        if self.until:
            query = query.where(AuditEvent.occurred_at < _start_of(self.until + dt.timedelta(days=1)))
        if self.outcome in {"allowed", "denied"}:
            query = query.where(AuditEvent.outcome == self.outcome)
        if self.glass:
            query = query.where(AuditEvent.break_glass.is_(True))
        return query


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=UK).astimezone(dt.UTC)


def search(ctx: Context, search: AuditSearch, *, limit: int) -> list[AuditEvent]:
    """The entries that match, newest first, at most ``limit``."""
    ctx.require("view-audit", AUDIT_LOG)
    return list(ctx.db.scalars(search.statement(limit=limit)))


def events(
    ctx: Context,
    *,
    before_seq: int | None = None,
    limit: int = 100,
    person_id: str | None = None,
    action: str | None = None,
) -> list[AuditEvent]:
    """Newest first, with optional filters; page backwards with ``before_seq`` (the API's :func:`search`)."""
    return search(ctx, AuditSearch(person=person_id or "", action=action or "", before=before_seq), limit=limit)


def verify(ctx: Context) -> audit.Verification:
    """Walk every chain of the log and say what was edited, deleted or reordered."""
    ctx.require("verify-audit", AUDIT_LOG)
    return audit.verify_audit(ctx.db)


@dataclass(frozen=True)
class Names:
    """The words a page puts beside an entry's ids: every account's email, every organisation's name."""

    emails: list[str]
    organisations: dict[int, str]


def names(ctx: Context) -> Names:
    ctx.require("view-audit", AUDIT_LOG)
    return Names(
        emails=sorted(ctx.db.scalars(select(User.email))),
        organisations={o.id: o.name for o in ctx.db.scalars(select(Organisation).order_by(Organisation.name))},
    )
