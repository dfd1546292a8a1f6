"""``/api/audit`` and ``/api/break-glass``: the audit log, its verification, break-glass reports (the DPO).

A report reviewed already is answered 409 ("that break-glass access had already been reviewed"), as the DPO's page
says it: both call :func:`commonground.cases.break_glass.review_break_glass`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from commonground.access.models import AuditEvent, BreakGlassReport
from commonground.cases import audit_log as audit_work
from commonground.cases import break_glass
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import AuditEventOut, BreakGlassOut, ChainHeadOut, ReviewIn, VerificationOut
from commonground.web.deps import Access, require
from commonground.web.params import MAX_ID, IdPath

router = APIRouter(prefix="/api", tags=["audit"], responses=ERRORS)


@router.get("/audit", response_model=list[AuditEventOut], summary="The audit log, newest first")
def audit_log(
    access: Annotated[Access, Depends(require("view-audit"))],
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    person_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")] = None,
    action: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z-]+$")] = None,
) -> list[AuditEvent]:
    return audit_work.events(access, before_seq=before_seq, limit=limit, person_id=person_id, action=action)


@router.get("/audit/verify", response_model=VerificationOut, summary="Check the audit log's hash chain")
def verify(access: Annotated[Access, Depends(require("verify-audit"))]) -> VerificationOut:
    result = audit_work.verify(access)
    return VerificationOut(
        ok=result.ok,
        checked=result.checked,
        heads=[ChainHeadOut(chain=h.chain, seq=h.seq, hash=h.hash) for h in result.heads],
        anchor=str(result.anchor),
        problems=list(result.problems),
    )


@router.get("/break-glass", response_model=list[BreakGlassOut], summary="Break-glass accesses, for review")
def break_glass_reports(
    access: Annotated[Access, Depends(require("view-audit"))], unreviewed: bool = False
) -> list[BreakGlassReport]:
    return break_glass.break_glass_reports(access, unreviewed=unreviewed)


@router.post(
    "/break-glass/{report_id}/review",
    response_model=BreakGlassOut,
    summary="Record a review",
    description="A report is reviewed once: reviewing it again is refused with 409 and changes nothing.",
)
def review(
    report_id: IdPath, body: ReviewIn, access: Annotated[Access, Depends(require("review-break-glass"))]
) -> BreakGlassReport:
    return break_glass.review_break_glass(access, report_id=report_id, note=body.note)
