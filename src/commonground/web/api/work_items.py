"""``/api/work-items``: the flags routed to your organisation and role, with their evidence and deadlines.

Work items are identifiable: each read needs a ``purpose`` that an agreement in force allows, and is audited
(one event per item shown). A practitioner whose role may break glass can open one item that no agreement
covers by sending a reason in the ``Commonground-Break-Glass-Reason`` header (a header, so that free text never
lands in URLs or access logs); the access is reported to the data protection officer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select

from commonground.access.actions import SubjectKind
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.work_items import WorkItem, WorkItemStatus, update_work_item
from commonground.errors import UserError
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import WorkItemList, WorkItemOut, WorkItemPatch
from commonground.web.deps import NOT_FOUND, Access, require
from commonground.web.params import BreakGlassHeader, IdPath, PurposeQuery

router = APIRouter(prefix="/api/work-items", tags=["work items"], responses=ERRORS)


def subject_of(item: WorkItem) -> Subject:
    return Subject(
        kind=SubjectKind.WORK_ITEM,
        id=str(item.id),
        organisation_id=item.organisation_id,
        role=item.role,
        person_id=item.person_id,
        feeds=item.evidence_feeds,
    )


@router.get("", response_model=WorkItemList, summary="Your queue, soonest deadline first")
def queue(
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("view-work-items"))],
    status: WorkItemStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WorkItemList:
    me = access.me()
    query = (
        select(WorkItem)
        .where(WorkItem.organisation_id == me.organisation_id, WorkItem.role == me.role)
        .order_by(WorkItem.due_by, WorkItem.id)
    )
    if status is not None:
        query = query.where(WorkItem.status == status)
    shown: list[tuple[WorkItem, Decision, Subject]] = []
    withheld = 0
    for item in access.db.scalars(query):
        subject = subject_of(item)
        decision = access.check("view-work-items", subject, purpose=purpose)
        if not decision.allowed:
            withheld += 1
        elif len(shown) < limit:
            shown.append((item, decision, subject))
    access.audit_reads([(d, s) for _, d, s in shown], purpose=purpose)
    access.db.commit()
    return WorkItemList(items=[WorkItemOut.model_validate(i) for i, _, _ in shown], withheld=withheld)


def _open(
    access: Access, item_id: IdPath, name: str, *, purpose: Purpose, break_glass_reason: str | None
) -> tuple[WorkItem, Decision, Subject]:
    item = access.db.get(WorkItem, item_id)
    if item is None:
        raise HTTPException(404, NOT_FOUND)
    subject = subject_of(item)
    decision = access.check(name, subject, purpose=purpose, break_glass_reason=break_glass_reason)
    if not decision.allowed:
        raise access.refuse(decision, subject)
    return item, decision, subject


@router.get("/{item_id}", response_model=WorkItemOut, summary="Open one work item")
def work_item(
    item_id: IdPath,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("view-work-items"))],
    break_glass_reason: BreakGlassHeader = None,
) -> WorkItem:
    item, decision, subject = _open(
        access, item_id, "view-work-items", purpose=purpose, break_glass_reason=break_glass_reason
    )
    access.audit_reads([(decision, subject)], purpose=purpose, reason=break_glass_reason)
    access.db.commit()
    return item


@router.patch("/{item_id}", response_model=WorkItemOut, summary="Claim, assign or close a work item")
def patch_work_item(
    item_id: IdPath,
    body: WorkItemPatch,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("update-work-item"))],
) -> WorkItem:
    item, _, _ = _open(access, item_id, "update-work-item", purpose=purpose, break_glass_reason=None)
    me = access.me()
    if body.assigned_to_user_id is not None:
        assignee = access.db.get(User, body.assigned_to_user_id)
        if (
            assignee is None
            or not assignee.active
            or (assignee.organisation_id, assignee.role)
            != (
                item.organisation_id,
                item.role,
            )
        ):
            raise UserError("a work item can be assigned only to an active colleague in the role it is routed to")
    update_work_item(
        access.db,
        item=item,
        by=me.actor,
        status=body.status,
        assigned_to_user_id=body.assigned_to_user_id,
        outcome=body.outcome,
        purpose=purpose,
    )
    access.db.commit()
    return item
