"""Operation Encompass notices: after a domestic-abuse incident the police attended, the child's school (its
designated safeguarding lead) is told before 08:30 on the next school day.

The rules pack ``notices`` raises ``notice.school_domestic_abuse`` flags routed to the school (by its URN) and the
role ``school_safeguarding_lead``; ``commonground hub sync`` turns them into work items. :func:`notices_from_work_items`
makes one :class:`Notice` for each such work item, with the minimum data only, copied from the person view so that
the notice stays what was told even when later builds change:

- the child's name and date of birth, as linked;
- the date and time of the incident and the police reference;
- that the police attended a domestic-abuse incident (the notice exists only for that);
- whether the child was present (named on the incident as present, victim or witness), or not recorded;
- a police contact (the incident's ``officer_contact``).

No account of what happened, no names of adults, no address. For each notice an email goes to every active
designated safeguarding lead of the school through the outbox; the email only says that a notice is waiting and
links to it (email is not a secure channel), and the school reads the notice on its page and acknowledges it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.audit import Actor
from commonground.access.models import User
from commonground.access.resolver import Subject
from commonground.access.roles import Role
from commonground.cases.outbox import OutboxMessage, SendResult, queue_message, send_pending
from commonground.cases.work_items import Outcome, WorkItem, WorkItemStatus, update_work_item
from commonground.errors import UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation
from commonground.store.settings import HubSettings

NOTICE_RULE = "notice.school_domestic_abuse"
"""The rule whose work items become notices."""
NOTICE_ACTOR = Actor(label="system:notices")
INCIDENT_FEEDS = frozenset({"police_incident_persons", "police_incidents"})
PRESENT_ROLES = frozenset({"child_present", "victim", "witness"})
LOCAL = ZoneInfo("Europe/London")
"""Partner feeds record moments in local time (the contract's ``DATETIME``)."""


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_school", "organisation_id", "acknowledged_at", "due_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    """The school told."""
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    child_name: Mapped[str] = mapped_column(String(200))
    child_date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    incident_reference: Mapped[str | None] = mapped_column(String(64))
    incident_at: Mapped[dt.datetime | None]
    child_present: Mapped[bool | None]
    """True when the child is named on the incident (present, victim or witness); None when not recorded."""
    police_contact: Mapped[str | None] = mapped_column(String(300))
    due_by: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    """When the first email announcing it was accepted by the mail server."""
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    work_item: Mapped[WorkItem] = relationship(lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def subject_of(notice: Notice) -> Subject:
    """The notice as the resolver sees it: the school's, for its safeguarding lead, about the child."""
    return Subject(
        kind=SubjectKind.NOTICE,
        id=str(notice.id),
        organisation_id=notice.organisation_id,
        role=Role.SCHOOL_SAFEGUARDING_LEAD,
        person_id=notice.person_id,
        feeds=notice.work_item.evidence_feeds,
    )


class NoticeSource(Protocol):
    """What notices read from the person view (:class:`commonground.cases.person_view.PersonView`)."""

    def identity(self, person_id: str) -> Any: ...

    def events(self, person_id: str, *, feeds: frozenset[str]) -> list[Any]: ...

    def incident(self, record_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class NoticeRun:
    created: int
    emails_queued: int
    no_recipient: int
    """Notices made for a school with no active safeguarding lead account (the administrator must add one)."""
    not_in_view: int
    """Work items whose child is not in the current person view: left for the next run."""


def notices_from_work_items(
    session: Session,
    person_view: NoticeSource | None,
    *,
    base_url: str = "http://127.0.0.1:8000",
    by: Actor = NOTICE_ACTOR,
) -> NoticeRun:
    """Make a notice for each Operation Encompass work item that has none yet (running it again makes nothing
    new), and queue an email to each active safeguarding lead of the school; in the caller's transaction."""
    items = list(
        session.scalars(
            select(WorkItem)
            .outerjoin(Notice, Notice.work_item_id == WorkItem.id)
            .where(
                WorkItem.rule_id == NOTICE_RULE,
                WorkItem.role == Role.SCHOOL_SAFEGUARDING_LEAD,  # a child on no roll: the local authority's queue
                Notice.id.is_(None),
            )
            .order_by(WorkItem.due_by, WorkItem.id)
        )
    )
    if person_view is None:
        return NoticeRun(created=0, emails_queued=0, no_recipient=0, not_in_view=len(items))
    created: list[Notice] = []
    queued = no_recipient = not_in_view = 0
    for item in items:
        notice = _notice_for(item, person_view)
        if notice is None:
            not_in_view += 1
            continue
        session.add(notice)
        session.flush()
        created.append(notice)
        leads = safeguarding_leads(session, organisation_id=item.organisation_id)
        if not leads:
            no_recipient += 1
        school = session.get_one(Organisation, item.organisation_id)
        for lead in leads:
            queue_message(
                session,
                kind="notice",
                to_address=lead.email,
                subject="An Operation Encompass notice is waiting for you",
                body=email_body(notice, school_name=school.name, base_url=base_url),
                notice_id=notice.id,
            )
            queued += 1
    session.flush()
    audit.record_many(
        session,
        [
            audit.Event(
                actor=by,
                action="create-notice",
                subject_type="notice",
                subject_id=str(n.id),
                person_id=n.person_id,
                purpose=n.work_item.purpose.value,
                detail={"work_item_id": n.work_item_id, "organisation_id": n.organisation_id},
            )
            for n in created
        ],
    )
    return NoticeRun(created=len(created), emails_queued=queued, no_recipient=no_recipient, not_in_view=not_in_view)


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


def _local(value: Any) -> dt.datetime | None:
    """A moment from the person view (naive local time, or its ISO text) as an aware UTC datetime."""
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class _Incident:
    """One domestic-abuse incident behind a notice's work item, as the notice may describe it."""

    at: dt.datetime | None
    reference: str | None
    contact: str | None
    present: bool | None


def _incidents(item: WorkItem, view: NoticeSource) -> list[_Incident]:
    """Every incident among the item's evidence: those naming the child (with their role), and those at the child's
    home (the incident row's reference and contact; present if the child is named on the same incident too)."""
    evidence = [tuple(e.split(":", 1)) for e in item.evidence]
    named = {
        e.record_id: e
        for e in view.events(item.person_id, feeds=frozenset({"police_incident_persons"}))
        if ("police_incident_persons", e.record_id) in evidence
    }
    role_on = {str(e.data.get("incident_id")): str(e.data.get("role") or "") for e in named.values()}
    found: list[_Incident] = [
        _Incident(
            at=_local(e.data.get("occurred_at") or e.at),
            reference=_text(e.data.get("incident_id"), 64),
            contact=_text(e.data.get("officer_contact"), 300),
            present=str(e.data.get("role") or "") in PRESENT_ROLES or None,
        )
        for e in named.values()
    ]
    for feed, record_id in evidence:
        if feed != "police_incidents":
            continue
        row = view.incident(record_id)
        if row is None:
            continue
        reference = _text(row.get("incident_id"), 64)
        found.append(
            _Incident(
                at=_local(row.get("occurred_at")),
                reference=reference,
                contact=_text(row.get("officer_contact"), 300),
                present=(role_on.get(reference or "") in PRESENT_ROLES) or None,
            )
        )
    return found


def raising_incident(item: WorkItem, view: NoticeSource) -> _Incident | None:
    """The incident that raised the notice: the latest of the item's evidence (the rule raises a notice only for an
    incident of the last days; an older incident naming the child is not it). The same moment on two rows (the
    incident, and the child named on it) is one incident: the row that knows more wins."""
    found = [i for i in _incidents(item, view) if i.at is not None]
    if not found:
        return None
    latest = max(i.at for i in found if i.at is not None)
    same = [i for i in found if i.at == latest]
    return max(same, key=lambda i: (i.present is not None, i.reference is not None, i.contact is not None))


def _notice_for(item: WorkItem, view: NoticeSource) -> Notice | None:
    identity = view.identity(item.person_id)
    if identity is None:
        return None
    incident = raising_incident(item, view)
    return Notice(
        work_item_id=item.id,
        organisation_id=item.organisation_id,
        person_id=item.person_id,
        child_name=_text(identity.name, 200) or "(no name recorded)",
        child_date_of_birth=identity.date_of_birth,
        incident_reference=incident.reference if incident else None,
        incident_at=incident.at if incident else None,
        child_present=incident.present if incident else None,
        police_contact=incident.contact if incident else None,
        due_by=item.due_by,
    )


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text[:limit] or None


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


def acknowledge(session: Session, *, notice: Notice, by: Actor, now: dt.datetime | None = None) -> Notice:
    """Record that the school's safeguarding lead has read the notice; audited. Acknowledging twice is refused."""
    if notice.acknowledged_at is not None:
        raise UserError("this notice has already been acknowledged")
    if by.user_id is None:
        raise UserError("only a signed-in person can acknowledge a notice")
    notice.acknowledged_at = now or utcnow()
    notice.acknowledged_by_user_id = by.user_id
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="acknowledge-notice",
            subject_type="notice",
            subject_id=str(notice.id),
            person_id=notice.person_id,
            purpose=notice.work_item.purpose.value,
            detail={"late": notice.acknowledged_at > notice.due_by},
        ),
    )
    item = notice.work_item
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
