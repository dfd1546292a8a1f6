"""``/api/audit`` and ``/api/break-glass``: the audit log, its verification, break-glass reports (the DPO)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select

from commonground.access import audit
from commonground.access.models import AuditEvent, BreakGlassReport
from commonground.errors import UserError
from commonground.web.api.common import ERRORS
from commonground.web.api.schemas import AuditEventOut, BreakGlassOut, ChainHeadOut, ReviewIn, VerificationOut
from commonground.web.deps import NOT_FOUND, Access, require
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
    return audit.list_events(access.db, before_seq=before_seq, limit=limit, person_id=person_id, action=action)


@router.get("/audit/verify", response_model=VerificationOut, summary="Check the audit log's hash chain")
def verify(access: Annotated[Access, Depends(require("verify-audit"))]) -> VerificationOut:
    result = audit.verify_audit(access.db)
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
    query = select(BreakGlassReport).order_by(BreakGlassReport.id.desc())
    if unreviewed:
        query = query.where(BreakGlassReport.reviewed_at.is_(None))
    return list(access.db.scalars(query))


@router.post("/break-glass/{report_id}/review", response_model=BreakGlassOut, summary="Record a review")
def review(
    report_id: IdPath, body: ReviewIn, access: Annotated[Access, Depends(require("review-break-glass"))]
) -> BreakGlassReport:
    report = access.db.get(BreakGlassReport, report_id)
    if report is None:
        raise HTTPException(404, NOT_FOUND)
    if report.reviewed_at is not None:
        raise UserError("this break-glass access has already been reviewed")
    me = access.me()
    report.reviewed_at = access.now
    report.reviewed_by_user_id = me.user_id
    report.review_note = body.note
    audit.record(
        access.db,
        audit.Event(
            actor=me.actor,
            action="review-break-glass",
            subject_type="audit_log",
            subject_id=str(report.audit_seq),
            detail={"report": report.id},
        ),
    )
    access.db.commit()
    return report
