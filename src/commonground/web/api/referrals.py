"""``/api/referrals``: refer a person from a flag to a partner organisation, and take the referral's steps.

A referral is seen only by the organisation that sent it and the organisation it is now sent to; anyone else gets
404, as if it did not exist. Reading one is identifiable: the resolver decides, for the referral's purpose and the
feeds of its flag's evidence, under the reader's organisation's agreements (the receiving organisation's
agreement about its own cases applies: sending records that relationship). Only the organisation it is sent to
takes its steps (accept, reject, record an action, transfer, close), as the state machine in
:mod:`commonground.cases.referrals` allows. Every read and step is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import Field, model_validator

from commonground.access.actions import SubjectKind
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.referrals import (
    MAX_TEXT,
    NOTE_REQUIRED,
    Consent,
    NewReferral,
    Referral,
    ReferralStatus,
    Step,
    allowed_steps,
    is_party,
    referrals_of,
    send_referral,
    take_step,
)
from commonground.cases.work_items import WorkItem
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import In, Out
from commonground.web.api.work_items import subject_of as work_item_subject
from commonground.web.deps import NOT_FOUND, Access, require
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


def subject_of(referral: Referral) -> Subject:
    return Subject(
        kind=SubjectKind.REFERRAL,
        id=str(referral.id),
        organisation_id=referral.to_organisation_id,
        person_id=referral.person_id,
        feeds=referral.feeds,
    )


def out(referral: Referral) -> ReferralOut:
    return ReferralOut.model_validate(
        {
            **{k: getattr(referral, k) for k in ReferralOut.model_fields if k not in {"next_steps", "events"}},
            "next_steps": [s for s in allowed_steps(referral.status) if s is not Step.SEND],
            "events": [ReferralEventOut.model_validate(e) for e in referral.events],
        }
    )


def open_referral(access: Access, referral_id: int, name: str) -> tuple[Referral, Decision, Subject]:
    """The referral, if the person's organisation is party to it and the resolver lets them take ``name`` on it;
    404 for a referral that is not theirs, the resolver's refusal (audited) otherwise."""
    me = access.me()
    referral = access.db.get(Referral, referral_id)
    if referral is None or not is_party(referral, me.organisation_id):
        raise HTTPException(404, NOT_FOUND)
    subject = subject_of(referral)
    decision = access.check(name, subject, purpose=referral.purpose)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    return referral, decision, subject


def open_work_item(access: Access, work_item_id: int, *, audit_read: bool = False) -> WorkItem:
    """A work item of the person's own queue that they may read; 404 otherwise (audited when refused). With
    ``audit_read``, the read is audited (in the session's transaction) for a page that shows it."""
    item = access.db.get(WorkItem, work_item_id)
    if item is None:
        raise HTTPException(404, NOT_FOUND)
    subject = work_item_subject(item)
    decision = access.check("view-work-items", subject, purpose=item.purpose)
    if not decision.allowed:
        raise access.refuse(decision, subject, not_found=True)
    if audit_read:
        access.audit_reads([(decision, subject)], purpose=item.purpose)
    return item


def make_referral(access: Access, item: WorkItem, new: NewReferral) -> Referral:
    """Check ``make-referral`` for the new referral's person, feeds and purpose, then send it (not committed)."""
    me = access.me()
    subject = Subject(
        kind=SubjectKind.REFERRAL,
        organisation_id=new.to_organisation_id,
        person_id=item.person_id,
        feeds=item.evidence_feeds,
    )
    decision = access.check("make-referral", subject, purpose=new.purpose)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    return send_referral(access.db, item=item, by=me.actor, new=new)


def handled_by_me(access: Access, referral_id: int) -> Referral:
    """A referral sent to the person's organisation that the resolver lets them handle; 404 for one that is not
    their organisation's, 403 (audited) for the sender or a refusal of the resolver."""
    referral, _, _ = open_referral(access, referral_id, "handle-referral")
    if referral.to_organisation_id != access.me().organisation_id:
        raise access.refuse(
            Decision(
                allowed=False,
                action="handle-referral",
                reason="only the organisation the referral is sent to can take its steps",
            ),
            subject_of(referral),
        )
    return referral


def step_referral(
    access: Access, referral_id: int, *, step: Step, note: str | None, to_organisation_id: int | None
) -> Referral:
    """Take one step on a referral sent to the person's organisation (not committed)."""
    referral = handled_by_me(access, referral_id)
    me = access.me()
    return take_step(
        access.db, referral=referral, step=step, by=me.actor, note=note, to_organisation_id=to_organisation_id
    )


@router.get("", response_model=ReferralList, summary="Referrals sent by or to your organisation, newest first")
def list_referrals(
    access: Annotated[Access, Depends(require("view-referrals"))],
    side: Annotated[str, Query(pattern="^(all|sent|received)$", description="all, sent or received")] = "all",
    status: ReferralStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReferralList:
    me = access.me()
    shown: list[tuple[Referral, Decision, Subject]] = []
    withheld = 0
    for referral in referrals_of(
        access.db,
        organisation_id=me.organisation_id,
        sent=side in ("all", "sent"),
        received=side in ("all", "received"),
        status=status,
    ):
        subject = subject_of(referral)
        decision = access.check("view-referrals", subject, purpose=referral.purpose)
        if not decision.allowed:
            withheld += 1
        elif len(shown) < limit:
            shown.append((referral, decision, subject))
    for purpose in dict.fromkeys(r.purpose for r, _, _ in shown):
        access.audit_reads([(d, s) for r, d, s in shown if r.purpose is purpose], purpose=purpose)
    access.db.commit()
    return ReferralList(items=[out(r) for r, _, _ in shown], withheld=withheld)


@router.get("/{referral_id}", response_model=ReferralOut, summary="One referral, with its history")
def get_referral(referral_id: IdPath, access: Annotated[Access, Depends(require("view-referrals"))]) -> ReferralOut:
    referral, decision, subject = open_referral(access, referral_id, "view-referrals")
    access.audit_reads([(decision, subject)], purpose=referral.purpose)
    access.db.commit()
    return out(referral)


@router.post("", response_model=ReferralOut, status_code=201, summary="Refer the person of a work item to a partner")
def create_referral(body: ReferralIn, access: Annotated[Access, Depends(require("make-referral"))]) -> ReferralOut:
    item = open_work_item(access, body.work_item_id)
    referral = make_referral(
        access,
        item,
        NewReferral(
            to_organisation_id=body.to_organisation_id,
            summary=body.summary,
            consent=body.consent,
            consent_note=body.consent_note,
            lawful_basis=body.lawful_basis,
            purpose=body.purpose or item.purpose,
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
    referral = step_referral(
        access, referral_id, step=body.step, note=body.note, to_organisation_id=body.to_organisation_id
    )
    access.db.commit()
    return out(referral)
