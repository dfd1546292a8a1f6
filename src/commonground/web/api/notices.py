"""``/api/notices``: the Operation Encompass notices sent to your school, and ``/api/outbox/send``.

One notice per incident and school, naming each of the school's pupils linked to it (``children``). A school sees
only its own notices: another school's notice is "not found". Reading a notice opens identifiable data (each child's
name and date of birth): each child is checked against the school's agreements for the purpose of the child's work
item (Operation Encompass) and each read is audited. Acknowledging is audited too. The operations are
:mod:`commonground.cases.notice_work`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from commonground.cases import notice_work
from commonground.cases.notices import Notice
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import Out
from commonground.web.deps import Access, require
from commonground.web.params import IdPath

router = APIRouter(prefix="/api", tags=["notices"], responses=ERRORS)


class NoticeChildOut(Out):
    person_id: str
    child_name: str
    child_date_of_birth: dt.date | None
    involvement: str = Field(
        description="How the child is linked to the incident: 'named' (present, victim or witness), 'at_home' (the "
        "incident was at the child's home) or 'parent_elsewhere' (a parent was involved; the child was not there)."
    )
    child_present: bool | None = Field(
        description="Named on the incident as present, victim or witness; null when not recorded."
    )


class NoticeOut(Out):
    """One incident told to your school, naming each of your pupils linked to it."""

    id: int
    children: list[NoticeChildOut]
    incident_reference: str | None
    incident_at: dt.datetime | None
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


@router.get("/notices", response_model=NoticeList, summary="Your school's notices, unacknowledged first")
def list_notices(access: Annotated[Access, Depends(require("view-notices"))]) -> NoticeList:
    shown = notice_work.read_notices(access)
    access.db.commit()
    return NoticeList(notices=[NoticeOut.model_validate(n) for n in shown.items], withheld=shown.withheld)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Open one notice")
def get_notice(notice_id: IdPath, access: Annotated[Access, Depends(require("view-notices"))]) -> Notice:
    notice = notice_work.read_notice(access, notice_id=notice_id)
    access.db.commit()
    return notice


@router.post("/notices/{notice_id}/acknowledge", response_model=NoticeOut, summary="Acknowledge a notice as read")
def acknowledge_notice(notice_id: IdPath, access: Annotated[Access, Depends(require("acknowledge-notice"))]) -> Notice:
    notice = notice_work.acknowledge_notice(access, notice_id=notice_id)
    access.db.commit()
    return notice


@router.post("/outbox/send", response_model=OutboxRun, summary="Make notices from new work items and send the outbox")
def send_outbox(access: Annotated[Access, Depends(require("send-notices"))]) -> OutboxRun:
    state = access.request.app.state
    report = notice_work.send_outbox(access, settings=state.settings, person_view=state.person_views.current())
    access.db.commit()
    return OutboxRun(**dataclasses.asdict(report))
