"""The street-triage log: a control-room mental-health professional records the advice given on an incident and
its outcome (section 136 avoided or used, conveyance, crisis-team referral). ``/triage`` lists my organisation's
log, newest first; ``/triage/new`` records one, for a person found in the linked records (``?person=``, from
their page) or for someone typed in. Each log is audited, shows on the person's page and feeds the rules
(``commonground hub export-triage``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from commonground.access.actions import SubjectKind
from commonground.access.purposes import Purpose
from commonground.access.resolver import Subject
from commonground.access.roles import ROLE_GRANTS
from commonground.cases.person_view import Identity
from commonground.cases.triage import (
    S136,
    Conveyance,
    TriageEntry,
    log_triage,
    logs_of_organisation,
    logs_of_person,
    problems,
)
from commonground.contracts.codes import TRIAGE_OUTCOME_MEANINGS, TRIAGE_SETTING_MEANINGS
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.pages.people import PERSON_SECTIONS
from commonground.web.render import UK, page, redirect

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {"triage-logged": "The triage contact has been recorded."}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""
PURPOSE = Purpose.MENTAL_HEALTH_CRISIS_CARE
SEXES = [("U", "Not known"), ("F", "Female"), ("M", "Male"), ("X", "Indeterminate")]


def _subject(person_id: str) -> Subject:
    return Subject(kind=SubjectKind.TRIAGE_LOG, person_id=person_id, feeds=frozenset({"street_triage"}))


def _linked_identity(access: Access, person_id: str) -> Identity:
    """The person found in the linked records, if the organisation may record a triage contact about them."""
    view = access.request.app.state.person_views.current()
    identity: Identity | None = view.identity(person_id) if view is not None else None
    if identity is None:
        raise HTTPException(404, NOT_FOUND)
    subject = _subject(person_id)
    decision = access.check("log-triage", subject, purpose=PURPOSE)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    access.audit_reads([(decision, subject)], purpose=PURPOSE)
    return identity


def labels() -> dict[str, Any]:
    return {
        "setting_labels": TRIAGE_SETTING_MEANINGS,
        "outcome_labels": TRIAGE_OUTCOME_MEANINGS,
        "s136_labels": {s.value: s.label for s in S136},
        "conveyance_labels": {c.value: c.label for c in Conveyance},
    }


@router.get("/triage", response_class=HTMLResponse)
def triage_log_page(access: Annotated[Access, Depends(require("log-triage"))]) -> HTMLResponse:
    logs = logs_of_organisation(access.db, organisation_id=access.me().organisation_id)
    audited = [_subject(log.person_id) for log in logs if log.person_id]
    if audited:
        access.audit_reads([(access.decision, s) for s in audited], purpose=PURPOSE)
    access.db.commit()
    return page(access, "triage.html", title="Street-triage log", logs=logs, **labels())


def _form(
    access: Access, *, values: dict[str, Any], errors: dict[str, str], identity: Identity | None, status: int = 200
) -> HTMLResponse:
    return page(
        access,
        "triage_new.html",
        title="Record a triage contact",
        values=values,
        errors=errors,
        identity=identity,
        settings=list(TRIAGE_SETTING_MEANINGS.items()),
        outcomes=list(TRIAGE_OUTCOME_MEANINGS.items()),
        s136_options=[(s.value, s.label, None) for s in S136],
        conveyance_options=[(c.value, c.label, None) for c in Conveyance],
        sexes=SEXES,
        status=status,
    )


@router.get("/triage/new", response_class=HTMLResponse)
def new_triage_page(
    access: Annotated[Access, Depends(require("log-triage"))],
    person: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = "",
) -> HTMLResponse:
    identity = _linked_identity(access, person) if person else None
    access.db.commit()
    now = access.now.astimezone(UK)
    values = {"person_id": person, "contacted_date": now.date().isoformat(), "contacted_time": now.strftime("%H:%M")}
    return _form(access, values=values, errors={}, identity=identity)


@router.post("/triage/new", response_model=None)
def record_triage(
    access: Annotated[Access, Depends(require("log-triage"))],
    person_id: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = "",
    given_name: Annotated[str, Form(max_length=100)] = "",
    family_name: Annotated[str, Form(max_length=100)] = "",
    date_of_birth: Annotated[str, Form(max_length=10)] = "",
    sex: Annotated[str, Form(max_length=1)] = "U",
    postcode: Annotated[str, Form(max_length=10)] = "",
    incident_reference: Annotated[str, Form(max_length=64)] = "",
    contacted_date: Annotated[str, Form(max_length=10)] = "",
    contacted_time: Annotated[str, Form(max_length=5)] = "",
    duration_minutes: Annotated[str, Form(max_length=5)] = "",
    setting: Annotated[str, Form(max_length=40)] = "",
    advice: Annotated[str, Form(max_length=20_000)] = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
    s136: Annotated[str, Form(max_length=20)] = "",
    conveyance: Annotated[str, Form(max_length=20)] = "",
    crisis_team_referral: Annotated[str, Form(max_length=3)] = "",
) -> HTMLResponse | Response:
    me = access.me()
    values = dict(
        person_id=person_id,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        sex=sex,
        postcode=postcode,
        incident_reference=incident_reference,
        contacted_date=contacted_date,
        contacted_time=contacted_time,
        duration_minutes=duration_minutes,
        setting=setting,
        advice=advice,
        outcome=outcome,
        s136=s136,
        conveyance=conveyance,
        crisis_team_referral=crisis_team_referral,
    )
    identity = _linked_identity(access, person_id) if person_id else None
    errors: dict[str, str] = {}
    born = _date(date_of_birth)
    if date_of_birth and born is None:
        errors["date_of_birth"] = "Enter the date of birth like 1990-04-27"
    contacted_at = _moment(contacted_date, contacted_time)
    if contacted_at is None:
        errors["contacted_at"] = "Enter the date (like 2026-11-28) and time (like 23:15) of the contact"
    minutes = int(duration_minutes) if duration_minutes.strip().isdigit() else None
    if duration_minutes.strip() and minutes is None:
        errors["duration_minutes"] = "Enter the length of the contact in whole minutes"
    if s136 not in {s.value for s in S136}:
        errors["s136"] = "Say whether a section 136 detention was avoided, used or not considered"
    if conveyance not in {c.value for c in Conveyance}:
        errors["conveyance"] = "Select where the person was taken, or none"
    if crisis_team_referral not in {"yes", "no"}:
        errors["crisis_team_referral"] = "Say whether the crisis team was asked to help"
    entry = TriageEntry(
        contacted_at=contacted_at or access.now,
        setting=setting,
        advice=advice,
        outcome=outcome,
        s136=S136(s136) if s136 in {s.value for s in S136} else S136.NOT_CONSIDERED,
        conveyance=Conveyance(conveyance) if conveyance in {c.value for c in Conveyance} else Conveyance.NONE,
        crisis_team_referral=crisis_team_referral == "yes",
        person_id=person_id or None,
        given_name=given_name or None,
        family_name=family_name or None,
        date_of_birth=born,
        sex=sex or "U",
        postcode=postcode or None,
        incident_reference=incident_reference or None,
        duration_minutes=minutes,
    )
    errors = {**problems(entry, now=access.now), **errors}
    if not errors:
        log_triage(access.db, entry=entry, organisation_id=me.organisation_id, by=me.actor)
        access.db.commit()
        if person_id:
            return redirect(f"/people/{person_id}?purpose={PURPOSE.value}", done="triage-logged")
        return redirect("/triage", done="triage-logged")
    access.db.commit()
    return _form(access, values=values, errors=errors, identity=identity, status=400)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _moment(day: str, time: str) -> dt.datetime | None:
    date = _date(day)
    try:
        clock = dt.time.fromisoformat(time.strip())
    except ValueError:
        return None
    if date is None:
        return None
    return dt.datetime.combine(date, clock, tzinfo=UK).astimezone(dt.UTC)


def person_triage(access: Access, person_id: str, purpose: Purpose) -> dict[str, Any]:
    """The person page's section: the triage contacts my organisation recorded about this person."""
    me = access.me()
    logs = logs_of_person(access.db, person_id=person_id, organisation_id=me.organisation_id)
    may_log = "log-triage" in ROLE_GRANTS[me.role]
    if not logs and not may_log:
        return {}
    return {"triage_logs": logs, "may_log_triage": may_log, "person_sections": ["person_triage.html"], **labels()}


PERSON_SECTIONS.append(person_triage)
