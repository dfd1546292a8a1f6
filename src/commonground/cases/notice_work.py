"""Operation Encompass notices as a school reads them, and the outbox sent on an administrator's request.

A school sees only its own notices: another school's notice is "not found", whatever its number. A notice names one
or more children (one notice per incident and school): reading it opens identifiable data about each (name and date
of birth), so each child is checked against the school's agreements for the purpose of the child's work item
(Operation Encompass) and each read is audited, one event per child; a notice is shown only if every child on it may
be. Acknowledging is audited per child too (:func:`commonground.cases.notices.acknowledge`). Nothing here commits but
the outbox, which commits the notices it makes and each message as it goes
(:func:`commonground.cases.notices.send_notices`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.notices import (
    Notice,
    NoticeSource,
    acknowledge,
    earlier_notices,
    notices_for_school,
    send_notices,
    subjects_of,
    unacknowledged,
)
from commonground.cases.reads import Shown, audit_by_purpose
from commonground.errors import NotFound
from commonground.store.settings import HubSettings


def open_notice(ctx: Context, *, notice_id: int, action: str) -> tuple[Notice, list[tuple[Decision, Subject]]]:
    """The notice if the resolver lets the person take ``action`` on every child named on it; another school's is
    "not found". A refusal is audited; nothing is when it is allowed."""
    notice = ctx.db.get(Notice, notice_id)
    if notice is None or not notice.children:
        raise NotFound()
    elsewhere = notice.organisation_id != ctx.me().organisation_id
    decisions = [
        (ctx.require(action, subject, purpose=notice.purpose, not_found=elsewhere), subject)
        for subject in subjects_of(notice)
    ]
    return notice, decisions


def read_notice(ctx: Context, *, notice_id: int) -> Notice:
    """Open one notice to show it, and audit the read of each child on it."""
    notice, decisions = open_notice(ctx, notice_id=notice_id, action="view-notices")
    ctx.audit_reads(decisions, purpose=notice.purpose)
    return notice


def read_notices(ctx: Context) -> Shown[Notice]:
    """The school's notices the person may read (unacknowledged first), each child's read audited, and how many
    notices were withheld (one a child of which no agreement in force lets the school see)."""
    shown: list[Notice] = []
    reads: list[tuple[Purpose, Decision, Subject]] = []
    withheld = 0
    for notice in notices_for_school(ctx.db, organisation_id=ctx.me().organisation_id):
        decisions = [(ctx.check("view-notices", s, purpose=notice.purpose), s) for s in subjects_of(notice)]
        if not decisions or not all(d.allowed for d, _ in decisions):
            withheld += 1
            continue
        shown.append(notice)
        reads.extend((notice.purpose, d, s) for d, s in decisions)
    audit_by_purpose(ctx, reads)
    return Shown(items=shown, withheld=withheld)


def notice_history(ctx: Context, notice: Notice) -> list[Notice]:
    """The school's earlier notices of the same incident (already opened with ``notice``: the same school)."""
    return earlier_notices(ctx.db, notice)


def acknowledge_notice(ctx: Context, *, notice_id: int, seen: frozenset[int] | None = None) -> Notice:
    """Record that the school's safeguarding lead has read the notice (and close each child's work item); refused
    as a :class:`~commonground.errors.UserError` when acknowledged already, or when ``seen`` (the children on the page
    read) is not every child on it now."""
    notice, _ = open_notice(ctx, notice_id=notice_id, action="acknowledge-notice")
    return acknowledge(ctx.db, notice=notice, by=ctx.me().actor, now=ctx.now, seen=seen)


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
