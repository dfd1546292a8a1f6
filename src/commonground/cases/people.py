"""A person as linked, opened through the resolver: found by name, read for a stated purpose (or by breaking glass),
and written about in case notes.

Every read needs a purpose and is audited, one event per person; only the feeds the reader's agreements open for
that purpose are shown. Break-glass opens every feed, is audited as such with its reason and is reported to the
data protection officer. The person view (:class:`commonground.cases.person_view.PersonView`) is the current
build's; the caller passes it. Nothing here commits: the caller does, once the answer is ready (the audit chain's
head is locked from the first read recorded until that commit, so reads are recorded last).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.access.resolver import (
    Subject,
    feeds_open_to,
    feeds_open_to_each,
    fields_open_to,
    purposes_open_to,
    records_shared_to,
)
from commonground.cases.inferences import Filtered, Openings, described, filter_results
from commonground.cases.notes import Note, add_note, notes_for
from commonground.cases.person_documents import others_in, shown_to
from commonground.cases.person_view import HouseholdMember, HouseholdPeriod, Identity, PersonView, RuleResult
from commonground.cases.reads import Shown, read_each
from commonground.errors import NotFound

T = TypeVar("T")


def person_subject(person_id: str) -> Subject:
    """A person as the resolver sees them (their records' feeds are the agreements' to open, one by one)."""
    return Subject(kind=SubjectKind.PERSON, id=person_id, person_id=person_id)


def linked_identity(view: PersonView, *, person_id: str) -> Identity:
    """The person as linked in the view; "not found" when the view does not hold them."""
    identity = view.identity(person_id)
    if identity is None:
        raise NotFound()
    return identity


def find_people(
    ctx: Context,
    *,
    view: PersonView,
    purpose: Purpose,
    family_name: str,
    given_name: str = "",
    date_of_birth: dt.date | None = None,
) -> Shown[Identity]:
    """The people who match, those the resolver lets the person find for ``purpose`` shown (each audited as
    read), the others counted as withheld."""
    return read_each(
        ctx,
        "find-person",
        view.search(family_name=family_name, given_name=given_name, date_of_birth=date_of_birth),
        subject_of=lambda identity: person_subject(identity.person_id),
        purpose_of=lambda _: purpose,
    )


def person_document(
    ctx: Context, *, view: PersonView, person_id: str, purpose: Purpose, break_glass_reason: str | None = None
) -> dict[str, Any]:
    """The person's pre-assembled document (one lookup), with only the feeds the resolver opens for ``purpose``
    (every feed when it lets the person break glass); any refusal is "not found" (audited). The read is audited
    last."""
    doc = view.document(person_id)  # one lookup: the person's pre-assembled document, before any agreement
    if doc is None:
        raise NotFound()
    subject = person_subject(person_id)
    decision = ctx.require(
        "view-person", subject, purpose=purpose, break_glass_reason=break_glass_reason, not_found=True
    )
    if decision.break_glass:
        openings = Openings(person_id, frozenset(doc["feeds"]), everything=True)
    else:
        openings = openings_for(ctx, person_id=person_id, purpose=purpose, others=others_in(doc))
    body = shown_to(doc, openings=openings, purpose=purpose.value, today=ctx.now.date())
    ctx.audit_reads([(decision, subject)], purpose=purpose, reason=break_glass_reason)
    return body


def openings_for(ctx: Context, *, person_id: str, purpose: Purpose, others: Iterable[str]) -> Openings:
    """What the reader's agreements open for ``purpose``: the feeds of the person (and the fields of those opened
    only in part), the records a referral shared with the reader's organisation for the purpose, and the feeds of
    each other person their inferences rest on."""
    me = ctx.me()
    feeds = feeds_open_to(me, person_id=person_id, purpose=purpose, facts=ctx.facts, at=ctx.now)
    shared = records_shared_to(me, person_id=person_id, purpose=purpose, facts=ctx.facts, at=ctx.now)
    fields = fields_open_to(me, person_id=person_id, purpose=purpose, facts=ctx.facts, at=ctx.now)
    rest = sorted(set(others) - {person_id})
    opened = feeds_open_to_each(me, person_ids=rest, purpose=purpose, facts=ctx.facts, at=ctx.now) if rest else {}
    return Openings(person_id, feeds, others=opened, fields=fields, shared=shared)


def show_person(
    ctx: Context,
    *,
    view: PersonView,
    person_id: str,
    purpose: Purpose,
    show: Callable[[Openings], T],
    break_glass_reason: str | None = None,
) -> T:
    """Open the person's record for ``purpose`` (or by breaking glass, with a reason) and give what ``show`` makes
    of it, from what the resolver opens (:class:`Openings`: the person's feeds, and those of each other person
    their indicators and household rest on; everything, by breaking glass).

    A person the view does not hold is "not found"; a refusal is audited and raised. ``show`` may read, and audit
    reads of its own (the referrals on the page, say); the person's read is audited after it, last."""
    linked_identity(view, person_id=person_id)
    subject = person_subject(person_id)
    decision = ctx.require("view-person", subject, purpose=purpose, break_glass_reason=break_glass_reason)
    if decision.break_glass:
        openings = Openings(person_id, view.feeds_of(person_id), everything=True)
    else:
        openings = openings_for(ctx, person_id=person_id, purpose=purpose, others=view.others_of(person_id))
    shown = show(openings)
    ctx.audit_reads([(decision, subject)], purpose=purpose, reason=break_glass_reason)
    return shown


def visible_rule_results(view: PersonView, person_id: str, openings: Openings) -> Filtered[RuleResult]:
    """The person's indicators and flags as the reader may see them (:mod:`commonground.cases.inferences`)."""
    return filter_results(
        view.rule_results(person_id, feeds=None),
        openings,
        rule_of=lambda r: r.rule_id,
        evidence_of=lambda r: list(r.evidence),
        feed_of=lambda e: e.feed,
        about_of=lambda e: e.via_person_id,
        with_evidence=lambda r, kept: dataclasses.replace(r, evidence=tuple(kept)),
        record_of=lambda e: e.record_id,
    )


def visible_household(view: PersonView, person_id: str, openings: Openings, *, today: dt.date) -> list[HouseholdPeriod]:
    """The person's household periods, each other member named only where the reader may open a record of theirs;
    the others are kept as unnamed members (no id, no dates), described by age."""
    periods = view.household(person_id)
    feeds_of = {m.person_id: view.feeds_of(m.person_id) for p in periods for m in p.members}
    return [
        dataclasses.replace(
            period,
            members=tuple(
                m
                if openings.names(m.person_id, feeds_of[m.person_id])
                else HouseholdMember(
                    person_id="",
                    date_of_birth=None,
                    start_date=None,
                    end_date=None,
                    described_as=described(m.date_of_birth, today),
                )
                for m in period.members
            ),
        )
        for period in periods
    ]


def purposes_open(ctx: Context, *, person_id: str) -> list[Purpose]:
    """The purposes for which an agreement in force lets the person open this person's record (for the question
    "why are you opening this record?")."""
    return purposes_open_to(ctx.me(), person_id=person_id, facts=ctx.facts, at=ctx.now)


def add_person_note(ctx: Context, *, person_id: str, purpose: Purpose, text: str) -> Note:
    """Write a case note on the person, seen by the person's own organisation; ``add-note`` is checked for
    ``purpose`` first (a refusal is audited), then an empty or overlong note is a :class:`UserError`."""
    ctx.require("add-note", person_subject(person_id), purpose=purpose)
    me = ctx.me()
    return add_note(
        ctx.db, person_id=person_id, organisation_id=me.organisation_id, by=me.actor, purpose=purpose, text=text
    )


def notes_on(ctx: Context, *, person_id: str) -> list[Note]:
    """The person's case notes written by the reader's organisation, newest first (for a page already let through
    ``view-person``)."""
    return notes_for(ctx.db, person_id=person_id, organisation_id=ctx.me().organisation_id)
