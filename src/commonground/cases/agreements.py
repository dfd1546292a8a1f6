"""Data-sharing agreements as people read and keep them: everyone reads their own organisation's (the data
protection officer and administrators all of them), the data protection officer makes, changes and ends them.

Each operation takes the operation :class:`~commonground.access.context.Context`, authorises through the
resolver, acts through :mod:`commonground.access.agreements` (which writes the history row and the audit event)
and commits: the API (``/api/agreements``) and the DPO's pages (``/agreements``) both call these. A wrong agreement
is a :class:`~commonground.errors.UserError` whose ``field`` names the term it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from commonground.access import agreements as store
from commonground.access.actions import SubjectKind
from commonground.access.agreements import UK, AgreementSpec, in_force
from commonground.access.context import Context
from commonground.access.models import Agreement, AgreementVersion
from commonground.access.resolver import Subject
from commonground.errors import NotFound, UserError
from commonground.store.models import Organisation

REASON_NEEDED = "give the reason for ending the agreement"


def subject_of(agreement: Agreement) -> Subject:
    return Subject(kind=SubjectKind.AGREEMENT, id=str(agreement.id), organisation_id=agreement.organisation_id)


def visible_agreements(ctx: Context) -> list[Agreement]:
    """The agreements the person may read, by id."""
    rows = ctx.db.scalars(select(Agreement).order_by(Agreement.id))
    return [a for a in rows if ctx.check("view-agreements", subject_of(a)).allowed]


def visible_agreement(ctx: Context, *, agreement_id: int) -> Agreement:
    """One agreement the person may read; otherwise :class:`~commonground.errors.NotFound`, whether or not it
    exists."""
    agreement = ctx.db.get(Agreement, agreement_id)
    if agreement is None or not ctx.check("view-agreements", subject_of(agreement)).allowed:
        raise NotFound()
    return agreement


def agreement_history(ctx: Context, *, agreement_id: int) -> list[AgreementVersion]:
    """Every version of an agreement the person may read, oldest first."""
    return store.history_of(ctx.db, agreement_id=visible_agreement(ctx, agreement_id=agreement_id).id)


def _kept(ctx: Context, change: Callable[[], Agreement]) -> Agreement:
    """Run a change and commit it; a refused change is rolled back and raised."""
    try:
        changed = change()
    except UserError:
        ctx.db.rollback()
        raise
    ctx.db.commit()
    return changed


def make_agreement(ctx: Context, *, spec: AgreementSpec) -> Agreement:
    """Make an agreement (version 1): in force from its start date."""
    ctx.require("manage-agreements", Subject(kind=SubjectKind.AGREEMENT))
    by = ctx.me().actor
    return _kept(ctx, lambda: store.create_agreement(ctx.db, spec=spec, by=by))


def change_agreement(ctx: Context, *, agreement_id: int, spec: AgreementSpec, reason: str) -> Agreement:
    """Replace an agreement's terms (not its reference or organisation); the old terms stay in its history."""
    agreement = visible_agreement(ctx, agreement_id=agreement_id)
    ctx.require("manage-agreements", subject_of(agreement))
    by = ctx.me().actor
    return _kept(ctx, lambda: store.change_agreement(ctx.db, agreement=agreement, spec=spec, by=by, reason=reason))


def end_agreement(ctx: Context, *, agreement_id: int, reason: str) -> Agreement:
    """End an agreement now: access under it stops at once. The reason is kept as given (at least 3 characters)."""
    agreement = visible_agreement(ctx, agreement_id=agreement_id)
    ctx.require("manage-agreements", subject_of(agreement))
    by = ctx.me().actor
    if agreement.ended_at is None and (len(reason) < 3 or "\x00" in reason):
        raise UserError(REASON_NEEDED, field="reason")
    return _kept(ctx, lambda: store.end_agreement(ctx.db, agreement=agreement, by=by, reason=reason))


def agreements_ending_soon(ctx: Context, *, days: int = 30) -> list[tuple[Agreement, Organisation]]:
    """Agreements in force now whose end date falls within ``days``, with their organisation (for the data
    protection officer's home page: a count, nothing about anyone)."""
    today = ctx.now.astimezone(UK).date()
    rows = ctx.db.execute(
        select(Agreement, Organisation)
        .join(Organisation, Organisation.id == Agreement.organisation_id)
        .where(
            Agreement.ended_at.is_(None),
            Agreement.valid_until.is_not(None),
            Agreement.valid_until >= today,
            Agreement.valid_until <= today + dt.timedelta(days=days),
        )
        .order_by(Agreement.valid_until)
    ).all()
    return [(a, o) for a, o in rows if in_force(a, at=ctx.now)]
