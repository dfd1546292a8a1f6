"""Referrals: a person referred from a flag to a partner organisation, and every step of it.

A referral is sent from a work item (a flag routed to the sender) or from the person's page, with a summary, the
consent position (given, not needed and why, or refused and why it goes ahead), the lawful basis, the purpose, the
records it shares (chosen one by one by the sender: the minimum the partner needs, not everything behind the flag)
and the day by which the partner should answer. The organisation it is sent to accepts or rejects it (a reason is
required), records what it does, transfers it to another partner (a reason is required; the new organisation
receives it as sent) and closes it (an outcome is required).

The workflow is a state machine whose allowed steps live in one place, :data:`TRANSITIONS`; pages and the API ask
:func:`allowed_steps` which steps to offer. Every step is a :class:`ReferralEvent` (who, when, from which status
to which, the note) and an audit event, written in the caller's transaction. Sending or transferring a referral
shares its records with the receiving organisation for the referral's purpose
(:func:`commonground.access.relationships.share_records`), so that its agreement about its own cases lets it open
those records, and nothing else of the person, for that purpose only, for as long as the referral is with it: the
share ends when the partner rejects or closes the referral or transfers it away, and lapses when nobody has acted
on it for :data:`REFERRAL_ACCESS` (#16, #17).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.agreements import About
from commonground.access.audit import Actor
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.relationships import end_shares, share_records
from commonground.access.resolver import StoreFacts, Subject, agreements_covering
from commonground.cases.work_items import WorkItem
from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation, str_enum
from commonground.store.organisation_types import OrganisationType

MAX_TEXT = 10_000
MIN_REASON = 3
RELATIONSHIP_SOURCE = "referrals"
REFERRAL_ACCESS = dt.timedelta(days=90)
"""How long a referral keeps the records it shares open to the partner it is with, counted from its last step: an
open referral that nobody acts on stops opening them after this; every step (sending, accepting, recording an
action, a transfer) starts it again. Rejecting or closing a referral, or transferring it away, ends it at once
for that partner (another open referral shares only its own records)."""
RESPONSE_DAYS = 7
"""The response deadline a new referral is given unless its sender chooses another: a week from the day it is sent."""
LONGEST_RESPONSE = 28
"""The latest response deadline a sender may set, in days from the day it is sent (the earliest is that day)."""
MAX_ITEMS = 500
"""The most records one referral may share: the minimum necessary is rarely more than a handful."""


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CLOSED = "closed"


class Step(StrEnum):
    SEND = "send"
    ACCEPT = "accept"
    REJECT = "reject"
    RECORD_ACTION = "record_action"
    TRANSFER = "transfer"
    CLOSE = "close"


class Consent(StrEnum):
    GIVEN = "given"
    NOT_NEEDED = "not_needed"
    REFUSED = "refused"


TRANSITIONS: dict[ReferralStatus | None, dict[Step, ReferralStatus]] = {
    None: {Step.SEND: ReferralStatus.SENT},
    ReferralStatus.SENT: {
        Step.ACCEPT: ReferralStatus.ACCEPTED,
        Step.REJECT: ReferralStatus.REJECTED,
        Step.TRANSFER: ReferralStatus.SENT,
    },
    ReferralStatus.ACCEPTED: {
        Step.RECORD_ACTION: ReferralStatus.ACCEPTED,
        Step.TRANSFER: ReferralStatus.SENT,
        Step.CLOSE: ReferralStatus.CLOSED,
    },
    ReferralStatus.REJECTED: {},
    ReferralStatus.CLOSED: {},
}
"""The whole workflow: from each status (None: not yet sent), the steps allowed and the status each leads to.
Every step after sending is taken by the organisation the referral is (now) sent to."""

NOTE_REQUIRED: dict[Step, str] = {
    Step.REJECT: "a reason for rejecting it",
    Step.TRANSFER: "a reason for transferring it",
    Step.RECORD_ACTION: "what was done",
    Step.CLOSE: "the outcome",
}
"""Steps that need a note, and what the note must say."""

STEP_LABELS: dict[Step, str] = {
    Step.SEND: "Sent",
    Step.ACCEPT: "Accepted",
    Step.REJECT: "Rejected",
    Step.RECORD_ACTION: "Action recorded",
    Step.TRANSFER: "Transferred",
    Step.CLOSE: "Closed",
}

STATUS_LABELS: dict[ReferralStatus, str] = {
    ReferralStatus.SENT: "Sent",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.REJECTED: "Rejected",
    ReferralStatus.CLOSED: "Closed",
}

CONSENT_LABELS: dict[Consent, str] = {
    Consent.GIVEN: "Consent given",
    Consent.NOT_NEEDED: "Consent not needed",
    Consent.REFUSED: "Consent refused",
}

NOT_A_PARTNER: frozenset[OrganisationType] = frozenset({OrganisationType.PUBLIC_HEALTH_TEAM})
"""Organisations that receive no referrals: the public-health team sees statistics only."""


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_to_organisation_status", "to_organisation_id", "status"),
        Index("ix_referrals_from_organisation_status", "from_organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    from_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    summary: Mapped[str] = mapped_column(Text)
    consent: Mapped[Consent] = mapped_column(str_enum(Consent))
    consent_note: Mapped[str | None] = mapped_column(Text)
    lawful_basis: Mapped[str] = mapped_column(Text)
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    shared_items: Mapped[list[str] | None]
    """The records the sender chose to share, each ``feed:record_id`` (the receiver opens these and no others)."""
    respond_by: Mapped[dt.date | None]
    """The day by which the receiver should accept or reject it."""
    status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id], lazy="joined")
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id], lazy="joined")
    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id], lazy="joined")
    work_item: Mapped[WorkItem | None] = relationship(lazy="select")
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", lazy="selectin"
    )

    @property
    def items(self) -> list[tuple[str, str]]:
        """The records the referral shares, ``(feed, record_id)``, in order."""
        return [_split(item) for item in self.shared_items or ()]

    @property
    def feeds(self) -> frozenset[str]:
        """The feeds of the records the referral shares."""
        return frozenset(feed for feed, _ in self.items)

    def overdue_on(self, day: dt.date) -> bool:
        """Whether the receiver has not answered (accepted or rejected) by its response deadline."""
        return self.status is ReferralStatus.SENT and self.respond_by is not None and day > self.respond_by


def _split(item: str) -> tuple[str, str]:
    feed, _, record_id = item.partition(":")
    return feed, record_id


def subject_of(referral: Referral) -> Subject:
    """The referral as the resolver sees it: with the organisation it is (now) sent to, about a person, from the
    feeds of the records it shares."""
    return Subject(
        kind=SubjectKind.REFERRAL,
        id=str(referral.id),
        organisation_id=referral.to_organisation_id,
        person_id=referral.person_id,
        feeds=referral.feeds,
    )


class ReferralEvent(Base):
    """One step of a referral: who took it, when, from which status to which, and the note they gave."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    step: Mapped[Step] = mapped_column(str_enum(Step))
    from_status: Mapped[ReferralStatus | None] = mapped_column(str_enum(ReferralStatus))
    to_status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    to_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")
    user: Mapped[User] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id], lazy="joined")
    to_organisation: Mapped[Organisation | None] = relationship(foreign_keys=[to_organisation_id], lazy="joined")


def allowed_steps(status: ReferralStatus | None) -> list[Step]:
    """The steps the state machine allows from ``status``, in the table's order."""
    return list(TRANSITIONS[status])


def next_status(status: ReferralStatus | None, step: Step) -> ReferralStatus:
    """The status ``step`` leads to from ``status``; a :class:`UserError` naming the allowed steps otherwise."""
    allowed = TRANSITIONS[status]
    if step not in allowed:
        where = f"a {status.value} referral" if status else "a referral not yet sent"
        options = ", ".join(s.value for s in allowed) or "nothing more"
        raise UserError(f"{where} cannot be given the step '{step.value}' (allowed: {options})")
    return allowed[step]


def _text(value: str | None, *, what: str, required: bool, field: str) -> str | None:
    text = (value or "").strip()
    if "\x00" in text:
        raise UserError("text cannot contain the NUL character", field=field)
    if len(text) > MAX_TEXT:
        raise UserError(f"{what} is at most {MAX_TEXT:,} characters", field=field)
    if required and len(text) < MIN_REASON:
        raise UserError(f"give {what}", field=field)
    return text or None


def partner_or_refuse(session: Session, organisation_id: int, *, not_id: int) -> Organisation:
    """The active partner organisation a referral can go to (not the sender's own, not the analysts')."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not organisation.active or organisation.type in NOT_A_PARTNER:
        raise UserError("choose an active partner organisation to refer to", field="to_organisation")
    if organisation.id == not_id:
        raise UserError("a referral goes to another organisation than the one it is with", field="to_organisation")
    return organisation


def partners(session: Session, *, excluding: int) -> list[Organisation]:
    return [
        o
        for o in session.scalars(select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name))
        if o.id != excluding and o.type not in NOT_A_PARTNER
    ]


def can_open(
    session: Session, organisation: Organisation, *, purpose: Purpose, feeds: frozenset[str], at: dt.datetime
) -> bool:
    """Whether an agreement of ``organisation`` in force at ``at`` lets it open a referral for ``purpose`` about
    records of ``feeds`` (as its own case, which the referral makes it)."""
    about = {About.EVERYONE, About.OWN_CASES}
    facts = StoreFacts(session)
    return bool(
        agreements_covering(facts, organisation_id=organisation.id, purpose=purpose, feeds=feeds, about=about, at=at)
    )


def refuse_unreadable(
    session: Session, organisation: Organisation, *, purpose: Purpose, feeds: frozenset[str], at: dt.datetime
) -> None:
    """Refuse to send a referral the receiving partner could not open: it would sit unread. The refusal says what is
    missing: an agreement for the purpose at all, or one covering some kinds of the records chosen (#17: a refusal
    caused by mental-health records in the evidence said the purpose was the cause)."""
    if can_open(session, organisation, purpose=purpose, feeds=feeds, at=at):
        return
    words = purpose.value.replace("_", " ")
    covered = {
        f
        for terms in StoreFacts(session).agreements_in_force(organisation_id=organisation.id, at=at)
        if purpose in terms.purposes and terms.about & {About.EVERYONE, About.OWN_CASES}
        for f in terms.feeds
    }
    missing = sorted(feeds - covered)
    if covered and missing:
        kinds = ", ".join(FEEDS[f].title.lower() if f in FEEDS else f for f in missing)
        raise UserError(
            f"{organisation.name} has an agreement for {words}, but not for every kind of record you chose to share: "
            f"it may not open {kinds}. Leave those records out, choose another partner, or ask your data protection "
            "officer",
            field="to_organisation",
        )
    raise UserError(
        f"{organisation.name} has no data-sharing agreement in force that lets it open this referral for "
        f"{words}: choose another partner or purpose, or ask your data protection officer about an agreement",
        field="to_organisation",
    )


def respond_by_or_refuse(day: dt.date | None, *, today: dt.date) -> dt.date:
    """The response deadline: the sender's, from today to :data:`LONGEST_RESPONSE` days ahead, or
    :data:`RESPONSE_DAYS` from today."""
    if day is None:
        return today + dt.timedelta(days=RESPONSE_DAYS)
    if day < today:
        raise UserError("the response deadline cannot be in the past", field="respond_by")
    if day > today + dt.timedelta(days=LONGEST_RESPONSE):
        raise UserError(
            f"the response deadline is at most {LONGEST_RESPONSE} days from today: "
            "a partner should answer a referral within four weeks",
            field="respond_by",
        )
    return day


def chosen_items_or_refuse(
    items: Iterable[tuple[str, str]], *, shareable: Collection[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The records the sender chose, each one the sender may share; none chosen, or one they may not share, is a
    :class:`UserError`."""
    chosen = sorted(set(items))
    if not chosen:
        raise UserError("choose at least one record to share with the partner", field="items")
    if len(chosen) > MAX_ITEMS:
        raise UserError(f"a referral shares at most {MAX_ITEMS} records", field="items")
    if any(item not in shareable for item in chosen):
        raise UserError("choose only records of this person that you may share for this purpose", field="items")
    return chosen


@dataclass(frozen=True)
class NewReferral:
    """What a practitioner gives to send a referral."""

    to_organisation_id: int
    summary: str
    consent: Consent
    consent_note: str | None
    lawful_basis: str
    purpose: Purpose | None = None
    """None: the purpose the work item's rule serves (a referral from the person's page must give one)."""
    items: tuple[tuple[str, str], ...] = ()
    """The records to share, ``(feed, record_id)``: at least one."""
    respond_by: dt.date | None = None
    """None: :data:`RESPONSE_DAYS` from today."""


def send_referral(
    session: Session,
    *,
    item: WorkItem | None,
    by: Actor,
    new: NewReferral,
    shareable: Collection[tuple[str, str]],
    person_id: str | None = None,
) -> Referral:
    """Send a referral about the person of ``item`` (or ``person_id``, from the person's page) to a partner,
    sharing the records the sender chose among ``shareable`` (those they may share): the referral, its first
    event, the audit event and the share of those records with the receiving organisation, in the caller's
    transaction."""
    person = item.person_id if item is not None else person_id
    if person is None:
        raise ValueError("a referral is about a person: give a work item or a person id")
    if by.user_id is None or by.organisation_id is None:
        raise UserError("only a signed-in person can make a referral")
    summary = _text(new.summary, what="a summary of why you are referring", required=True, field="summary")
    lawful_basis = _text(new.lawful_basis, what="the lawful basis for sharing", required=True, field="lawful_basis")
    consent_note = _text(
        new.consent_note,
        what="why consent is not needed" if new.consent is Consent.NOT_NEEDED else "why it goes ahead without consent",
        required=new.consent is not Consent.GIVEN,
        field="consent_note",
    )
    purpose = new.purpose or (item.purpose if item is not None else None)
    if purpose is None:
        raise UserError("choose the purpose of the referral", field="purpose")
    to = partner_or_refuse(session, new.to_organisation_id, not_id=by.organisation_id)
    chosen = chosen_items_or_refuse(new.items, shareable=shareable)
    now = utcnow()
    respond_by = respond_by_or_refuse(new.respond_by, today=now.date())
    refuse_unreadable(session, to, purpose=purpose, feeds=frozenset(feed for feed, _ in chosen), at=now)
    referral = Referral(
        person_id=person,
        work_item_id=item.id if item is not None else None,
        rule_id=item.rule_id if item is not None else None,
        from_organisation_id=by.organisation_id,
        from_user_id=by.user_id,
        to_organisation_id=to.id,
        summary=summary,
        consent=new.consent,
        consent_note=consent_note if new.consent is not Consent.GIVEN else None,
        lawful_basis=lawful_basis,
        purpose=purpose,
        shared_items=[f"{feed}:{record_id}" for feed, record_id in chosen],
        respond_by=respond_by,
        status=next_status(None, Step.SEND),
        created_at=now,
        updated_at=now,
    )
    referral.work_item = item
    session.add(referral)
    session.flush()
    _step(session, referral, Step.SEND, by=by, from_status=None, note=None, to_organisation_id=to.id, now=now)
    return referral


def take_step(
    session: Session,
    *,
    referral: Referral,
    step: Step,
    by: Actor,
    note: str | None = None,
    to_organisation_id: int | None = None,
) -> Referral:
    """Apply one step of the state machine, taken by someone of the organisation the referral is sent to."""
    if step is Step.SEND:
        raise UserError("a referral is sent once, when it is made")
    if by.organisation_id != referral.to_organisation_id:
        raise UserError("only the organisation the referral is sent to can take this step")
    before = referral.status
    after = next_status(before, step)
    required = NOTE_REQUIRED.get(step)
    text = _text(note, what=required or "a note", required=required is not None, field="note")
    now = utcnow()
    target: Organisation | None = None
    if step is Step.TRANSFER:
        if to_organisation_id is None:
            raise UserError("choose the partner organisation to transfer the referral to", field="to_organisation")
        target = partner_or_refuse(session, to_organisation_id, not_id=referral.to_organisation_id)
        if target.id == referral.from_organisation_id:
            raise UserError(
                "a referral cannot be transferred back to the organisation that sent it", field="to_organisation"
            )
        refuse_unreadable(session, target, purpose=referral.purpose, feeds=referral.feeds, at=now)
    elif step is Step.CLOSE:
        referral.outcome = text
        referral.closed_at = now
    referral.status = after
    referral.updated_at = now
    _step(
        session,
        referral,
        step,
        by=by,
        from_status=before,
        note=text,
        to_organisation_id=target.id if target else None,
        now=now,
    )
    if target is not None:
        referral.to_organisation = target
        referral.to_organisation_id = target.id
        session.flush()
    return referral


def _keep_or_end_access(
    session: Session, referral: Referral, step: Step, *, by: Actor, to_organisation_id: int | None, now: dt.datetime
) -> None:
    """The receiving partner's share of the referral's records: opened (or renewed) for :data:`REFERRAL_ACCESS` by
    a step that leaves the referral with it, ended by one that rejects, closes or transfers it away."""
    if to_organisation_id is not None:  # sent, or transferred to another partner
        _open_access(session, referral, organisation_id=to_organisation_id, now=now)
    if step is Step.TRANSFER or referral.status in (ReferralStatus.REJECTED, ReferralStatus.CLOSED):
        assert by.organisation_id is not None
        end_shares(
            session, organisation_id=by.organisation_id, source=RELATIONSHIP_SOURCE, source_ref=str(referral.id), at=now
        )
    elif to_organisation_id is None:  # accepted, or an action recorded: the partner is working on it
        _open_access(session, referral, organisation_id=referral.to_organisation_id, now=now)


def _open_access(session: Session, referral: Referral, *, organisation_id: int, now: dt.datetime) -> None:
    share_records(
        session,
        person_id=referral.person_id,
        organisation_id=organisation_id,
        purpose=referral.purpose,
        records=referral.items,
        source=RELATIONSHIP_SOURCE,
        source_ref=str(referral.id),
        valid_from=now,
        valid_until=now + REFERRAL_ACCESS,
    )


def _step(
    session: Session,
    referral: Referral,
    step: Step,
    *,
    by: Actor,
    from_status: ReferralStatus | None,
    note: str | None,
    to_organisation_id: int | None,
    now: dt.datetime,
) -> None:
    assert by.user_id is not None and by.organisation_id is not None
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            step=step,
            from_status=from_status,
            to_status=referral.status,
            user_id=by.user_id,
            organisation_id=by.organisation_id,
            to_organisation_id=to_organisation_id,
            note=note,
            at=now,
        )
    )
    _keep_or_end_access(session, referral, step, by=by, to_organisation_id=to_organisation_id, now=now)
    session.flush()
    session.expire(referral, ["events"])
    detail: dict[str, object] = {
        "step": step.value,
        "from_status": from_status.value if from_status else None,
        "to_status": referral.status.value,
    }
    if to_organisation_id is not None:
        detail["to_organisation_id"] = to_organisation_id
        detail["records_shared"] = len(referral.items)  # how many, never which: the referral keeps which
    if step is Step.SEND and referral.respond_by is not None:
        detail["respond_by"] = referral.respond_by.isoformat()
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="make-referral" if step is Step.SEND else "handle-referral",
            subject_type="referral",
            subject_id=str(referral.id),
            person_id=referral.person_id,
            purpose=referral.purpose.value,
            detail=detail,
        ),
        at=now,
    )


def referrals_of(
    session: Session,
    *,
    organisation_id: int,
    sent: bool = True,
    received: bool = True,
    person_id: str | None = None,
    status: ReferralStatus | None = None,
    limit: int = 500,
) -> list[Referral]:
    """Referrals sent by or (now) sent to an organisation, newest first."""
    sides = []
    if sent:
        sides.append(Referral.from_organisation_id == organisation_id)
    if received:
        sides.append(Referral.to_organisation_id == organisation_id)
    if not sides:
        return []
    query = select(Referral).where(or_(*sides)).order_by(Referral.created_at.desc(), Referral.id.desc())
    if person_id is not None:
        query = query.where(Referral.person_id == person_id)
    if status is not None:
        query = query.where(Referral.status == status)
    return list(session.scalars(query.limit(limit)))


def overdue_for(session: Session, *, organisation_id: int, today: dt.date) -> int:
    """How many referrals sent to an organisation are past their response deadline unanswered (a count)."""
    count = session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.to_organisation_id == organisation_id,
            Referral.status == ReferralStatus.SENT,
            Referral.respond_by < today,
        )
    )
    return count or 0


def is_party(referral: Referral, organisation_id: int) -> bool:
    """Whether an organisation sent the referral or is the one it is now sent to."""
    return organisation_id in (referral.from_organisation_id, referral.to_organisation_id)
