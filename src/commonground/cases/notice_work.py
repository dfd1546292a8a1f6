"""Operation Encompass notices as a school reads them, and the outbox sent on an administrator's request.

A school sees only its own notices: another school's notice is "not found", whatever its number. Reading a notice
opens identifiable data (the child's name and date of birth): each read is checked against the school's agreements
for the purpose of the notice's work item (Operation Encompass) and audited; acknowledging it is audited too
(:func:`commonground.cases.notices.acknowledge`). Nothing here commits but the outbox, which commits the notices it
makes and each message as it goes (:func:`commonground.cases.notices.send_notices`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Decision, Subject
from commonground.cases.notices import (
    Notice,
    NoticeSource,
    acknowledge,
    notices_for_school,
    send_notices,
    subject_of,
    unacknowledged,
)
from commonground.cases.reads import Shown, read_each
from commonground.errors import NotFound
from commonground.store.settings import HubSettings


def open_notice(ctx: Context, *, notice_id: int, action: str) -> tuple[Notice, Decision, Subject]:
    """The notice if the resolver lets the person take ``action`` on it; another school's is "not found". A
    refusal is audited; nothing is when it is allowed."""
    notice = ctx.db.get(Notice, notice_id)
    if notice is None:
        raise NotFound()
    subject = subject_of(notice)
    decision = ctx.require(
        action,
        subject,
        purpose=notice.work_item.purpose,
        not_found=subject.organisation_id != ctx.me().organisation_id,
    )
    return notice, decision, subject


def read_notice(ctx: Context, *, notice_id: int) -> Notice:
    """Open one notice to show it, and audit the read."""
    notice, decision, subject = open_notice(ctx, notice_id=notice_id, action="view-notices")
    ctx.audit_reads([(decision, subject)], purpose=notice.work_item.purpose)
    return notice


def read_notices(ctx: Context) -> Shown[Notice]:
    """The school's notices the person may read (unacknowledged first), each read audited, and how many were
    withheld."""
    return read_each(
        ctx,
        "view-notices",
        notices_for_school(ctx.db, organisation_id=ctx.me().organisation_id),
        subject_of=subject_of,
        purpose_of=lambda n: n.work_item.purpose,
    )


def acknowledge_notice(ctx: Context, *, notice_id: int) -> Notice:
    """Record that the school's safeguarding lead has read the notice (and close its work item); acknowledging
    twice is a :class:`~commonground.errors.UserError`."""
    notice, _, _ = open_notice(ctx, notice_id=notice_id, action="acknowledge-notice")
    return acknowledge(ctx.db, notice=notice, by=ctx.me().actor, now=ctx.now)


def waiting_summary(ctx: Context) -> dict[str, object]:
    """For the school lead's home page: how many notices wait, how many are late, the next deadline (counts
    only, nothing about a pupil)."""
    waiting = unacknowledged(notices_for_school(ctx.db, organisation_id=ctx.me().organisation_id))
    return {
        "waiting": len(waiting),
        "overdue": sum(1 for n in waiting if n.due_by < ctx.now),
        "next_due": min((n.due_by for n in waiting if n.due_by >= ctx.now), default=None),
    }


@dataclass(frozen=True)
class OutboxReport:
    """What one sending of the outbox did (the detail of its audit event)."""

    notices_created: int
    emails_queued: int
    sent: int
    failed: int
    waiting: int
    """Messages still unsent (failed now, or waiting before their next attempt)."""
    notices_without_recipient: int


def send_outbox(ctx: Context, *, settings: HubSettings, person_view: NoticeSource | None) -> OutboxReport:
    """Make the notices of new work items and send every message of the outbox that is due (committed as it
    goes), then audit the run in the session's transaction."""
    me = ctx.me()
    ctx.require("send-notices", Subject(kind=SubjectKind.NOTICE))
    made, result = send_notices(ctx.db, settings=settings, person_view=person_view, by=me.actor)
    report = OutboxReport(
        notices_created=made.created,
        emails_queued=made.emails_queued,
        sent=result.sent,
        failed=result.failed,
        waiting=result.waiting,
        notices_without_recipient=made.no_recipient,
    )
    audit.record(
        ctx.db,
        audit.Event(actor=me.actor, action="send-notices", subject_type="notice", detail=dataclasses.asdict(report)),
    )
    return report
