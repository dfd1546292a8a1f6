"""``/api/people``: a person as linked, with the records, events, indicators, flags and household the caller's
agreements open for the stated purpose. The same resolver and audit as the pages: a purpose is required, every
read is audited, and break-glass goes in the ``Commonground-Break-Glass-Reason`` header (never the URL). The
operations are :mod:`commonground.cases.people`'s."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from commonground.access.purposes import Purpose
from commonground.cases import people
from commonground.cases.person_view import PersonView
from commonground.errors import NotFound
from commonground.web.api.common import ERRORS
from commonground.web.deps import Access, require
from commonground.web.params import BreakGlassHeader, PersonIdPath, PurposeQuery

router = APIRouter(prefix="/api/people", tags=["people"], responses=ERRORS)


class IdentityOut(BaseModel):
    person_id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: dt.date | None
    sex: str | None
    nhs_number: str | None
    record_count: int
    first_seen: dt.date | None
    last_seen: dt.date | None


class RecordOut(BaseModel):
    feed: str
    record_id: str
    match_probability: float = Field(description="Of the strongest link that joined the record to the person")
    identity: dict[str, str | None]


class EventOut(BaseModel):
    feed: str
    record_id: str
    at: dt.datetime | None
    data: dict[str, Any]


class EvidenceOut(BaseModel):
    feed: str
    record_id: str
    what: str
    evidence_at: dt.datetime | None
    via_person_id: str | None


class RuleResultOut(BaseModel):
    rule_id: str
    rule_version: int
    kind: str
    title: str
    description: str
    legal_basis: str
    first_evidence: dt.datetime | None
    latest_evidence: dt.datetime | None
    route_to: str | None
    due_by: dt.datetime | None
    evidence: list[EvidenceOut]


class HouseholdMemberOut(BaseModel):
    person_id: str | None = Field(
        description="Only where your agreements open a record of this person for the purpose; otherwise null"
    )
    described_as: str = Field(
        description='"adult" or "child" when named; "another adult", "another child" or "another person" when not'
    )
    year_of_birth: int | None
    start_date: dt.date | None = Field(description="When they lived there (named members only)")
    end_date: dt.date | None


class HouseholdPeriodOut(BaseModel):
    household_id: str
    start_date: dt.date | None
    end_date: dt.date | None
    members: list[HouseholdMemberOut] = Field(description="The others who lived there at the same time (inferred)")


class PersonOut(BaseModel):
    identity: IdentityOut
    purpose: Purpose
    break_glass: bool
    feeds_shown: list[str]
    feeds_withheld: int = Field(description="How many feeds hold records about the person that are not shown")
    records: list[RecordOut]
    events: list[EventOut]
    indicators: list[RuleResultOut]
    flags: list[RuleResultOut]
    partial: list[str] = Field(description="Rule ids shown with only the part of their evidence you may open")
    withheld: int = Field(
        description="Indicators and flags not named: none of their evidence comes from records you may open"
    )
    further_information: str | None = Field(description="Whom to ask when something is withheld")
    shared_only: bool = Field(
        default=False,
        description="You see this person only through the records a referral shared with your organisation for "
        "this purpose; the rest of their record is not shared with you",
    )
    household: list[HouseholdPeriodOut]
    household_note: str | None = Field(description="Living together is inferred from shared addresses")


class PeopleFound(BaseModel):
    people: list[IdentityOut]
    withheld: int = Field(description="People who match but whom your agreements do not cover for this purpose")


def _view(request: Request) -> PersonView:
    view: PersonView | None = request.app.state.person_views.current()
    if view is None:
        raise NotFound("no linked build has been published to the hub yet")
    return view


@router.get("", response_model=PeopleFound, summary="Find people by family name (and given name, date of birth)")
def find_people(
    request: Request,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("find-person"))],
    family_name: Annotated[str, Query(min_length=1, max_length=100)],
    given_name: Annotated[str, Query(max_length=100)] = "",
    date_of_birth: dt.date | None = None,
) -> PeopleFound:
    found = people.find_people(
        access,
        view=_view(request),
        purpose=purpose,
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
    )
    access.db.commit()
    shown = [IdentityOut(**{k: getattr(i, k) for k in IdentityOut.model_fields}) for i in found.items]
    return PeopleFound(people=shown, withheld=found.withheld)


@router.get("/{person_id}", response_model=PersonOut, summary="Open a person's linked record")
def person(
    request: Request,
    person_id: PersonIdPath,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("view-person"))],
    break_glass_reason: BreakGlassHeader = None,
) -> Response:
    body = people.person_document(
        access, view=_view(request), person_id=person_id, purpose=purpose, break_glass_reason=break_glass_reason
    )
    # The read was audited last, just before this commit: the audit chain's head is locked only for as long as
    # the commit takes.
    access.db.commit()
    # Written as it is, not validated again on every request: the document has the shape of PersonOut (a test
    # holds it so, person by person, against the detailed queries).
    return JSONResponse(body)
