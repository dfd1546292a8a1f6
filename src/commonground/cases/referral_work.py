"""Referrals as the people of the partnership work on them: read, made and stepped through the resolver.

A referral is seen only by the organisation that sent it and the organisation it is now sent to; anyone else is
answered "not found", as if it did not exist (and nothing is audited: there is nothing of theirs to refuse). Reading
one is identifiable: the resolver decides for the referral's purpose and the feeds of its flag's evidence, under
the reader's organisation's agreements. Only the organisation it is sent to takes its steps, as the state machine
of :mod:`commonground.cases.referrals` allows. Every read, step and refusal is audited in the caller's transaction
(a refusal is committed alone); nothing here commits otherwise.
"""

from __future__ import annotations

from sqlalchemy import func, select

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Decision, Subject
from commonground.cases.queue import open_work_item
from commonground.cases.reads import Shown, read_each
from commonground.cases.referrals import (
    NewReferral,
    Referral,
    ReferralStatus,
    Step,
    is_party,
    referrals_of,
    send_referral,
    subject_of,
    take_step,
)
from commonground.errors import NotFound

NOT_THE_RECEIVER = "only the organisation the referral is sent to can take its steps"
OPEN = frozenset({ReferralStatus.SENT, ReferralStatus.ACCEPTED})
"""A referral not yet finished."""


def open_referral(ctx: Context, *, referral_id: int, action: str) -> tuple[Referral, Decision, Subject]:
    """The referral, if the person's organisation is party to it and the resolver lets them take ``action`` on it:
    "not found" for a referral that is not theirs, the resolver's refusal (audited) otherwise. Nothing is audited
    when it is allowed."""
    me = ctx.me()
    referral = ctx.db.get(Referral, referral_id)
    if referral is None or not is_party(referral, me.organisation_id):
        raise NotFound()
    subject = subject_of(referral)
    decision = ctx.require(action, subject, purpose=referral.purpose)
    return referral, decision, subject


def read_referral(ctx: Context, *, referral_id: int) -> Referral:
    """Open one referral to show it, with its history, and audit the read."""
    referral, decision, subject = open_referral(ctx, referral_id=referral_id, action="view-referrals")
    ctx.audit_reads([(decision, subject)], purpose=referral.purpose)
    return referral


def read_referrals(
    ctx: Context,
    *,
    sent: bool = True,
    received: bool = True,
    status: ReferralStatus | None = None,
    open_only: bool = False,
    person_id: str | None = None,
    limit: int = 500,
    at_most: int | None = None,
) -> Shown[Referral]:
    """The newest ``limit`` referrals sent by or to the person's organisation (``sent``, ``received``), of one
    status, or only those not yet finished (``open_only``), or about one person: those the resolver lets the
    person read (at most ``at_most``) shown and audited, the others counted as withheld."""
    found = referrals_of(
        ctx.db,
        organisation_id=ctx.me().organisation_id,
        sent=sent,
        received=received,
        person_id=person_id,
        status=status,
        limit=limit,
    )
    if open_only:
        found = [r for r in found if r.status in OPEN]
    return read_each(
        ctx, "view-referrals", found, subject_of=subject_of, purpose_of=lambda r: r.purpose, at_most=at_most
    )


def make_referral(ctx: Context, *, work_item_id: int, new: NewReferral) -> Referral:
    """Refer the person of a work item the person may read (any refusal of it is "not found") to a partner:
    ``make-referral`` is checked for the new referral's person, feeds and purpose (by default the purpose of the
    work item's rule), then it is sent (:func:`commonground.cases.referrals.send_referral`)."""
    item, _, _ = open_work_item(ctx, item_id=work_item_id, not_found=True)
    subject = Subject(
        kind=SubjectKind.REFERRAL,
        organisation_id=new.to_organisation_id,
        person_id=item.person_id,
        feeds=item.evidence_feeds,
    )
    ctx.require("make-referral", subject, purpose=new.purpose or item.purpose)
    return send_referral(ctx.db, item=item, by=ctx.me().actor, new=new)


def open_for_handling(ctx: Context, *, referral_id: int) -> Referral:
    """A referral sent to the person's organisation that the resolver lets them handle: "not found" for one that
    is not their organisation's, a refusal (audited) for the sender or a refusal of the resolver."""
    referral, _, subject = open_referral(ctx, referral_id=referral_id, action="handle-referral")
    if referral.to_organisation_id != ctx.me().organisation_id:
        raise ctx.refuse_because("handle-referral", NOT_THE_RECEIVER, subject)
    return referral


def take_referral_step(
    ctx: Context, *, referral_id: int, step: Step, note: str | None = None, to_organisation_id: int | None = None
) -> Referral:
    """Take one step on a referral sent to the person's organisation (:func:`open_for_handling`), as the state
    machine allows; a step it does not allow, or without the note it needs, is a :class:`UserError`."""
    referral = open_for_handling(ctx, referral_id=referral_id)
    return take_step(
        ctx.db, referral=referral, step=step, by=ctx.me().actor, note=note, to_organisation_id=to_organisation_id
    )


def referrals_waiting(ctx: Context) -> int:
    """How many referrals sent to the person's organisation wait for an answer (a count, nothing about anyone)."""
    count = ctx.db.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.to_organisation_id == ctx.me().organisation_id, Referral.status == ReferralStatus.SENT)
    )
    return count or 0
