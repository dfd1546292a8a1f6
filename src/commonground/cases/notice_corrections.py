"""Corrections to Operation Encompass notices (#16): when a child's work item behind a notice is withdrawn (the police
record it rested on was retracted, a reviewer found the child was not the person on the incident), the school is
told that the earlier notice is withdrawn for that child: the whole notice, once every child it names is withdrawn.

A correction is kept for each withdrawn child of a notice (the notice page shows them), and an email goes to every
active designated safeguarding lead of the school through the outbox, one per notice corrected, as notices' own
emails do: a link only, nothing about the child or the incident (email is not a secure channel). Made once per
child; audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.cases.notices import NOTICE_ACTOR, Notice, NoticeChild, safeguarding_leads
from commonground.cases.outbox import queue_message
from commonground.cases.withdrawals import WorkItemWithdrawal
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation

CORRECTION_KIND = "notice-correction"
"""The outbox kind of a correction's email."""


class NoticeCorrection(Base):
    """That one child's part of a notice is withdrawn, and why."""

    __tablename__ = "notice_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    """The child's work item that was withdrawn (a child is on one notice: its work item names it)."""
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    """The school told (the notice's)."""
    reason: Mapped[str] = mapped_column(String(300))
    """The withdrawal's words ("Withdrawn on 7 Dec: the police record it rested on was retracted by the partner"):
    the kind of record and what happened to it, never its content."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def corrections_of(session: Session, *, notice_id: int) -> list[NoticeCorrection]:
    return list(
        session.scalars(
            select(NoticeCorrection).where(NoticeCorrection.notice_id == notice_id).order_by(NoticeCorrection.id)
        )
    )


def correction_email(*, school_name: str, notice_id: int, base_url: str) -> str:
    """The email: that an earlier notice is withdrawn, and where to read why. Nothing about the child or incident."""
    return (
        f"An Operation Encompass notice sent to {school_name} has been withdrawn in commonground.\n\n"
        f"Read the correction here (you will be asked to sign in): {base_url.rstrip('/')}/notices/{notice_id}\n\n"
        "Please read it, and correct your own safeguarding records of the earlier notice.\n\n"
        "This email says nothing about the child or the incident on purpose: email is not a secure channel. "
        "The correction itself is only on the page above.\n"
    )


def correct_withdrawn_notices(
    session: Session, *, base_url: str = "http://127.0.0.1:8000", by: Actor = NOTICE_ACTOR
) -> int:
    """Follow every child of a notice whose work item is withdrawn, and who has no correction yet, with a
    correction, and each notice corrected with an email to the school's leads; in the caller's transaction. Returns
    how many corrections were made (running it again makes none)."""
    rows = session.execute(
        select(NoticeChild, WorkItemWithdrawal)
        .join(WorkItemWithdrawal, WorkItemWithdrawal.work_item_id == NoticeChild.work_item_id)
        .outerjoin(NoticeCorrection, NoticeCorrection.work_item_id == NoticeChild.work_item_id)
        .where(NoticeCorrection.id.is_(None))
        .order_by(NoticeChild.notice_id, NoticeChild.id)
    ).all()
    made: list[tuple[NoticeCorrection, NoticeChild, WorkItemWithdrawal]] = []
    for child, withdrawal in rows:
        notice = session.get_one(Notice, child.notice_id)
        correction = NoticeCorrection(
            notice_id=notice.id,
            work_item_id=child.work_item_id,
            organisation_id=notice.organisation_id,
            reason=withdrawal.words[:300],
        )
        session.add(correction)
        made.append((correction, child, withdrawal))
    for notice_id in sorted({c.notice_id for c, _, _ in made}):
        notice = session.get_one(Notice, notice_id)
        school = session.get_one(Organisation, notice.organisation_id)
        for lead in safeguarding_leads(session, organisation_id=notice.organisation_id):
            queue_message(
                session,
                kind=CORRECTION_KIND,
                to_address=lead.email,
                subject="An Operation Encompass notice has been withdrawn",
                body=correction_email(school_name=school.name, notice_id=notice_id, base_url=base_url),
            )
    session.flush()
    audit.record_many(
        session,
        [
            audit.Event(
                actor=by,
                action="correct-notice",
                subject_type="notice",
                subject_id=str(correction.notice_id),
                person_id=child.person_id,
                purpose=child.work_item.purpose.value,
                detail={"correction_id": correction.id, "work_item_id": child.work_item_id, "cause": w.cause.value},
            )
            for correction, child, w in made
        ],
    )
    return len(made)
