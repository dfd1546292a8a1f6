"""Referrals as the people of the partnership work on them: read, made and stepped through the resolver.

A referral is seen only by the organisation that sent it and the organisation it is now sent to; anyone else is
answered "not found", as if it did not exist (and nothing is audited: there is nothing of theirs to refuse). Reading
one is identifiable: the resolver decides for the referral's purpose and the feeds of the records it shares, under
the reader's organisation's agreements.

Making one: the sender chooses the partner and the purpose among those that can work (:func:`referral_options`:
a partner with an agreement that could receive some record for the purpose; no school for an adult), then the
records to share, one by one, among those they may open and the partner could receive (:func:`shareable_records`),
from a flag or from the person's page. Only the organisation it is sent to takes its steps, as the state machine
of :mod:`commonground.cases.referrals` allows. Every read, step and refusal is audited in the caller's transaction
(a refusal is committed alone); nothing here commits otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from commonground.access.actions import SubjectKind
from commonground.access.agreements import About
from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases import people
from commonground.cases.inferences import Openings
from commonground.cases.person_view import PersonView
from commonground.cases.queue import open_work_item
from commonground.cases.reads import Shown, read_each
from commonground.cases.referrals import (
    NewReferral,
    Referral,
    ReferralStatus,
    Step,
    is_party,
    overdue_for,
    partners,
    referrals_of,
    send_referral,
    subject_of,
    take_step,
)
from commonground.cases.work_items import WorkItem
from commonground.errors import NotFound, UserError
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType

ADULT = 18
"""From this age a person is an adult, and no school is offered as a recipient (#17)."""

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


@dataclass(frozen=True)
class Shareable:
    """A record of the person the sender could share: from the flag's evidence or the rest of the record."""

    feed: str
    record_id: str
    at: dt.datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    """The record's details as the sender may see them."""
    behind_flag: bool = False
    what: str | None = None
    """What the flag's rule found in it, in words (for a record behind the flag)."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.feed, self.record_id)


@dataclass(frozen=True)
class Option:
    """A partner a referral can go to, and the purposes for which it could receive some of the records."""

    organisation: Organisation
    purposes: list[Purpose]


def _records(view: PersonView | None, item: WorkItem | None, person_id: str, openings: Openings) -> list[Shareable]:
    """The person's records the openings show, those behind the flag first; without a published view, the flag's
    evidence records the openings show (what the work item already holds)."""
    if view is None:
        evidence = {e.partition(":")[::2] for e in (item.evidence if item is not None else [])}
        return [Shareable(f, r, behind_flag=True) for f, r in sorted(evidence) if openings.shows(f, r)]
    behind: dict[tuple[str, str], str] = {}
    if item is not None:
        for result in view.rule_results(person_id, feeds=None):
            for e in result.evidence if result.rule_id == item.rule_id else ():
                if e.via_person_id in (None, person_id) and openings.shows(e.feed, e.record_id):
                    behind.setdefault((e.feed, e.record_id), str(result.labels.get(e.item, e.item)))
    feeds = openings.feeds | {feed for feed, _ in openings.shared}
    events = {(e.feed, e.record_id): e for e in view.events(person_id, feeds=feeds)}
    found: list[Shareable] = []
    for record in view.records(person_id, feeds=feeds):
        key = (record.feed, record.record_id)
        if not openings.shows(*key):
            continue
        event = events.get(key)
        found.append(
            Shareable(
                record.feed,
                record.record_id,
                at=event.at if event else None,
                data=openings.data(record.feed, event.data) if event else {},
                behind_flag=key in behind,
                what=behind.get(key),
            )
        )
    never = dt.datetime.min
    return sorted(
        found, key=lambda s: (not s.behind_flag, s.feed, -(s.at or never).replace(tzinfo=None).toordinal(), s.key)
    )


def shareable_records(
    ctx: Context, *, view: PersonView | None, person_id: str, purpose: Purpose, item: WorkItem | None
) -> list[Shareable]:
    """The records of the person the sender may share for ``purpose``: those their agreements open for it (and
    those shared with them), the flag's evidence first. Listing them is a read of the person, checked by the
    resolver (a refusal is raised, audited) and audited; without a published view, the flag's evidence only."""
    if view is None or view.identity(person_id) is None:
        subject = people.person_subject(person_id)
        decision = ctx.require("view-person", subject, purpose=purpose)
        openings = people.openings_for(ctx, person_id=person_id, purpose=purpose, others=())
        found = _records(None, item, person_id, openings)
        ctx.audit_reads([(decision, subject)], purpose=purpose)
        return found
    return people.show_person(
        ctx,
        view=view,
        person_id=person_id,
        purpose=purpose,
        show=lambda openings: _records(view, item, person_id, openings),
    )


def receivable_by(
    ctx: Context, organisation_id: int, *, purpose: Purpose, items: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Of ``items``, those the organisation could lawfully receive in a referral for ``purpose``: of a feed one of
    its agreements in force (about everyone, or the cases referred to it) opens for the purpose."""
    feeds = {
        feed
        for terms in ctx.facts.agreements_in_force(organisation_id=organisation_id, at=ctx.now)
        if purpose in terms.purposes and terms.about & {About.EVERYONE, About.OWN_CASES}
        for feed in terms.feeds
    }
    return [item for item in items if item[0] in feeds]


def referral_options(
    ctx: Context, *, view: PersonView | None, person_id: str, item: WorkItem | None, age: int | None
) -> list[Option]:
    """The partners a referral about the person can go to, each with the purposes that can work: a purpose the
    sender's agreements open the person's record for, and for which the partner could receive at least one record
    the sender may share; no school for an adult or a person of unknown age (#17). Reads nothing of the person's
    records and audits nothing (what could be shared is counted by feed, not shown)."""
    me = ctx.me()
    choices: list[Option] = []
    purposes = people.purposes_open(ctx, person_id=person_id)
    keys: dict[Purpose, list[tuple[str, str]]] = {}
    for purpose in purposes:
        openings = people.openings_for(ctx, person_id=person_id, purpose=purpose, others=())
        keys[purpose] = [s.key for s in _records(view, item, person_id, openings)]
    for organisation in partners(ctx.db, excluding=me.organisation_id):
        if organisation.type is OrganisationType.SCHOOL and (age is None or age >= ADULT):
            continue
        workable = [p for p in purposes if receivable_by(ctx, organisation.id, purpose=p, items=keys[p])]
        if workable:
            choices.append(Option(organisation, workable))
    return choices


def make_referral(
    ctx: Context,
    *,
    new: NewReferral,
    view: PersonView | None = None,
    work_item_id: int | None = None,
    person_id: str | None = None,
) -> Referral:
    """Refer the person of a work item the person may read (any refusal of it is "not found"), or a person from
    their page, to a partner: ``make-referral`` is checked for the new referral's person, the feeds of the records
    it shares and its purpose (by default the purpose of the work item's rule), then it is sent, sharing the
    records chosen among those the sender may share (:func:`commonground.cases.referrals.send_referral`)."""
    item: WorkItem | None = None
    if work_item_id is not None:
        item, _, _ = open_work_item(ctx, item_id=work_item_id, not_found=True)
        person_id = item.person_id
    elif person_id is None or (view is not None and view.identity(person_id) is None):
        raise NotFound()
    purpose = new.purpose or (item.purpose if item is not None else None)
    if purpose is None:
        raise UserError("choose the purpose of the referral", field="purpose")
    subject = Subject(
        kind=SubjectKind.REFERRAL,
        organisation_id=new.to_organisation_id,
        person_id=person_id,
        feeds=frozenset(feed for feed, _ in new.items),
    )
    ctx.require("make-referral", subject, purpose=purpose)
    openings = people.openings_for(ctx, person_id=person_id, purpose=purpose, others=())
    shareable = {s.key for s in _records(view, item, person_id, openings)}
    return send_referral(ctx.db, item=item, person_id=person_id, by=ctx.me().actor, new=new, shareable=shareable)


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


def referrals_overdue(ctx: Context) -> int:
    """How many referrals sent to the person's organisation are past their response deadline unanswered."""
    return overdue_for(ctx.db, organisation_id=ctx.me().organisation_id, today=ctx.now.date())
