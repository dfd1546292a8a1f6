"""Link reviews: a practitioner's word that records linked as one person are not the same person.

Two doors raise one: a work item closed as "wrong person" (issue #20; the flag's evidence records are in doubt), and
the person page's "these records are not the same person" (issue #15; the reporter ticks the records). The review
is kept with who raised it, from where, why and for which purpose. A reviewer (``review-links``) opens it for that
purpose, sees the records side by side with the links that joined them, and decides: the same person after all
(the records are kept together in later builds) or not (they are held apart for good). Until it is decided the
records are held apart too. ``commonground hub export-link-reviews`` writes what the builds must honour.

Every read is checked by the resolver and audited; raising and deciding are changes, audited in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.cases.people import person_subject
from commonground.cases.reads import Shown, read_each
from commonground.errors import NotFound, UserError
from commonground.linkage.constraints import HeldApart, KeptTogether, LinkConstraints
from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum

MIN_REASON = 10
"""A report says why, in at least this many characters."""


class LinkReviewStatus(StrEnum):
    OPEN = "open"
    SAME_PERSON = "same_person"
    NOT_SAME_PERSON = "not_same_person"


class LinkReviewSource(StrEnum):
    WORK_ITEM = "work_item"
    """A work item closed as "wrong person"."""
    PERSON_PAGE = "person_page"


class LinkReview(Base):
    """Records of one linked person that someone says are not all the same person."""

    __tablename__ = "link_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    """The linked person as the build that was in use named them."""
    records: Mapped[list[str]]
    """The records in doubt, as ``feed:record_id``."""
    reason: Mapped[str] = mapped_column(Text)
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    """The purpose the records were opened for when the doubt was raised; the review is read for it too."""
    source: Mapped[LinkReviewSource] = mapped_column(str_enum(LinkReviewSource))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    raised_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[LinkReviewStatus] = mapped_column(str_enum(LinkReviewStatus), default=LinkReviewStatus.OPEN)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    kept_with: Mapped[list[str] | None]
    """Decided the same person: the person's other records then, which later builds keep with ``records``."""


def raise_link_review(
    session: Session,
    *,
    person_id: str,
    records: list[str],
    reason: str,
    purpose: Purpose,
    source: LinkReviewSource,
    raised_by_user_id: int,
    organisation_id: int,
    work_item_id: int | None = None,
) -> LinkReview:
    """Record that ``records`` of ``person_id`` may not be the same person; one open review per work item."""
    if work_item_id is not None:
        existing = session.scalar(
            select(LinkReview).where(
                LinkReview.work_item_id == work_item_id, LinkReview.status == LinkReviewStatus.OPEN
            )
        )
        if existing is not None:
            return existing
    review = LinkReview(
        person_id=person_id,
        records=sorted(set(records)),
        reason=reason,
        purpose=purpose,
        source=source,
        work_item_id=work_item_id,
        raised_by_user_id=raised_by_user_id,
        organisation_id=organisation_id,
    )
    session.add(review)
    session.flush()
    return review


def open_link_reviews(session: Session) -> list[LinkReview]:
    """The reviews nobody has decided yet, oldest first."""
    return list(
        session.scalars(
            select(LinkReview).where(LinkReview.status == LinkReviewStatus.OPEN).order_by(LinkReview.raised_at)
        )
    )


def report_wrong_link(
    ctx: Context, *, person_id: str, purpose: Purpose, records: list[str], shown: set[str], reason: str
) -> LinkReview:
    """The person page's report that some of the person's records are not theirs: ``report-link`` is checked for
    ``purpose`` first (a refusal is audited); the records must be among those the reporter was ``shown``, at least
    one and not all of them, with a reason."""
    ctx.require("report-link", person_subject(person_id), purpose=purpose)
    chosen = sorted(set(records))
    if not chosen:
        raise UserError("tick the records that are not this person", field="records")
    if not set(chosen) <= shown:
        raise UserError("you can only report records you can see", field="records")
    if set(chosen) == shown:
        raise UserError("tick only the records that are not this person, not all of them", field="records")
    if len(reason.strip()) < MIN_REASON:
        raise UserError("say why these records are not the same person", field="reason")
    me = ctx.me()
    review = raise_link_review(
        ctx.db,
        person_id=person_id,
        records=chosen,
        reason=reason.strip(),
        purpose=purpose,
        source=LinkReviewSource.PERSON_PAGE,
        raised_by_user_id=me.user_id,
        organisation_id=me.organisation_id,
    )
    audit.record(
        ctx.db,
        audit.Event(
            actor=me.actor,
            action="report-link",
            subject_type="person",
            subject_id=person_id,
            person_id=person_id,
            purpose=purpose.value,
            detail={"link_review": review.id, "records": len(chosen)},
        ),
    )
    return review


def reviews_to_decide(ctx: Context) -> Shown[LinkReview]:
    """The open reviews the reviewer may read, each for its own purpose (audited), oldest first; the others
    counted."""
    return read_each(
        ctx,
        "review-links",
        open_link_reviews(ctx.db),
        subject_of=lambda r: person_subject(r.person_id),
        purpose_of=lambda r: r.purpose,
    )


def open_review(ctx: Context, *, review_id: int) -> LinkReview:
    """One review, if the resolver lets the reviewer read its person for its purpose; otherwise "not found"
    (audited). The read is audited."""
    review = ctx.db.get(LinkReview, review_id)
    if review is None:
        raise NotFound()
    subject = person_subject(review.person_id)
    decision = ctx.require("review-links", subject, purpose=review.purpose, not_found=True)
    ctx.audit_reads([(decision, subject)], purpose=review.purpose)
    return review


def decide_review(
    ctx: Context, *, review_id: int, same_person: bool | None, note: str, kept_with: list[str]
) -> LinkReview:
    """Decide a review: the same person (``kept_with``: the person's other records, kept together with the
    doubted ones from now on) or not (held apart for good). Only an open review is decided; a decision needs a
    note."""
    review = ctx.db.get(LinkReview, review_id)
    if review is None:
        raise NotFound()
    ctx.require("review-links", person_subject(review.person_id), purpose=review.purpose, not_found=True)
    if review.status is not LinkReviewStatus.OPEN:
        raise UserError("this review has been decided already")
    if same_person is None:
        raise UserError("say whether the records are the same person", field="decision")
    if len(note.strip()) < MIN_REASON:
        raise UserError("say how you decided", field="note")
    me = ctx.me()
    review.status = LinkReviewStatus.SAME_PERSON if same_person else LinkReviewStatus.NOT_SAME_PERSON
    review.decided_by_user_id = me.user_id
    review.decided_at = utcnow()
    review.decision_note = note.strip()
    review.kept_with = sorted(set(kept_with) - set(review.records)) if same_person else None
    audit.record(
        ctx.db,
        audit.Event(
            actor=me.actor,
            action="review-links",
            subject_type="person",
            subject_id=review.person_id,
            person_id=review.person_id,
            purpose=review.purpose.value,
            detail={"link_review": review.id, "decision": review.status.value},
        ),
    )
    return review


def link_constraints(session: Session) -> LinkConstraints:
    """What later builds must honour (:mod:`commonground.linkage.constraints`): records held apart (open reviews
    and those decided "not the same person") and records kept together (decided "the same person"). No names and
    no reasons: record ids and review ids only."""
    apart: list[HeldApart] = []
    together: list[KeptTogether] = []
    for review in session.scalars(select(LinkReview).order_by(LinkReview.id)):
        if review.status is LinkReviewStatus.SAME_PERSON:
            together.append(
                KeptTogether(review=review.id, records=tuple(review.records), with_=tuple(review.kept_with or ()))
            )
        else:
            apart.append(HeldApart(review=review.id, records=tuple(review.records), decided=review.status.value))
    return LinkConstraints(held_apart=tuple(apart), kept_together=tuple(together))
