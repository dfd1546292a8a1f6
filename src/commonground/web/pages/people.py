"""The person: identity as linked, a timeline across agencies, indicators with their evidence, the household over
time, flags and notes. Purpose of access is asked first; only the feeds the person's agreements open are shown.

Break glass: a practitioner whose role may break glass and whose organisation has no agreement for this person can
open the record by giving a reason (POST, so that the reason never lands in a URL or an access log); every feed is
shown, the access is audited as break-glass and reported to the data protection officer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.actions import SubjectKind
from commonground.access.purposes import Purpose
from commonground.access.resolver import (
    MIN_BREAK_GLASS_REASON,
    Decision,
    Subject,
    feeds_open_to,
    purposes_open_to,
)
from commonground.cases.notes import add_note, notes_for
from commonground.cases.person_view import PersonView
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.linkwords import link_words
from commonground.web.params import PersonIdPath
from commonground.web.present import agency, details, headline
from commonground.web.render import page, redirect
from commonground.web.timeline_chart import timeline_chart

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {"note-added": "Your note has been added."}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

PURPOSE_CHOICES = [(p.value, p.value.replace("_", " ").capitalize(), p.description) for p in Purpose]


def _view(access: Access) -> PersonView:
    view: PersonView | None = access.request.app.state.person_views.current()
    if view is None:
        raise HTTPException(404, "No linked build has been published to the hub yet (run commonground hub sync).")
    return view


def _subject(person_id: str) -> Subject:
    return Subject(kind=SubjectKind.PERSON, id=person_id, person_id=person_id)


PERSON_SECTIONS: list[Any] = []
"""Functions ``(access, person_id, purpose) -> dict`` adding to the person page's context (referrals, notices,
triage logs); other page modules register themselves here."""


@router.get("/people", response_class=HTMLResponse)
def find_person(
    access: Annotated[Access, Depends(require("find-person"))],
    family_name: Annotated[str, Query(max_length=100)] = "",
    given_name: Annotated[str, Query(max_length=100)] = "",
    born: Annotated[str, Query(max_length=10)] = "",
    purpose: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    errors: dict[str, str] = {}
    results: list[Any] = []
    searched = bool(family_name or given_name or born or purpose)
    date_of_birth = None
    if searched:
        if not family_name.strip():
            errors["family_name"] = "Enter a family name"
        if born:
            try:
                date_of_birth = dt.date.fromisoformat(born)
            except ValueError:
                errors["born"] = "Enter a date of birth like 2014-03-27"
        if purpose not in {p.value for p in Purpose}:
            errors["purpose"] = "Select why you are searching"
    if searched and not errors:
        view = _view(access)
        chosen = Purpose(purpose)
        allowed: list[tuple[Decision, Subject]] = []
        for identity in view.search(family_name=family_name, given_name=given_name, date_of_birth=date_of_birth):
            subject = _subject(identity.person_id)
            decision = access.check("find-person", subject, purpose=chosen)
            if decision.allowed:
                allowed.append((decision, subject))
                results.append(identity)
        access.audit_reads(allowed, purpose=chosen)
        access.db.commit()
    return page(
        access,
        "find_person.html",
        title="Find a person",
        errors=errors,
        results=results,
        searched=searched and not errors,
        family_name=family_name,
        given_name=given_name,
        born=born,
        purpose=purpose,
        purposes=[(v, t) for v, t, _ in PURPOSE_CHOICES],
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("view-person"))],
    purpose: Annotated[str, Query(max_length=40)] = "",
    agency_filter: Annotated[str, Query(alias="agency", max_length=100)] = "",
    show_all: Annotated[str, Query(alias="all", max_length=3)] = "",
) -> HTMLResponse:
    view = _view(access)
    identity = view.identity(person_id)
    if identity is None:
        raise HTTPException(404, NOT_FOUND)
    me = access.me()
    if purpose not in {p.value for p in Purpose}:
        return _ask_purpose(access, person_id, error="Select why you are opening this record" if purpose else None)
    chosen = Purpose(purpose)
    subject = _subject(person_id)
    decision = access.check("view-person", subject, purpose=chosen)
    if not decision.allowed:
        access.refuse(decision, subject)  # audited as a refusal
        return _ask_purpose(access, person_id, refused=decision.reason, status=403, chosen=purpose)
    feeds = feeds_open_to(me, person_id=person_id, purpose=chosen, facts=access.facts, at=access.now)
    response = _render(
        access,
        view,
        person_id,
        purpose=chosen,
        feeds=feeds,
        break_glass=False,
        agency_filter=agency_filter,
        show_all=show_all == "yes",
    )
    access.audit_reads([(decision, subject)], purpose=chosen)  # last: the audit head is locked until the commit
    access.db.commit()
    return response


@router.post("/people/{person_id}/break-glass", response_class=HTMLResponse)
def break_glass(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("view-person"))],
    purpose: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    view = _view(access)
    if view.identity(person_id) is None:
        raise HTTPException(404, NOT_FOUND)
    if purpose not in {p.value for p in Purpose}:
        return _ask_purpose(access, person_id, error="Select why you are opening this record", status=400)
    chosen = Purpose(purpose)
    if len(reason.strip()) < MIN_BREAK_GLASS_REASON:
        return _ask_purpose(
            access,
            person_id,
            status=400,
            chosen=purpose,
            glass_error=f"Give a reason of at least {MIN_BREAK_GLASS_REASON} characters",
        )
    subject = _subject(person_id)
    decision = access.check("view-person", subject, purpose=chosen, break_glass_reason=reason.strip())
    if not decision.allowed:
        raise access.refuse(decision, subject)
    feeds = (
        view.feeds_of(person_id)
        if decision.break_glass
        else feeds_open_to(access.me(), person_id=person_id, purpose=chosen, facts=access.facts, at=access.now)
    )
    response = _render(access, view, person_id, purpose=chosen, feeds=feeds, break_glass=decision.break_glass)
    access.audit_reads([(decision, subject)], purpose=chosen, reason=reason.strip())
    access.db.commit()
    return response


@router.post("/people/{person_id}/notes")
def add_person_note(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("add-note"))],
    purpose: Annotated[str, Form(max_length=40)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    if purpose not in {p.value for p in Purpose}:
        raise HTTPException(400, "say for which purpose you are writing")
    chosen = Purpose(purpose)
    subject = _subject(person_id)
    decision = access.check("add-note", subject, purpose=chosen)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    if not text.strip():
        return redirect(f"/people/{person_id}?purpose={chosen.value}&error=note#notes")
    me = access.me()
    add_note(access.db, person_id=person_id, organisation_id=me.organisation_id, by=me.actor, purpose=chosen, text=text)
    access.db.commit()
    return redirect(f"/people/{person_id}?purpose={chosen.value}", done="note-added")


def _ask_purpose(
    access: Access,
    person_id: str,
    *,
    error: str | None = None,
    refused: str | None = None,
    glass_error: str | None = None,
    chosen: str = "",
    status: int = 200,
) -> HTMLResponse:
    me = access.me()
    open_for = purposes_open_to(me, person_id=person_id, facts=access.facts, at=access.now)
    options = [(p.value, p.value.replace("_", " ").capitalize(), p.description) for p in open_for]
    return page(
        access,
        "person_purpose.html",
        title="Why are you opening this record?",
        person_id=person_id,
        options=options,
        all_purposes=PURPOSE_CHOICES,
        errors={"purpose": error} if error else {},
        refused=refused,
        glass_error=glass_error,
        chosen=chosen,
        may_break_glass="break-glass" in _granted(access),
        min_reason=MIN_BREAK_GLASS_REASON,
        status=status,
    )


def _granted(access: Access) -> frozenset[str]:
    from commonground.access.roles import ROLE_GRANTS

    return ROLE_GRANTS[access.me().role]


TIMELINE_LENGTH = 40


def _render(
    access: Access,
    view: PersonView,
    person_id: str,
    *,
    purpose: Purpose,
    feeds: frozenset[str],
    break_glass: bool,
    agency_filter: str = "",
    show_all: bool = True,
) -> HTMLResponse:
    me = access.me()
    identity = view.identity(person_id)
    records = view.records(person_id, feeds=feeds)
    events = view.events(person_id, feeds=feeds)
    results = view.rule_results(person_id, feeds=feeds)
    shown_records = {f"{r.feed}:{r.record_id}" for r in records}
    links = [link for link in view.links(person_id) if link.left in shown_records and link.right in shown_records]
    hidden_feeds = sorted(set(identity.feeds if identity else ()) - feeds)
    extra: dict[str, Any] = {}
    for section in PERSON_SECTIONS:
        added = dict(section(access, person_id, purpose))
        templates = [*extra.get("person_sections", []), *added.pop("person_sections", [])]
        extra.update(added, person_sections=templates)
    today = access.now.date()
    described = [
        (e, headline(e), details(e), agency(e.feed))
        for e in events
        if not agency_filter or agency(e.feed) == agency_filter
    ]
    return page(
        access,
        "person.html",
        title=identity.name if identity else person_id,
        person_id=person_id,
        identity=identity,
        age=identity.age_on(today) if identity else None,
        purpose=purpose,
        break_glass=break_glass,
        records=records,
        links=[link_words(link) for link in links],
        events=events,
        agencies=sorted({agency(e.feed) for e in events}),
        agency_filter=agency_filter,
        filtered_count=len(described),
        shown_events=described if show_all else described[:TIMELINE_LENGTH],
        chart=timeline_chart(events, today=today),
        indicators=[r for r in results if r.kind == "indicator"],
        flags=[r for r in results if r.kind == "flag"],
        household=view.household(person_id),
        hidden_feeds=[agency(f) for f in hidden_feeds],
        notes=notes_for(access.db, person_id=person_id, organisation_id=me.organisation_id),
        agency=agency,
        **extra,
    )
