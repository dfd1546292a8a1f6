"""Link reviews: a practitioner's word that records linked as one person are not the same person.

A work item closed as "wrong person" raises one (issue #20): the flag's evidence records are the ones in doubt. The
review is kept in the operational store with who raised it, from where and why; deciding it (the same person after
all, or not) is the linkage review queue's (issue #15), and the build reads the open and decided reviews so that the
records stay apart until a person has decided.

Raising a review is a change, audited in the same transaction by the caller's event (closing the work item names
the review it raised).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.store.db import Base, utcnow
from commonground.store.models import str_enum


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
    source: Mapped[LinkReviewSource] = mapped_column(str_enum(LinkReviewSource))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    raised_by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[LinkReviewStatus] = mapped_column(str_enum(LinkReviewStatus), default=LinkReviewStatus.OPEN)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


def raise_link_review(
    session: Session,
    *,
    person_id: str,
    records: list[str],
    reason: str,
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
