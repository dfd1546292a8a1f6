"""``/api/referrals``: refer a person from a flag (or from their record) to a partner organisation, sharing the
records the sender chooses, and take the referral's steps.

A referral is seen only by the organisation that sent it and the organisation it is now sent to; anyone else gets
404, as if it did not exist. Reading one is identifiable: the resolver decides, for the referral's purpose and the
feeds of the records it shares, under the reader's organisation's agreements (the receiving organisation's
agreement about its own cases applies to the records shared with it, for the referral's purpose, while the
referral is with it). Only the organisation it is sent to
takes its steps (accept, reject, record an action, transfer, close), as the state machine in
:mod:`commonground.cases.referrals` allows. Every read and step is audited in the same transaction. The
operations are :mod:`commonground.cases.referral_work`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field, model_validator

from commonground.access.purposes import Purpose
from commonground.cases.referral_work import make_referral, read_referral, read_referrals, take_referral_step
from commonground.cases.referrals import (
    MAX_ITEMS,
    MAX_TEXT,
    NOTE_REQUIRED,
    Consent,
    NewReferral,
    Referral,
    ReferralStatus,
    Step,
    allowed_steps,
)
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import In, Out
from commonground.web.deps import Access, require
from commonground.web.params import MAX_ID, IdPath

PERSON_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

router = APIRouter(prefix="/api/referrals", tags=["referrals"], responses=ERRORS)


class ReferralEventOut(Out):
    step: Step
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    user_id: int
    organisation_id: int
    to_organisation_id: int | None
    note: str | None
    at: dt.datetime


class SharedItem(In):
    """One record a referral shares: the feed it comes from and its id there."""

    feed: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    record_id: str = Field(min_length=1, max_length=200)


class ReferralOut(Out):
    id: int
    person_id: str
    work_item_id: int | None
    rule_id: str | None
    from_organisation_id: int
    from_user_id: int
    to_organisation_id: int
    summary: str
    consent: Consent
    consent_note: str | None
    lawful_basis: str
    purpose: Purpose
    shared_items: list[SharedItem] = Field(description="The records the referral shares, and the only ones it opens")
    respond_by: dt.date | None = Field(description="The day by which the receiver should accept or reject it")
    overdue: bool = Field(description="Not answered by its response deadline")
    status: ReferralStatus
    outcome: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    next_steps: list[Step] = Field(description="The steps the workflow allows from the current status")
    events: list[ReferralEventOut]


class ReferralList(Out):
    items: list[ReferralOut]
    withheld: int = Field(description="Referrals of yours that no agreement in force now lets you read")


class ReferralIn(In):
    work_item_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The work item (flag) the referral is made from"
    )
    person_id: str | None = Field(
        default=None, pattern=PERSON_ID_PATTERN, description="Or the person it is about, referred from their record"
    )
    to_organisation_id: int = Field(ge=1, le=MAX_ID, description="The partner organisation to refer to")
    summary: str = Field(min_length=3, max_length=MAX_TEXT, description="Why you are referring")
    consent: Consent
    consent_note: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Required unless consent was given: why consent is not needed, or why the referral goes "
        "ahead without it (e.g. 'safeguarding: asking would place the child at risk')",
    )
    lawful_basis: str = Field(min_length=3, max_length=MAX_TEXT)
    purpose: Purpose | None = Field(
        default=None, description="Defaults to the purpose of the work item's rule; required from a person"
    )
    items: list[SharedItem] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="The records to share, chosen one by one: the minimum the partner needs. Each must be a record "
        "of the person you may open for the purpose, of a kind the partner's agreements could receive",
    )
    respond_by: dt.date | None = Field(
        default=None, description="The day by which the partner should answer: today to 28 days ahead (default 7)"
    )

    @model_validator(mode="after")
    def _consent_explained(self) -> Self:
        if self.consent is not Consent.GIVEN and len((self.consent_note or "").strip()) < 3:
            raise ValueError("consent_note is required when consent is not given: say why")
        if (self.work_item_id is None) == (self.person_id is None):
            raise ValueError("give either work_item_id (a flag) or person_id (a person), not both")
        return self


class TransitionIn(In):
    step: Step = Field(description="accept, reject, record_action, transfer or close")
    note: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Required to reject (the reason), record an action, transfer (the reason) and close (the outcome)",
    )
    to_organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="For transfer only")

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.step is Step.SEND:
            raise ValueError("a referral is sent by POST /api/referrals, not as a step")
        required = NOTE_REQUIRED.get(self.step)
        if required and len((self.note or "").strip()) < 3:
            raise ValueError(f"note is required for '{self.step.value}': give {required}")
        if self.step is Step.TRANSFER and self.to_organisation_id is None:
            raise ValueError("to_organisation_id is required to transfer a referral")
        if self.step is not Step.TRANSFER and self.to_organisation_id is not None:
            raise ValueError("to_organisation_id is given only to transfer a referral")
        return self


COMPUTED = frozenset({"next_steps", "events", "shared_items", "overdue"})


def out(referral: Referral, *, today: dt.date) -> ReferralOut:
    return ReferralOut.model_validate(
        {
            **{k: getattr(referral, k) for k in ReferralOut.model_fields if k not in COMPUTED},
            "shared_items": [SharedItem(feed=f, record_id=r) for f, r in referral.items],
            "overdue": referral.overdue_on(today),
            "next_steps": [s for s in allowed_steps(referral.status) if s is not Step.SEND],
            "events": [ReferralEventOut.model_validate(e) for e in referral.events],
        }
    )


@router.get("", response_model=ReferralList, summary="Referrals sent by or to your organisation, newest first")
def list_referrals(
    access: Annotated[Access, Depends(require("view-referrals"))],
    side: Annotated[str, Query(pattern="^(all|sent|received)$", description="all, sent or received")] = "all",
    status: ReferralStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReferralList:
    shown = read_referrals(
        access,
        sent=side in ("all", "sent"),
        received=side in ("all", "received"),
        status=status,
        at_most=limit,
    )
    access.db.commit()
    today = access.now.date()
    return ReferralList(items=[out(r, today=today) for r in shown.items], withheld=shown.withheld)


@router.get("/{referral_id}", response_model=ReferralOut, summary="One referral, with its history")
def get_referral(referral_id: IdPath, access: Annotated[Access, Depends(require("view-referrals"))]) -> ReferralOut:
    referral = read_referral(access, referral_id=referral_id)
    access.db.commit()
    return out(referral, today=access.now.date())


@router.post(
    "",
    response_model=ReferralOut,
    status_code=201,
    summary="Refer the person of a work item, or a person, to a partner, sharing the records you choose",
)
def create_referral(
    body: ReferralIn, request: Request, access: Annotated[Access, Depends(require("make-referral"))]
) -> ReferralOut:
    referral = make_referral(
        access,
        work_item_id=body.work_item_id,
        person_id=body.person_id,
        view=request.app.state.person_views.current(),
        new=NewReferral(
            to_organisation_id=body.to_organisation_id,
            summary=body.summary,
            consent=body.consent,
            consent_note=body.consent_note,
            lawful_basis=body.lawful_basis,
            purpose=body.purpose,
            items=tuple((i.feed, i.record_id) for i in body.items),
            respond_by=body.respond_by,
        ),
    )
    access.db.commit()
    return out(referral, today=access.now.date())


@router.post(
    "/{referral_id}/transitions",
    response_model=ReferralOut,
    summary="Accept, reject, record an action on, transfer or close a referral sent to your organisation",
)
def transition(
    referral_id: IdPath, body: TransitionIn, access: Annotated[Access, Depends(require("handle-referral"))]
) -> ReferralOut:
    referral = take_referral_step(
        access, referral_id=referral_id, step=body.step, note=body.note, to_organisation_id=body.to_organisation_id
    )
    access.db.commit()
    return out(referral, today=access.now.date())
