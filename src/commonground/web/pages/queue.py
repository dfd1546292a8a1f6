"""The queue: the flags routed to my organisation and role, soonest deadline first, with claim, assign and close.

Reading the queue opens identifiable records (who is flagged, for what): each item is checked by the resolver for
the purpose its rule serves and audited as read; an item no agreement covers is withheld and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, select

from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Principal, Subject
from commonground.cases.person_view import Identity
from commonground.cases.work_items import WorkItem, WorkItemStatus, update_work_item
from commonground.web.api.work_items import subject_of
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import IdPath
from commonground.web.present import agency
from commonground.web.render import page, redirect, time_left
from commonground.web.rule_titles import rule_title

router = APIRouter(include_in_schema=False)

DONE: dict[str, str] = {
    "claimed": "You have claimed the work item.",
    "assigned": "The work item has been assigned.",
    "closed": "The work item is closed.",
    "reopened": "The work item is open again.",
}
"""What this area's forms confirm after a redirect (``?done=CODE``); gathered by ``pages.done_messages()``."""

STATUS_LABELS = {
    WorkItemStatus.OPEN: "Not started",
    WorkItemStatus.IN_PROGRESS: "In progress",
    WorkItemStatus.CLOSED: "Closed",
}


@dataclass(frozen=True)
class Row:
    item: WorkItem
    identity: Identity | None
    rag: str
    time_left: str
    title: str
    assignee: str | None


def _identity(access: Access, person_id: str) -> Identity | None:
    view = access.request.app.state.person_views.current()
    return view.identity(person_id) if view is not None else None


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    access: Annotated[Access, Depends(require("view-work-items"))],
    status: Annotated[str, Query(max_length=20)] = "active",
    rag: Annotated[str, Query(max_length=10)] = "",
    rule: Annotated[str, Query(max_length=100)] = "",
    person: Annotated[str, Query(max_length=64)] = "",
    mine: Annotated[str, Query(max_length=3)] = "",
) -> HTMLResponse:
    me = access.me()
    query = _filtered(me, status=status, rule=rule, person=person, mine=mine)
    names = {
        u.id: u.display_name for u in access.db.scalars(select(User).where(User.organisation_id == me.organisation_id))
    }
    rows: list[Row] = []
    read: dict[Purpose, list[tuple[Decision, Subject]]] = {}
    withheld = 0
    for item in access.db.scalars(query.limit(1000)):
        subject = subject_of(item)
        decision = access.check("view-work-items", subject, purpose=item.purpose)
        if not decision.allowed:
            withheld += 1
            continue
        state, words = time_left(item.due_by, access.now)
        if item.status is WorkItemStatus.CLOSED:
            state, words = "closed", "closed"
        if rag and state != rag:
            continue
        read.setdefault(item.purpose, []).append((decision, subject))
        rows.append(
            Row(
                item=item,
                identity=_identity(access, item.person_id),
                rag=state,
                time_left=words,
                title=rule_title(access, item.rule_id),
                assignee=names.get(item.assigned_to_user_id) if item.assigned_to_user_id else None,
            )
        )
        if len(rows) >= 200:
            break
    for purpose, pairs in read.items():
        access.audit_reads(pairs, purpose=purpose)
    access.db.commit()
    rules = sorted({r.item.rule_id for r in rows} | ({rule} if rule else set()))
    counts = {k: sum(1 for r in rows if r.rag == k) for k in ("overdue", "red", "amber", "green")}
    ages = _age_buckets(rows, access)
    return page(
        access,
        "queue.html",
        title="Your queue",
        rows=rows,
        withheld=withheld,
        status_filter=status,
        rag=rag,
        rule=rule,
        person=person,
        mine=mine,
        rules=[(r, rule_title(access, r)) for r in rules],
        counts=counts,
        ages=ages,
        status_labels=STATUS_LABELS,
    )


def _filtered(me: Principal, *, status: str, rule: str, person: str, mine: str) -> Select[WorkItem]:
    """The queue's query: my organisation and role, soonest deadline first, with the filters chosen."""
    query = (
        select(WorkItem)
        .where(WorkItem.organisation_id == me.organisation_id, WorkItem.role == me.role)
        .order_by(WorkItem.due_by, WorkItem.id)
    )
    if status == "active":
        query = query.where(WorkItem.status != WorkItemStatus.CLOSED)
    elif status in {s.value for s in WorkItemStatus}:
        query = query.where(WorkItem.status == WorkItemStatus(status))
    if rule:
        query = query.where(WorkItem.rule_id == rule)
    if person.strip():
        query = query.where(WorkItem.person_id == person.strip())
    if mine == "yes":
        query = query.where(WorkItem.assigned_to_user_id == me.user_id)
    return query


def _age_buckets(rows: list[Row], access: Access) -> list[tuple[str, int, str]]:
    buckets = [("Under 1 day", 0), ("1 to 3 days", 0), ("3 to 7 days", 0), ("Over a week", 0)]
    counts = [0, 0, 0, 0]
    for row in rows:
        if row.item.status is WorkItemStatus.CLOSED:
            continue
        days = (access.now - row.item.created_at).total_seconds() / 86400
        counts[0 if days < 1 else 1 if days < 3 else 2 if days < 7 else 3] += 1
    return [(label, counts[i], "grey") for i, (label, _) in enumerate(buckets)]


def _open_item(access: Access, item_id: int, name: str) -> tuple[WorkItem, Decision, Subject]:
    item = access.db.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(404, NOT_FOUND)
    subject = subject_of(item)
    decision = access.check(name, subject, purpose=item.purpose)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    return item, decision, subject


@router.get("/queue/{item_id}", response_class=HTMLResponse)
def work_item_page(item_id: IdPath, access: Annotated[Access, Depends(require("view-work-items"))]) -> HTMLResponse:
    item, decision, subject = _open_item(access, item_id, "view-work-items")
    access.audit_reads([(decision, subject)], purpose=item.purpose)
    access.db.commit()
    me = access.me()
    view = access.request.app.state.person_views.current()
    identity = view.identity(item.person_id) if view else None
    result = None
    if view is not None:
        results = [r for r in view.rule_results(item.person_id, feeds=item.evidence_feeds) if r.rule_id == item.rule_id]
        result = results[0] if results else None
    colleagues = list(
        access.db.scalars(
            select(User)
            .where(User.organisation_id == me.organisation_id, User.role == item.role, User.active.is_(True))
            .order_by(User.display_name)
        )
    )
    state, words = time_left(item.due_by, access.now)
    return page(
        access,
        "work_item.html",
        title=rule_title(access, item.rule_id),
        item=item,
        identity=identity,
        result=result,
        colleagues=colleagues,
        rag=state if item.status is not WorkItemStatus.CLOSED else "closed",
        time_left=words,
        status_labels=STATUS_LABELS,
        agency=agency,
        assignee=next((c.display_name for c in colleagues if c.id == item.assigned_to_user_id), None),
    )


@router.post("/queue/{item_id}")
def change_work_item(
    item_id: IdPath,
    access: Annotated[Access, Depends(require("update-work-item"))],
    do: Annotated[str, Form(max_length=20)],
    assignee: Annotated[int | None, Form()] = None,
    outcome: Annotated[str, Form(max_length=4_000)] = "",
) -> Response:
    item, _, _ = _open_item(access, item_id, "update-work-item")
    me = access.me()
    if do == "claim":
        update_work_item(
            access.db,
            item=item,
            by=me.actor,
            status=WorkItemStatus.IN_PROGRESS,
            assigned_to_user_id=me.user_id,
            outcome=None,
            purpose=item.purpose,
        )
        done = "claimed"
    elif do == "assign":
        colleague = access.db.get(User, assignee) if assignee else None
        if (
            colleague is None
            or not colleague.active
            or (colleague.organisation_id, colleague.role) != (item.organisation_id, item.role)
        ):
            raise HTTPException(400, "a work item can be assigned only to an active colleague in its role")
        update_work_item(
            access.db,
            item=item,
            by=me.actor,
            status=None,
            assigned_to_user_id=colleague.id,
            outcome=None,
            purpose=item.purpose,
        )
        done = "assigned"
    elif do == "close":
        if not outcome.strip():
            access.db.rollback()
            return redirect(f"/queue/{item.id}?error=outcome")
        update_work_item(
            access.db,
            item=item,
            by=me.actor,
            status=WorkItemStatus.CLOSED,
            assigned_to_user_id=None,
            outcome=outcome.strip(),
            purpose=item.purpose,
        )
        done = "closed"
    elif do == "reopen":
        update_work_item(
            access.db,
            item=item,
            by=me.actor,
            status=WorkItemStatus.IN_PROGRESS,
            assigned_to_user_id=None,
            outcome=None,
            purpose=item.purpose,
        )
        done = "reopened"
    else:
        raise HTTPException(400, "unknown change")
    access.db.commit()
    return redirect(f"/queue/{item.id}", done=done)
