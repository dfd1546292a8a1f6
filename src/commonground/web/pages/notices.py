"""School notifications (Operation Encompass): the school's notices, unacknowledged first with their deadlines,
one notice with the minimum data, and the Acknowledge button. A school sees only its own notices: another
school's notice is "not found", whatever its number. Every read and every acknowledgement is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from commonground.cases.notices import Notice, acknowledge, notices_for_school, unacknowledged
from commonground.errors import UserError
from commonground.web.api.notices import audit_notice_reads, open_notice, readable_notices
from commonground.web.deps import Access, require
from commonground.web.params import IdPath
from commonground.web.render import page, redirect, time_left

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {"acknowledged": "You have acknowledged the notice."}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""


def rag_of(notice: Notice, access: Access) -> tuple[str, str]:
    """The deadline status of a notice: acknowledged, or its RAG and the time left before 08:30."""
    if notice.acknowledged_at is not None:
        return "acknowledged", "acknowledged"
    return time_left(notice.due_by, access.now)


@router.get("/notices", response_class=HTMLResponse)
def notices_page(access: Annotated[Access, Depends(require("view-notices"))]) -> HTMLResponse:
    shown, withheld = readable_notices(access)
    audit_notice_reads(access, shown)
    access.db.commit()
    rows = [(n, *rag_of(n, access)) for n, _, _ in shown]
    waiting = [r for r in rows if r[1] != "acknowledged"]
    return page(
        access,
        "notices.html",
        title="Notices from the police",
        waiting=waiting,
        acknowledged=[r for r in rows if r[1] == "acknowledged"],
        withheld=withheld,
        counts={k: sum(1 for r in waiting if r[1] == k) for k in ("overdue", "red", "amber", "green")},
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(notice_id: IdPath, access: Annotated[Access, Depends(require("view-notices"))]) -> HTMLResponse:
    notice, decision, subject = open_notice(access, notice_id, "view-notices")
    access.audit_reads([(decision, subject)], purpose=notice.work_item.purpose)
    access.db.commit()
    rag, words = rag_of(notice, access)
    return page(
        access,
        "notice.html",
        title="Operation Encompass notice",
        notice=notice,
        rag=rag,
        time_left=words,
        may_acknowledge="acknowledge-notice" in _granted(access),
    )


@router.post("/notices/{notice_id}/acknowledge")
def acknowledge_page(notice_id: IdPath, access: Annotated[Access, Depends(require("acknowledge-notice"))]) -> Response:
    notice, _, _ = open_notice(access, notice_id, "acknowledge-notice")
    try:
        acknowledge(access.db, notice=notice, by=access.me().actor, now=access.now)
    except UserError:
        access.db.rollback()
        return redirect(f"/notices/{notice.id}")
    access.db.commit()
    return redirect(f"/notices/{notice.id}", done="acknowledged")


def _granted(access: Access) -> frozenset[str]:
    from commonground.access.roles import ROLE_GRANTS

    return ROLE_GRANTS[access.me().role]


def waiting_summary(access: Access) -> dict[str, object]:
    """For the school lead's home page: how many notices wait, how many are late, the next deadline (counts
    only, nothing about a pupil)."""
    waiting = unacknowledged(notices_for_school(access.db, organisation_id=access.me().organisation_id))
    return {
        "waiting": len(waiting),
        "overdue": sum(1 for n in waiting if n.due_by < access.now),
        "next_due": min((n.due_by for n in waiting if n.due_by >= access.now), default=None),
    }
