"""``/api/referrals``: refer a person from a flag to a partner organisation, and take the referral's steps.

A referral is seen only by the organisation that sent it and the organisation it is now sent to; anyone else gets
404, as if it did not exist. Reading one is identifiable: the resolver decides, for the referral's purpose and the
feeds of its flag's evidence, under the reader's organisation's agreements (the receiving organisation's
agreement about its own cases applies: sending records that relationship). Only the organisation it is sent to
takes its steps (accept, reject, record an action, transfer, close), as the state machine in
:mod:`commonground.cases.referrals` allows. Every read and step is audited in the same transaction. The
operations are :mod:`commonground.cases.referral_work`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from fastapi import APIRouter, Depends, Query
from pydantic import Field, model_validator

from commonground.access.purposes import Purpose
from commonground.cases.referral_work import make_referral, read_referral, read_referrals, take_referral_step
from commonground.cases.referrals import (
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
    work_item_id: int = Field(ge=1, le=MAX_ID, description="The work item (flag) the referral is made from")
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
    purpose: Purpose | None = Field(default=None, description="Defaults to the purpose of the work item's rule")

    @model_validator(mode="after")
    def _consent_explained(self) -> Self:
        if self.consent is not Consent.GIVEN and len((self.consent_note or "").strip()) < 3:
            raise ValueError("consent_note is required when consent is not given: say why")
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


def out(referral: Referral) -> ReferralOut:
    return ReferralOut.model_validate(
        {
            **{k: getattr(referral, k) for k in ReferralOut.model_fields if k not in {"next_steps", "events"}},
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
    return ReferralList(items=[out(r) for r in shown.items], withheld=shown.withheld)


@router.get("/{referral_id}", response_model=ReferralOut, summary="One referral, with its history")
def get_referral(referral_id: IdPath, access: Annotated[Access, Depends(require("view-referrals"))]) -> ReferralOut:
    referral = read_referral(access, referral_id=referral_id)
    access.db.commit()
    return out(referral)


@router.post("", response_model=ReferralOut, status_code=201, summary="Refer the person of a work item to a partner")
def create_referral(body: ReferralIn, access: Annotated[Access, Depends(require("make-referral"))]) -> ReferralOut:
    referral = make_referral(
        access,
        work_item_id=body.work_item_id,
        new=NewReferral(
            to_organisation_id=body.to_organisation_id,
            summary=body.summary,
            consent=body.consent,
            consent_note=body.consent_note,
            lawful_basis=body.lawful_basis,
            purpose=body.purpose,
        ),
    )
    access.db.commit()
    return out(referral)


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
    return out(referral)
