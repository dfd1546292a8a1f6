"""The street-triage log: a control-room mental-health professional records the advice given on an incident and
its outcome (section 136 avoided or used, conveyance, crisis-team referral). ``/triage`` lists my organisation's
log, newest first; ``/triage/new`` records one, for a person found in the linked records (``?person=``, from
their page) or for someone typed in. Each log is audited, shows on the person's page and feeds the rules
(``commonground hub export-triage``).

The form is read by :class:`TriageForm` into the cases' :class:`~commonground.cases.triage.TriageEntry` (each wrong
field an error beside it, as data); the operations of :mod:`commonground.cases.triage` check, record and audit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from commonground.access.purposes import Purpose
from commonground.access.roles import ROLE_GRANTS
from commonground.cases import triage
from commonground.cases.person_view import Identity, PersonView
from commonground.cases.triage import PURPOSE, S136, Conveyance, TriageEntry, logs_of_person, problems_of
from commonground.contracts.codes import TRIAGE_OUTCOME_MEANINGS, TRIAGE_SETTING_MEANINGS
from commonground.web.deps import Access, require
from commonground.web.render import UK, page, redirect

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {"triage-logged": "The triage contact has been recorded."}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""
SEXES = [("U", "Not known"), ("F", "Female"), ("M", "Male"), ("X", "Indeterminate")]


def _problem(message: str) -> PydanticCustomError:
    """A field the form could not read, in the words shown beside it."""
    return PydanticCustomError("triage", message)


class TriageForm(TriageEntry):
    """The form as posted, read into a :class:`~commonground.cases.triage.TriageEntry`: its text fields become dates,
    a moment, numbers and choices; one that cannot be read is an error beside it (and the entry's own checks of
    that field do not run)."""

    @model_validator(mode="before")
    @classmethod
    def _contact_moment(cls, data: Any) -> Any:
        if isinstance(data, dict) and "contacted_at" not in data:
            data = {**data, "contacted_at": (data.get("contacted_date", ""), data.get("contacted_time", ""))}
        return data

    @field_validator("person_id", "given_name", "family_name", "postcode", "incident_reference", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("sex", mode="before")
    @classmethod
    def _sex_not_known(cls, value: Any) -> Any:
        return value or "U"

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _born(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value:
            return None
        born = _date(value)
        if born is None:
            raise _problem("Enter the date of birth like 1990-04-27")
        return born

    @field_validator("contacted_at", mode="before")
    @classmethod
    def _contacted(cls, value: Any) -> Any:
        if not isinstance(value, tuple):
            return value
        moment = _moment(*value)
        if moment is None:
            raise _problem("Enter the date (like 2026-11-28) and time (like 23:15) of the contact")
        return moment

    @field_validator("duration_minutes", mode="before")
    @classmethod
    def _minutes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        if not value.strip().isdecimal():
            raise _problem("Enter the length of the contact in whole minutes")
        return int(value)

    @field_validator("s136", mode="before")
    @classmethod
    def _s136_choice(cls, value: Any) -> Any:
        if value not in {s.value for s in S136}:
            raise _problem("Say whether a section 136 detention was avoided, used or not considered")
        return value

    @field_validator("conveyance", mode="before")
    @classmethod
    def _conveyance_choice(cls, value: Any) -> Any:
        if value not in {c.value for c in Conveyance}:
            raise _problem("Select where the person was taken, or none")
        return value

    @field_validator("crisis_team_referral", mode="before")
    @classmethod
    def _yes_or_no(cls, value: Any) -> Any:
        if value not in ("yes", "no"):
            raise _problem("Say whether the crisis team was asked to help")
        return value == "yes"


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


def _view(access: Access) -> PersonView | None:
    view: PersonView | None = access.request.app.state.person_views.current()
    return view


def labels() -> dict[str, Any]:
    return {
        "setting_labels": TRIAGE_SETTING_MEANINGS,
        "outcome_labels": TRIAGE_OUTCOME_MEANINGS,
        "s136_labels": {s.value: s.label for s in S136},
        "conveyance_labels": {c.value: c.label for c in Conveyance},
    }


@router.get("/triage", response_class=HTMLResponse)
def triage_log_page(access: Annotated[Access, Depends(require("log-triage"))]) -> HTMLResponse:
    contacts = triage.organisation_contacts(access, view=_view(access))
    return page(access, "triage.html", title="Street-triage log", contacts=contacts, **labels())


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
    identity = triage.open_form(access, view=_view(access), person_id=person)
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
    values: dict[str, Any] = dict(
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
    try:
        entry = TriageForm.model_validate(values, context={"now": access.now})
    except ValidationError as error:
        identity = triage.open_form(access, view=_view(access), person_id=person_id)
        return _form(access, values=values, errors=problems_of(error), identity=identity, status=400)
    triage.record(access, view=_view(access), entry=entry)
    if person_id:
        return redirect(f"/people/{person_id}?purpose={PURPOSE.value}", done="triage-logged")
    return redirect("/triage", done="triage-logged")


def person_triage(access: Access, person_id: str, purpose: Purpose) -> dict[str, Any]:
    """The person page's section: the triage contacts my organisation recorded about this person."""
    me = access.me()
    logs = logs_of_person(access.db, person_id=person_id, organisation_id=me.organisation_id)
    may_log = "log-triage" in ROLE_GRANTS[me.role]
    if not logs and not may_log:
        return {}
    return {"triage_logs": logs, "may_log_triage": may_log, "person_sections": ["person_triage.html"], **labels()}


PERSON_SECTION = person_triage
"""This area's part of the person page (gathered by ``pages.person_sections()``)."""
