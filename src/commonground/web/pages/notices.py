"""School notifications (Operation Encompass): the school's notices, unacknowledged first with their deadlines,
one notice with the minimum data, and the Acknowledge button. A school sees only its own notices: another
school's notice is "not found", whatever its number. Every read and every acknowledgement is audited, by the
operations of :mod:`commonground.cases.notice_work`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from commonground.access.roles import ROLE_GRANTS
from commonground.cases.notice_work import acknowledge_notice, read_notice, read_notices
from commonground.cases.notices import Notice
from commonground.errors import UserError
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
    shown = read_notices(access)
    access.db.commit()
    rows = [(n, *rag_of(n, access)) for n in shown.items]
    waiting = [r for r in rows if r[1] != "acknowledged"]
    return page(
        access,
        "notices.html",
        title="Notices from the police",
        waiting=waiting,
        acknowledged=[r for r in rows if r[1] == "acknowledged"],
        withheld=shown.withheld,
        counts={k: sum(1 for r in waiting if r[1] == k) for k in ("overdue", "red", "amber", "green")},
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(notice_id: IdPath, access: Annotated[Access, Depends(require("view-notices"))]) -> HTMLResponse:
    notice = read_notice(access, notice_id=notice_id)
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
    try:
        acknowledge_notice(access, notice_id=notice_id)
    except UserError:  # acknowledged already: back to the notice, which says when and by whom
        access.db.rollback()
        return redirect(f"/notices/{notice_id}")
    access.db.commit()
    return redirect(f"/notices/{notice_id}", done="acknowledged")


def _granted(access: Access) -> frozenset[str]:
    return ROLE_GRANTS[access.me().role]
