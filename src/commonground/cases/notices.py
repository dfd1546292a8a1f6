"""Operation Encompass notices: after a domestic-abuse incident the police attended, a school (its designated
safeguarding lead) is told before 08:30 on the next school day of each of its pupils linked to the incident.

The rules pack ``notices`` raises ``notice.school_domestic_abuse`` flags, one per child, routed to the child's school
(by its URN) and the role ``school_safeguarding_lead``; ``commonground hub sync`` turns them into work items.
:func:`notices_from_work_items` makes the school's notices from them: **one notice per incident and school, each
child named** (siblings at one school are one notice; a child at another school is on that school's notice only).
A notice carries the minimum data only, copied from the person view so that it stays what was told even when later
builds change (:mod:`commonground.cases.notice_incidents`):

- the date and time of the incident, its police reference, and a police contact (the incident's
  ``officer_contact``); that the police attended a domestic-abuse incident (the notice exists only for that);
- for each child (:class:`NoticeChild`): the name and date of birth as linked, and how the child is linked to the
  incident (named on it as present, victim or witness; the incident was at the child's home; or a parent of the
  child was involved and the child was not at the address).

No account of what happened, no names of adults, no address. For each notice an email goes to every active
designated safeguarding lead of the school through the outbox; the email only says that a notice is waiting and
links to it (email is not a secure channel), and the school reads the notice on its page and acknowledges it.

A child found later for an incident already notified (a record linked in a later build) joins the school's notice
of that incident while it is unacknowledged (the school acknowledges what it has read: the acknowledgement names the
children it saw, and is refused if another has joined since); once the notice is acknowledged, the child is on a
new notice of the same incident, which says the school was told of the incident before. An acknowledged notice is
never changed: it is the record of what the school read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Date, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.audit import Actor
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import Subject
from commonground.access.roles import Role
from commonground.cases.notice_incidents import (
    LOCAL,
    NOTICE_RULE,
    Involvement,
    NoticeSource,
    RaisingIncident,
    raising_incident,
    text,
)
from commonground.cases.outbox import OutboxMessage, SendResult, queue_message, send_pending
from commonground.cases.work_items import Outcome, WorkItem, WorkItemStatus, update_work_item
from commonground.errors import UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation
from commonground.store.settings import HubSettings

__all__ = ["NOTICE_RULE", "Involvement", "Notice", "NoticeChild", "NoticeSource", "notices_from_work_items"]

NOTICE_ACTOR = Actor(label="system:notices")
INCIDENT_FEEDS = frozenset({"police_incident_persons", "police_incidents"})


class Notice(Base):
    """One incident told to one school: the incident's moment, reference and police contact, and its children."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_school", "organisation_id", "acknowledged_at", "due_by"),
        Index("ix_notices_incident", "organisation_id", "incident_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    """The work item the notice was made from (its first child's); every child's is on :attr:`children`."""
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    """The school told."""
    incident_reference: Mapped[str | None] = mapped_column(String(64))
    incident_at: Mapped[dt.datetime | None]
    police_contact: Mapped[str | None] = mapped_column(String(300))
    due_by: Mapped[dt.datetime]
    """The soonest deadline of its children's work items (before the next school day)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    """When the first email announcing it was accepted by the mail server."""
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    children: Mapped[list[NoticeChild]] = relationship(
        back_populates="notice", order_by="NoticeChild.id", lazy="selectin"
    )
    work_item: Mapped[WorkItem] = relationship(lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def purpose(self) -> Purpose:
        """The purpose of its work items (the notice rule's: Operation Encompass)."""
        return self.children[0].work_item.purpose if self.children else Purpose.OPERATION_ENCOMPASS

    @property
    def person_ids(self) -> list[str]:
        return [c.person_id for c in self.children]


class NoticeChild(Base):
    """A child named on a notice, from the child's own work item (one notice names each work item once)."""

    __tablename__ = "notice_children"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    child_name: Mapped[str] = mapped_column(String(200))
    child_date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    involvement: Mapped[str] = mapped_column(String(20))
    """An :class:`~commonground.cases.notice_incidents.Involvement`: named, at home, or a parent's incident."""
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="children")
    work_item: Mapped[WorkItem] = relationship(lazy="joined")

    @property
    def how(self) -> Involvement:
        return Involvement(self.involvement)

    @property
    def child_present(self) -> bool | None:
        """True when the child is named on the incident (present, victim or witness); None when not recorded."""
        return True if self.how is Involvement.NAMED else None


def subject_of(notice: Notice, child: NoticeChild) -> Subject:
    """One child of the notice as the resolver sees it: the school's, for its safeguarding lead, about the child,
    from the feeds of the child's evidence."""
    return Subject(
        kind=SubjectKind.NOTICE,
        id=str(notice.id),
        organisation_id=notice.organisation_id,
        role=Role.SCHOOL_SAFEGUARDING_LEAD,
        person_id=child.person_id,
        feeds=child.work_item.evidence_feeds,
    )


def subjects_of(notice: Notice) -> list[Subject]:
    return [subject_of(notice, child) for child in notice.children]


@dataclass(frozen=True)
class NoticeRun:
    created: int
    """New notices (one per incident and school)."""
    emails_queued: int
    no_recipient: int
    """Notices made for a school with no active safeguarding lead account (the administrator must add one)."""
    not_in_view: int
    """Work items whose child is not in the current person view: left for the next run."""
    children: int = 0
    """Children named in this run, on new notices or joining an unacknowledged notice of the same incident."""


def notices_from_work_items(
    session: Session,
    person_view: NoticeSource | None,
    *,
    base_url: str = "http://127.0.0.1:8000",
    by: Actor = NOTICE_ACTOR,
) -> NoticeRun:
    """Name each Operation Encompass work item's child on its school's notice of the incident (running it again
    names nobody twice), and queue an email to each active safeguarding lead of the school for each new notice (and
    for a notice already announced that a child has joined); in the caller's transaction."""
    items = list(
        session.scalars(
            select(WorkItem)
            .outerjoin(NoticeChild, NoticeChild.work_item_id == WorkItem.id)
            .where(
                WorkItem.rule_id == NOTICE_RULE,
                WorkItem.role == Role.SCHOOL_SAFEGUARDING_LEAD,  # a child on no roll: the local authority's queue
                NoticeChild.id.is_(None),
            )
            .order_by(WorkItem.due_by, WorkItem.id)
        )
    )
    if person_view is None:
        return NoticeRun(created=0, emails_queued=0, no_recipient=0, not_in_view=len(items))
    created: list[Notice] = []
    joined: list[Notice] = []
    named: list[NoticeChild] = []
    not_in_view = 0
    for item in items:
        identity = person_view.identity(item.person_id)
        if identity is None:
            not_in_view += 1
            continue
        incident = raising_incident(person_id=item.person_id, evidence=list(item.evidence), view=person_view)
        notice = _open_notice_of(session, item=item, incident=incident, made=created)
        if notice is None:
            notice = _new_notice(item, incident)
            session.add(notice)
            created.append(notice)
        elif notice not in created and notice not in joined:
            joined.append(notice)
        notice.due_by = min(notice.due_by, item.due_by)
        child = NoticeChild(
            work_item_id=item.id,
            person_id=item.person_id,
            child_name=text(identity.name, 200) or "(no name recorded)",
            child_date_of_birth=identity.date_of_birth,
            involvement=(incident.involvement if incident else Involvement.AT_HOME).value,
        )
        child.work_item = item
        notice.children.append(child)
        named.append(child)
        session.flush()
    queued, no_recipient = _announce(session, created, joined, base_url=base_url)
    audit.record_many(
        session,
        [
            audit.Event(
                actor=by,
                action="create-notice",
                subject_type="notice",
                subject_id=str(c.notice_id),
                person_id=c.person_id,
                purpose=c.work_item.purpose.value,
                detail={
                    "work_item_id": c.work_item_id,
                    "organisation_id": c.notice.organisation_id,
                    "joined_earlier_notice": c.notice not in created,
                },
            )
            for c in named
        ],
    )
    return NoticeRun(
        created=len(created),
        emails_queued=queued,
        no_recipient=no_recipient,
        not_in_view=not_in_view,
        children=len(named),
    )


def _open_notice_of(
    session: Session, *, item: WorkItem, incident: RaisingIncident | None, made: list[Notice]
) -> Notice | None:
    """The school's unacknowledged notice of the same incident (by its police reference), made in this run or
    before; None for an incident without a reference (it cannot be told apart from another)."""
    if incident is None or incident.reference is None:
        return None
    for notice in made:
        if notice.organisation_id == item.organisation_id and notice.incident_reference == incident.reference:
            return notice
    return session.scalars(
        select(Notice)
        .where(
            Notice.organisation_id == item.organisation_id,
            Notice.incident_reference == incident.reference,
            Notice.acknowledged_at.is_(None),
        )
        .order_by(Notice.id.desc())
        .limit(1)
    ).first()


def _new_notice(item: WorkItem, incident: RaisingIncident | None) -> Notice:
    return Notice(
        work_item_id=item.id,
        organisation_id=item.organisation_id,
        incident_reference=incident.reference if incident else None,
        incident_at=incident.at if incident else None,
        police_contact=incident.contact if incident else None,
        due_by=item.due_by,
    )


def _announce(session: Session, created: list[Notice], joined: list[Notice], *, base_url: str) -> tuple[int, int]:
    """Queue the emails: each new notice to every active lead of its school; a notice already announced that a child
    has joined, again (one whose first email has not gone yet is announced by that email). Returns (emails queued,
    new notices whose school has no active lead)."""
    queued = no_recipient = 0
    for notice, subject, body in [
        *((n, "An Operation Encompass notice is waiting for you", email_body) for n in created),
        *((n, "An Operation Encompass notice now names another pupil", update_email_body) for n in joined if n.sent_at),
    ]:
        leads = safeguarding_leads(session, organisation_id=notice.organisation_id)
        if not leads and notice in created:
            no_recipient += 1
        school = session.get_one(Organisation, notice.organisation_id)
        for lead in leads:
            queue_message(
                session,
                kind="notice",
                to_address=lead.email,
                subject=subject,
                body=body(notice, school_name=school.name, base_url=base_url),
                notice_id=notice.id,
            )
            queued += 1
    session.flush()
    return queued, no_recipient


def safeguarding_leads(session: Session, *, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.role == Role.SCHOOL_SAFEGUARDING_LEAD,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def email_body(notice: Notice, *, school_name: str, base_url: str) -> str:
    """The email: that a notice is waiting, where, and by when. Nothing about the child or the incident."""
    due = notice.due_by.astimezone(LOCAL).strftime("%H:%M on %A %-d %B %Y")
    return (
        f"A new Operation Encompass notice for {school_name} is waiting for you in commonground.\n\n"
        f"Read it here (you will be asked to sign in): {base_url.rstrip('/')}/notices/{notice.id}\n\n"
        f"Please read it before {due}, and acknowledge it on that page.\n\n"
        "This email says nothing about the child or the incident on purpose: email is not a secure channel. "
        "The notice itself is only on the page above.\n"
    )


def update_email_body(notice: Notice, *, school_name: str, base_url: str) -> str:
    """The email when a pupil joins a notice already announced: again a link only."""
    due = notice.due_by.astimezone(LOCAL).strftime("%H:%M on %A %-d %B %Y")
    return (
        f"An Operation Encompass notice for {school_name} that is waiting for you now names another pupil.\n\n"
        f"Read it again here (you will be asked to sign in): {base_url.rstrip('/')}/notices/{notice.id}\n\n"
        f"Please read it before {due}, and acknowledge it on that page.\n\n"
        "This email says nothing about the pupils or the incident on purpose: email is not a secure channel. "
        "The notice itself is only on the page above.\n"
    )


def earlier_notices(session: Session, notice: Notice) -> list[Notice]:
    """The school's earlier notices of the same incident (a pupil found after the first was acknowledged)."""
    if notice.incident_reference is None:
        return []
    return list(
        session.scalars(
            select(Notice)
            .where(
                Notice.organisation_id == notice.organisation_id,
                Notice.incident_reference == notice.incident_reference,
                Notice.id < notice.id,
            )
            .order_by(Notice.id)
        )
    )


def notices_for_school(session: Session, *, organisation_id: int, limit: int = 500) -> list[Notice]:
    """The school's notices: not yet acknowledged first (soonest deadline first), then the rest, newest first."""
    rows = list(
        session.scalars(
            select(Notice).where(Notice.organisation_id == organisation_id).order_by(Notice.due_by, Notice.id)
        )
    )
    waiting = [n for n in rows if n.acknowledged_at is None]
    done = sorted((n for n in rows if n.acknowledged_at is not None), key=lambda n: (n.due_by, n.id), reverse=True)
    return (waiting + done)[:limit]


def acknowledge(
    session: Session,
    *,
    notice: Notice,
    by: Actor,
    now: dt.datetime | None = None,
    seen: frozenset[int] | None = None,
) -> Notice:
    """Record that the school's safeguarding lead has read the notice, and close each child's work item; audited,
    one event per child. ``seen``: the children (:class:`NoticeChild` ids) on the page the lead read; if another
    has joined since, the acknowledgement is refused (the lead has not read about that child). Acknowledging twice
    is refused."""
    if notice.acknowledged_at is not None:
        raise UserError("this notice has already been acknowledged")
    if by.user_id is None:
        raise UserError("only a signed-in person can acknowledge a notice")
    if seen is not None and seen != {c.id for c in notice.children}:
        raise UserError("this notice now names another pupil: read it again, then acknowledge it")
    notice.acknowledged_at = now or utcnow()
    notice.acknowledged_by_user_id = by.user_id
    late = notice.acknowledged_at > notice.due_by
    audit.record_many(
        session,
        [
            audit.Event(
                actor=by,
                action="acknowledge-notice",
                subject_type="notice",
                subject_id=str(notice.id),
                person_id=child.person_id,
                purpose=child.work_item.purpose.value,
                detail={"late": late},
            )
            for child in notice.children
        ],
    )
    for child in notice.children:
        item = child.work_item
        if item.status is not WorkItemStatus.CLOSED:  # the school's work item is done once the notice is read
            update_work_item(
                session,
                item=item,
                by=by,
                status=WorkItemStatus.CLOSED,
                outcome="Notice acknowledged by the school",
                outcome_code=Outcome.ACTION_TAKEN,  # the school knows, and can support the child the next morning
                purpose=item.purpose,
            )
    return notice


def unacknowledged(notices: Iterable[Notice]) -> list[Notice]:
    return [n for n in notices if n.acknowledged_at is None]


def send_notices(
    session: Session, *, settings: HubSettings, person_view: NoticeSource | None, by: Actor = NOTICE_ACTOR
) -> tuple[NoticeRun, SendResult]:
    """What ``commonground hub send-notices`` and ``POST /api/outbox/send`` do: make the notices of new work items
    (committed with their emails), then send every message of the outbox that is due."""
    made = notices_from_work_items(session, person_view, base_url=settings.public_url, by=by)
    session.commit()
    result = send_pending(
        session,
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        on_sent=mark_notice_sent,
    )
    return made, result


def mark_notice_sent(session: Session, message: OutboxMessage) -> None:
    """A notice is marked sent when the first email announcing it goes (called by the outbox as it sends)."""
    if message.notice_id is None:
        return
    notice = session.get(Notice, message.notice_id)
    if notice is not None and notice.sent_at is None:
        notice.sent_at = message.sent_at
