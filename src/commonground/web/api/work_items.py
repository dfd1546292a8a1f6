"""``/api/work-items``: the flags routed to your organisation and role, with their evidence and deadlines.

Work items are identifiable: each read needs a ``purpose`` that an agreement in force allows, and is audited
(one event per item shown). A practitioner whose role may break glass can open one item that no agreement
covers by sending a reason in the ``Commonground-Break-Glass-Reason`` header (a header, so that free text never
lands in URLs or access logs); the access is reported to the data protection officer. The operations are
:mod:`commonground.cases.queue`'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from commonground.cases.queue import change_work_item, list_work_items, read_work_item
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import WorkItemList, WorkItemOut, WorkItemPatch
from commonground.web.deps import Access, require
from commonground.web.params import BreakGlassHeader, IdPath, PurposeQuery

router = APIRouter(prefix="/api/work-items", tags=["work items"], responses=ERRORS)


@router.get("", response_model=WorkItemList, summary="Your queue, soonest deadline first")
def queue(
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("view-work-items"))],
    status: WorkItemStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WorkItemList:
    shown = list_work_items(access, purpose=purpose, status=status, limit=limit)
    access.db.commit()
    return WorkItemList(items=[WorkItemOut.model_validate(i) for i in shown.items], withheld=shown.withheld)


@router.get("/{item_id}", response_model=WorkItemOut, summary="Open one work item")
def work_item(
    item_id: IdPath,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("view-work-items"))],
    break_glass_reason: BreakGlassHeader = None,
) -> WorkItem:
    item = read_work_item(access, item_id=item_id, purpose=purpose, break_glass_reason=break_glass_reason)
    access.db.commit()
    return item


@router.patch("/{item_id}", response_model=WorkItemOut, summary="Claim, assign or close a work item")
def patch_work_item(
    item_id: IdPath,
    body: WorkItemPatch,
    purpose: PurposeQuery,
    access: Annotated[Access, Depends(require("update-work-item"))],
) -> WorkItem:
    item = change_work_item(
        access,
        item_id=item_id,
        purpose=purpose,
        status=body.status,
        assigned_to_user_id=body.assigned_to_user_id,
        outcome=body.outcome,
        outcome_code=body.outcome_code,
    )
    access.db.commit()
    return item
