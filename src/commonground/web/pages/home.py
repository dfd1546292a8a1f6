"""The home page: for each role, what it needs first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from commonground.access.resolver import CHANGE_PASSWORD_FIRST, Refusal
from commonground.access.roles import ROLE_GRANTS, Role
from commonground.cases.notice_work import waiting_summary
from commonground.cases.referral_work import referrals_overdue, referrals_waiting
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.errors import Refused
from commonground.web.deps import Access, require
from commonground.web.pages.dpo import agreements_ending_soon, break_glass_waiting
from commonground.web.render import due_words, page

router = APIRouter(include_in_schema=False)

CASEWORK = {
    Role.HUB_PRACTITIONER,
    Role.MARAC_COORDINATOR,
    Role.POLICE_OFFICER,
    Role.CONTROL_ROOM_MH_PROFESSIONAL,
    Role.PARTNER_TEAM_MEMBER,
    Role.SCHOOL_SAFEGUARDING_LEAD,
}


def queue_summary(access: Access) -> dict[str, int]:
    """Counts of the open work routed to the person's organisation and role: by rating (red, amber, green, and
    ``unrated``), overdue (apart from the rating: #17), assigned to the person, and not yet assigned."""
    me = access.me()
    rows = access.db.execute(
        select(WorkItem.due_by, WorkItem.rating, WorkItem.assigned_to_user_id).where(
            WorkItem.organisation_id == me.organisation_id,
            WorkItem.role == me.role,
            WorkItem.status != WorkItemStatus.CLOSED,
        )
    ).all()
    counts = {"open": len(rows), "overdue": 0, "red": 0, "amber": 0, "green": 0, "unrated": 0}
    counts |= {"mine": 0, "unassigned": 0}
    for due_by, rating, assignee in rows:
        counts[rating.value if rating else "unrated"] += 1
        if due_words(due_by, access.now)[0]:
            counts["overdue"] += 1
        if assignee == me.user_id:
            counts["mine"] += 1
        elif assignee is None:
            counts["unassigned"] += 1
    return counts


@router.get("/", response_class=HTMLResponse)
def home(access: Annotated[Access, Depends(require("view-self"))]) -> HTMLResponse:
    me = access.me()
    if me.password_change_due:  # "view-self" lets them see their account; the error handler takes them there
        raise Refused(CHANGE_PASSWORD_FIRST, refusal=Refusal.CHANGE_PASSWORD_FIRST)
    context: dict[str, Any] = {"role": me.role, "casework": me.role in CASEWORK}
    if me.role in CASEWORK:
        context["queue"] = queue_summary(access)
    if "handle-referral" in ROLE_GRANTS[me.role]:  # referrals sent to my organisation, waiting for an answer
        context["referrals_waiting"] = referrals_waiting(access)
        context["referrals_overdue"] = referrals_overdue(access)
    closed = access.db.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(WorkItem.organisation_id == me.organisation_id, WorkItem.status == WorkItemStatus.CLOSED)
    )
    context["closed"] = closed or 0
    if me.role is Role.SCHOOL_SAFEGUARDING_LEAD:  # notices from the police come first (#6)
        context["school_notices"] = waiting_summary(access)
    if "review-break-glass" in ROLE_GRANTS[me.role]:  # the data protection officer's panel (#6)
        context["dpo"] = {"waiting": break_glass_waiting(access), "ending": agreements_ending_soon(access)}
    return page(access, "home.html", title="Home", **context)
