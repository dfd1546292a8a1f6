"""Break-glass reports: every access opened by break-glass is reported to the data protection officer, who reads
the reports and records one review of each (what they found: was the access justified?).

:func:`review_break_glass` is the one review, for the API (``/api/break-glass``) and the DPO's pages
(``/audit/break-glass``). A report reviewed already is not reviewed again: :class:`AlreadyReviewed` (a 409
"conflict" to an API client; the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.models import AuditEvent, BreakGlassReport, User
from commonground.access.resolver import Refusal, Subject
from commonground.errors import NotFound, Refused, UserError

ALREADY_REVIEWED = "that break-glass access had already been reviewed"
NOTE_NEEDED = "write what you found: was the access justified?"
MIN_NOTE = 3
SHOWN = 500


class AlreadyReviewed(Refused):
    """The report has been reviewed already; nothing changed."""

    def __init__(self) -> None:
        super().__init__(ALREADY_REVIEWED, status=409, refusal=Refusal.WORKFLOW)


def _subject(report_id: int | None = None) -> Subject:
    return Subject(kind=SubjectKind.AUDIT_LOG, id=None if report_id is None else str(report_id))


def break_glass_reports(ctx: Context, *, unreviewed: bool = False) -> list[BreakGlassReport]:
    """Every report (or those waiting for a review), newest first."""
    ctx.require("view-audit", _subject())
    query = select(BreakGlassReport).order_by(BreakGlassReport.id.desc())
    if unreviewed:
        query = query.where(BreakGlassReport.reviewed_at.is_(None))
    return list(ctx.db.scalars(query))


@dataclass(frozen=True)
class Overview:
    """The latest reports, split into those waiting for a review and those reviewed, with the audit entries they
    report and the accounts involved."""

    waiting: list[BreakGlassReport]
    reviewed: list[BreakGlassReport]
    events: dict[int, AuditEvent]
    users: dict[int, User]


def overview(ctx: Context, *, limit: int = SHOWN) -> Overview:
    """The ``limit`` latest reports by when the access happened, newest first."""
    ctx.require("view-audit", _subject())
    reports = list(ctx.db.scalars(select(BreakGlassReport).order_by(BreakGlassReport.occurred_at.desc()).limit(limit)))
    seqs = [r.audit_seq for r in reports]
    events = {e.seq: e for e in ctx.db.scalars(select(AuditEvent).where(AuditEvent.seq.in_(seqs)))} if seqs else {}
    return Overview(
        waiting=[r for r in reports if r.reviewed_at is None],
        reviewed=[r for r in reports if r.reviewed_at is not None],
        events=events,
        users={u.id: u for u in ctx.db.scalars(select(User))},
    )


def waiting_count(ctx: Context) -> int:
    """How many reports wait for a review (the data protection officer's home page)."""
    return (
        ctx.db.scalar(select(func.count()).select_from(BreakGlassReport).where(BreakGlassReport.reviewed_at.is_(None)))
        or 0
    )


def review_break_glass(ctx: Context, *, report_id: int, note: str) -> BreakGlassReport:
    """Record the review of one report, with what was found (``note``, kept as given: at least 3 characters),
    audited and committed. Not found: :class:`~commonground.errors.NotFound`; reviewed already:
    :class:`AlreadyReviewed`; no note: a :class:`~commonground.errors.UserError` about the field ``note``."""
    ctx.require("review-break-glass", _subject(report_id))
    me = ctx.me()
    report = ctx.db.get(BreakGlassReport, report_id)
    if report is None:
        raise NotFound()
    if report.reviewed_at is not None:
        raise AlreadyReviewed()
    if len(note) < MIN_NOTE or "\x00" in note:
        raise UserError(NOTE_NEEDED, field="note")
    report.reviewed_at = ctx.now
    report.reviewed_by_user_id = me.user_id
    report.review_note = note
    audit.record(
        ctx.db,
        audit.Event(
            actor=me.actor,
            action="review-break-glass",
            subject_type="audit_log",
            subject_id=str(report.audit_seq),
            detail={"report": report.id},
        ),
    )
    ctx.db.commit()
    return report
