"""School notifications (Operation Encompass): the school's notices, unacknowledged first with their deadlines,
one notice per incident naming each of the school's pupils linked to it, with the minimum data, and the Acknowledge
button. A school sees only its own notices (and on them only its own pupils): another school's notice is "not
found", whatever its number. Every read and every acknowledgement is audited, by the operations of
:mod:`commonground.cases.notice_work`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from commonground.access.roles import ROLE_GRANTS
from commonground.cases.notice_corrections import corrections_of
from commonground.cases.notice_work import acknowledge_notice, notice_history, read_notice, read_notices
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
    return _notice(access, notice)


def _notice(access: Access, notice: Notice, *, error: str | None = None) -> HTMLResponse:
    rag, words = rag_of(notice, access)
    return page(
        access,
        "notice.html",
        title="Operation Encompass notice",
        status=409 if error else 200,
        notice=notice,
        rag=rag,
        time_left=words,
        may_acknowledge="acknowledge-notice" in _granted(access),
        earlier=notice_history(access, notice),
        errors={"acknowledge": error} if error else {},
        withdrawn=_withdrawn(access, notice),
    )


@router.post("/notices/{notice_id}/acknowledge")
def acknowledge_page(
    notice_id: IdPath,
    access: Annotated[Access, Depends(require("acknowledge-notice"))],
    seen: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """``seen``: the pupils named on the page the lead read (a pupil who joined the notice since has not been
    read about: the notice is shown again, saying so)."""
    try:
        acknowledge_notice(access, notice_id=notice_id, seen=frozenset(seen) if seen else None)
    except UserError as error:
        access.db.rollback()
        notice = read_notice(access, notice_id=notice_id)
        access.db.commit()
        if notice.acknowledged_at is not None:  # acknowledged already: the notice says when and by whom
            return redirect(f"/notices/{notice_id}")
        return _notice(access, notice, error=str(error).capitalize() + ".")
    access.db.commit()
    return redirect(f"/notices/{notice_id}", done="acknowledged")


def _withdrawn(access: Access, notice: Notice) -> list[tuple[str, str]]:
    """(pupil's name, the reason in words) for each child of the notice whose part is withdrawn (#16)."""
    names = {child.work_item_id: child.child_name for child in notice.children}
    return [(names.get(c.work_item_id, "A pupil"), c.reason) for c in corrections_of(access.db, notice_id=notice.id)]


def _granted(access: Access) -> frozenset[str]:
    return ROLE_GRANTS[access.me().role]
