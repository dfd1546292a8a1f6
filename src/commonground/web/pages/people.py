"""The person: identity as linked, a timeline across agencies, indicators with their evidence, the household over
time, flags and notes. Purpose of access is asked first; only the feeds the person's agreements open are shown.

Break glass: a practitioner whose role may break glass and whose organisation has no agreement for this person can
open the record by giving a reason (POST, so that the reason never lands in a URL or an access log); every feed is
shown, the access is audited as break-glass and reported to the data protection officer. The operations are
:mod:`commonground.cases.people`'s; this module reads the forms and renders the pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.purposes import Purpose
from commonground.access.reasons import reason_problem
from commonground.access.resolver import MIN_BREAK_GLASS_REASON
from commonground.access.roles import ROLE_GRANTS
from commonground.cases import people
from commonground.cases.inferences import FURTHER_INFORMATION, LIVING_TOGETHER, Openings
from commonground.cases.person_view import PersonView
from commonground.errors import NotFound, Refused, UserError
from commonground.web.deps import Access, require
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
        raise NotFound("No linked build has been published to the hub yet (run commonground hub sync).")
    return view


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
        found = people.find_people(
            access,
            view=_view(access),
            purpose=Purpose(purpose),
            family_name=family_name,
            given_name=given_name,
            date_of_birth=date_of_birth,
        )
        access.db.commit()
        results = list(found.items)
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
    # The question comes first for any well-formed id, a person the view holds or not: answering "not found" here
    # would confirm which ids are people. An unknown id is "not found" once a purpose is chosen (``show_person``),
    # as a person who is not the reader's is.
    if purpose not in {p.value for p in Purpose}:
        return _ask_purpose(access, person_id, error="Select why you are opening this record" if purpose else None)
    chosen = Purpose(purpose)
    try:
        response = people.show_person(
            access,
            view=view,
            person_id=person_id,
            purpose=chosen,
            show=lambda openings: _render(
                access,
                view,
                person_id,
                purpose=chosen,
                openings=openings,
                agency_filter=agency_filter,
                show_all=show_all == "yes",
            ),
        )
    except NotFound:
        raise
    except Refused as refused:  # audited as a refusal: ask again, saying why
        return _ask_purpose(access, person_id, refused=refused.reason, status=403, chosen=purpose)
    access.db.commit()  # the read was audited last: the audit head is locked until this commit
    return response


@router.post("/people/{person_id}/break-glass", response_class=HTMLResponse)
def break_glass(
    person_id: PersonIdPath,
    access: Annotated[Access, Depends(require("view-person"))],
    purpose: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    view = _view(access)  # an unknown id is "not found" in show_person, after the form's checks (as above)
    if purpose not in {p.value for p in Purpose}:
        return _ask_purpose(access, person_id, error="Select why you are opening this record", status=400)
    chosen = Purpose(purpose)
    problem = reason_problem(reason)
    if problem is not None:
        return _ask_purpose(access, person_id, status=400, chosen=purpose, glass_error=problem.capitalize())
    response = people.show_person(
        access,
        view=view,
        person_id=person_id,
        purpose=chosen,
        break_glass_reason=reason.strip(),
        show=lambda openings: _render(access, view, person_id, purpose=chosen, openings=openings),
    )
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
        raise UserError("say for which purpose you are writing")
    chosen = Purpose(purpose)
    try:
        people.add_person_note(access, person_id=person_id, purpose=chosen, text=text)
    except UserError:
        if text.strip():
            raise
        return redirect(f"/people/{person_id}?purpose={chosen.value}&error=note#notes")
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
    open_for = people.purposes_open(access, person_id=person_id)
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
    return ROLE_GRANTS[access.me().role]


TIMELINE_LENGTH = 40


def _render(
    access: Access,
    view: PersonView,
    person_id: str,
    *,
    purpose: Purpose,
    openings: Openings,
    agency_filter: str = "",
    show_all: bool = True,
) -> HTMLResponse:
    # the feeds opened whole, and those of records a referral shared (shown one by one: #16, #17)
    feeds, break_glass = openings.feeds | {f for f, _ in openings.shared}, openings.everything
    identity = view.identity(person_id)
    records = [r for r in view.records(person_id, feeds=feeds) if openings.shows(r.feed, r.record_id)]
    events = [
        dataclasses.replace(e, data=openings.data(e.feed, e.data))
        for e in view.events(person_id, feeds=feeds)
        if openings.shows(e.feed, e.record_id)
    ]
    visible = people.visible_rule_results(view, person_id, openings)
    results = visible.shown
    shown_records = {f"{r.feed}:{r.record_id}" for r in records}
    links = [link for link in view.links(person_id) if link.left in shown_records and link.right in shown_records]
    hidden_feeds = sorted(set(identity.feeds if identity else ()) - feeds)
    extra: dict[str, Any] = {}
    for section in access.request.app.state.person_sections:
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
        only_shared=openings.only_shared,
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
        partial=visible.partial,
        withheld=visible.withheld,
        further_information=FURTHER_INFORMATION,
        household=people.visible_household(view, person_id, openings, today=today),
        living_together=LIVING_TOGETHER,
        hidden_feeds=[agency(f) for f in hidden_feeds],
        notes=people.notes_on(access, person_id=person_id),
        agency=agency,
        **extra,
    )
