"""``/api/notices``: the Operation Encompass notices sent to your school, and ``/api/outbox/send``.

A school sees only its own notices: another school's notice is "not found". Reading a notice opens identifiable
data (the child's name and date of birth): each read is checked against the school's agreements for the purpose
of the notice's work item (Operation Encompass) and audited. Acknowledging is audited too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from commonground.access import audit
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.notices import Notice, acknowledge, notices_for_school, send_notices, subject_of
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import Out
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api", tags=["notices"], responses=ERRORS)


class NoticeOut(Out):
    id: int
    person_id: str
    child_name: str
    child_date_of_birth: dt.date | None
    incident_reference: str | None
    incident_at: dt.datetime | None
    child_present: bool | None = Field(
        description="Named on the incident as present, victim or witness; null when not recorded."
    )
    police_contact: str | None
    due_by: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    acknowledged_by_user_id: int | None


class NoticeList(BaseModel):
    notices: list[NoticeOut]
    withheld: int = Field(description="Notices of your school that no agreement in force lets you see now.")


class OutboxRun(BaseModel):
    notices_created: int
    emails_queued: int
    sent: int
    failed: int
    waiting: int = Field(description="Messages still unsent (failed now, or waiting before their next attempt).")
    notices_without_recipient: int


def open_notice(access: Access, notice_id: int, name: str) -> tuple[Notice, Decision, Subject]:
    """The notice ``notice_id`` if the signed-in person may take ``name`` on it; another school's is not found."""
    notice = access.db.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, NOT_FOUND)
    subject = subject_of(notice)
    decision = access.check(name, subject, purpose=notice.work_item.purpose)
    if not decision.allowed:
        raise access.refuse(decision, subject, not_found=subject.organisation_id != access.me().organisation_id)
    return notice, decision, subject


def readable_notices(access: Access) -> tuple[list[tuple[Notice, Decision, Subject]], int]:
    """The school's notices the person may read (unacknowledged first), and how many were withheld."""
    shown: list[tuple[Notice, Decision, Subject]] = []
    withheld = 0
    for notice in notices_for_school(access.db, organisation_id=access.me().organisation_id):
        subject = subject_of(notice)
        decision = access.check("view-notices", subject, purpose=notice.work_item.purpose)
        if decision.allowed:
            shown.append((notice, decision, subject))
        else:
            withheld += 1
    return shown, withheld


def audit_notice_reads(access: Access, shown: list[tuple[Notice, Decision, Subject]]) -> None:
    by_purpose: dict[Purpose, list[tuple[Decision, Subject]]] = {}
    for notice, decision, subject in shown:
        by_purpose.setdefault(notice.work_item.purpose, []).append((decision, subject))
    for purpose, pairs in by_purpose.items():
        access.audit_reads(pairs, purpose=purpose)


@router.get("/notices", response_model=NoticeList, summary="Your school's notices, unacknowledged first")
def list_notices(access: Annotated[Access, Depends(require("view-notices"))]) -> NoticeList:
    shown, withheld = readable_notices(access)
    audit_notice_reads(access, shown)
    access.db.commit()
    return NoticeList(notices=[NoticeOut.model_validate(n) for n, _, _ in shown], withheld=withheld)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Open one notice")
def get_notice(notice_id: IdPath, access: Annotated[Access, Depends(require("view-notices"))]) -> Notice:
    notice, decision, subject = open_notice(access, notice_id, "view-notices")
    access.audit_reads([(decision, subject)], purpose=notice.work_item.purpose)
    access.db.commit()
    return notice


@router.post("/notices/{notice_id}/acknowledge", response_model=NoticeOut, summary="Acknowledge a notice as read")
def acknowledge_notice(notice_id: IdPath, access: Annotated[Access, Depends(require("acknowledge-notice"))]) -> Notice:
    notice, _, _ = open_notice(access, notice_id, "acknowledge-notice")
    acknowledge(access.db, notice=notice, by=access.me().actor, now=access.now)
    access.db.commit()
    return notice


@router.post("/outbox/send", response_model=OutboxRun, summary="Make notices from new work items and send the outbox")
def send_outbox(access: Annotated[Access, Depends(require("send-notices"))]) -> OutboxRun:
    me = access.me()
    view = access.request.app.state.person_views.current()
    made, result = send_notices(access.db, settings=access.request.app.state.settings, person_view=view, by=me.actor)
    run = OutboxRun(
        notices_created=made.created,
        emails_queued=made.emails_queued,
        sent=result.sent,
        failed=result.failed,
        waiting=result.waiting,
        notices_without_recipient=made.no_recipient,
    )
    audit.record(
        access.db,
        audit.Event(actor=me.actor, action="send-notices", subject_type="notice", detail=run.model_dump()),
    )
    access.db.commit()
    return run
