"""Link reviews: a practitioner's word that records linked as one person are not the same person.

Three doors raise one: a work item closed as "wrong person" (issue #20; the flag's evidence records are in doubt),
the person page's "these records are not the same person" (issue #15; the reporter ticks the records), and the
linkage model's review band (issue #15): two records the model was nearly sure of but did not link, offered by
``commonground hub sync`` (:mod:`commonground.linkage.review_band`). A band item is about two records of (so
far) two people; only a reviewer whose agreements open both records' feeds, for both people, may see it, and it is
decided "the same person" (linked in the next build) or not (never joined). The review
is kept with who raised it, from where, why and for which purpose. A reviewer (``review-links``) opens it for that
purpose, sees the records side by side with the links that joined them, and decides: the same person after all
(the records are kept together in later builds) or not (they are held apart for good). Until it is decided the
records are held apart too. ``commonground hub export-link-reviews`` writes what the builds must honour.

Every read is checked by the resolver and audited; raising and deciding are changes, audited in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Float, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.purposes import Purpose
from commonground.access.resolver import Decision, Subject
from commonground.cases.people import person_subject
from commonground.cases.reads import Shown, audit_by_purpose
from commonground.errors import NotFound, UserError
from commonground.linkage.constraints import HeldApart, KeptTogether, LinkConstraints, PairApart
from commonground.linkage.review_band import CANDIDATES
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
    BAND = "band"
    """Two records in the linkage model's review band, offered by ``hub sync``."""


CHILDRENS_FEEDS = frozenset({"school_roll", "childrens_social_care"})
"""A band pair with a record from one of these is read for safeguarding children; any other, safeguarding adults
(the purpose the reviewer's agreements must cover for both records' feeds)."""

BAND_REASON = (
    "The linkage model found these two records very alike but not alike enough to link them on its own: "
    "a person who can see both records decides."
)


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
    raised_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """Who raised it; none for a band pair (the linkage model offered it)."""
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[LinkReviewStatus] = mapped_column(str_enum(LinkReviewStatus), default=LinkReviewStatus.OPEN)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    kept_with: Mapped[list[str] | None]
    """Decided the same person: the person's other records then, which later builds keep with ``records``."""
    pair_person_id: Mapped[str | None] = mapped_column(String(64))
    """A band pair: the person the second record belonged to (``person_id`` has the first)."""
    match_weight: Mapped[float | None] = mapped_column(Float)
    match_probability: Mapped[float | None] = mapped_column(Float)
    comparison_levels: Mapped[dict[str, Any] | None]
    """A band pair: each comparison's level and weight (``{name: {"level": n, "weight": w}}``), never a value."""

    @property
    def is_band_pair(self) -> bool:
        return self.source is LinkReviewSource.BAND


def raise_link_review(
    session: Session,
    *,
    person_id: str,
    records: list[str],
    reason: str,
    purpose: Purpose,
    source: LinkReviewSource,
    raised_by_user_id: int | None,
    organisation_id: int | None,
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


def review_subjects(review: LinkReview) -> list[Subject]:
    """What reading a review opens: its person; for a band pair, each of the two people, with both records'
    feeds (so the reviewer's agreements must open both)."""
    if not review.is_band_pair:
        return [person_subject(review.person_id)]
    feeds = frozenset(r.split(":", 1)[0] for r in review.records)
    people = [review.person_id, review.pair_person_id or review.person_id]
    return [Subject(kind=SubjectKind.PERSON, id=p, person_id=p, feeds=feeds) for p in dict.fromkeys(people)]


def _checks(ctx: Context, review: LinkReview) -> list[tuple[Decision, Subject]]:
    return [(ctx.check("review-links", s, purpose=review.purpose), s) for s in review_subjects(review)]


def reviews_to_decide(ctx: Context) -> Shown[LinkReview]:
    """The open reviews the reviewer may read, each for its own purpose (audited, every person it opens),
    oldest first; the others counted."""
    reads: list[tuple[Purpose, Decision, Subject]] = []
    shown: list[LinkReview] = []
    withheld = 0
    for review in open_link_reviews(ctx.db):
        checks = _checks(ctx, review)
        if not all(d.allowed for d, _ in checks):
            withheld += 1
            continue
        shown.append(review)
        reads += [(review.purpose, d, s) for d, s in checks]
    audit_by_purpose(ctx, reads)
    return Shown(items=shown, withheld=withheld)


def _require(ctx: Context, review: LinkReview) -> list[tuple[Decision, Subject]]:
    return [
        (ctx.require("review-links", s, purpose=review.purpose, not_found=True), s) for s in review_subjects(review)
    ]


def open_review(ctx: Context, *, review_id: int) -> LinkReview:
    """One review, if the resolver lets the reviewer read its person (both people of a band pair, with both
    records' feeds) for its purpose; otherwise "not found" (audited). The read is audited."""
    review = ctx.db.get(LinkReview, review_id)
    if review is None:
        raise NotFound()
    ctx.audit_reads(_require(ctx, review), purpose=review.purpose)
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
    _require(ctx, review)
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
    if review.is_band_pair:
        review.kept_with = None  # the pair itself is what is kept together or apart
    else:
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
    and those decided "not the same person") and records kept together (decided "the same person"); a band pair
    decided is two records kept together or kept apart (an open one changes nothing: the model did not link
    them). No names and no reasons: record ids and review ids only."""
    apart: list[HeldApart] = []
    together: list[KeptTogether] = []
    pairs: list[PairApart] = []
    for review in session.scalars(select(LinkReview).order_by(LinkReview.id)):
        if review.is_band_pair:
            first, second = review.records
            if review.status is LinkReviewStatus.SAME_PERSON:
                together.append(KeptTogether(review=review.id, records=(first,), with_=(second,)))
            elif review.status is LinkReviewStatus.NOT_SAME_PERSON:
                pairs.append(PairApart(review=review.id, records=(first, second)))
        elif review.status is LinkReviewStatus.SAME_PERSON:
            together.append(
                KeptTogether(review=review.id, records=tuple(review.records), with_=tuple(review.kept_with or ()))
            )
        else:
            apart.append(HeldApart(review=review.id, records=tuple(review.records), decided=review.status.value))
    return LinkConstraints(held_apart=tuple(apart), kept_together=tuple(together), pairs_apart=tuple(pairs))


@dataclass(frozen=True)
class Offered:
    """What one sync did with the build's review band."""

    candidates: int
    offered: int
    already_reviewed: int


def offer_band_pairs(session: Session, *, build_path: Path, by: audit.Actor) -> Offered:
    """Turn the build's review candidates into link reviews (source "band"), each audited as offered, in the
    caller's transaction. A pair already reviewed, open or decided, is not offered again. A build written before
    the band (no ``review_candidates`` table) offers nothing."""
    database = build_path / "build.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if CANDIDATES not in tables:
            return Offered(candidates=0, offered=0, already_reviewed=0)
        cursor = con.execute(
            f"SELECT c.*, pl.person_id AS person_l, pr.person_id AS person_r FROM {CANDIDATES} AS c "
            "JOIN person_records AS pl ON pl.feed || ':' || pl.record_id = c.unique_id_l "
            "JOIN person_records AS pr ON pr.feed || ':' || pr.record_id = c.unique_id_r "
            "ORDER BY c.match_weight DESC, c.unique_id_l, c.unique_id_r"
        )
        names = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    seen = {
        tuple(sorted(r.records))
        for r in session.scalars(select(LinkReview).where(LinkReview.source == LinkReviewSource.BAND))
    }
    offered = 0
    for row in rows:
        records = sorted([str(row["unique_id_l"]), str(row["unique_id_r"])])
        if tuple(records) in seen:
            continue
        seen.add(tuple(records))
        first_is_left = records[0] == row["unique_id_l"]
        review = LinkReview(
            person_id=str(row["person_l"] if first_is_left else row["person_r"]),
            pair_person_id=str(row["person_r"] if first_is_left else row["person_l"]),
            records=records,
            reason=BAND_REASON,
            purpose=band_purpose(records),
            source=LinkReviewSource.BAND,
            raised_by_user_id=None,
            organisation_id=None,
            match_weight=float(row["match_weight"]),
            match_probability=float(row["match_probability"]),
            comparison_levels=_levels(row),
        )
        session.add(review)
        session.flush()
        audit.record(
            session,
            audit.Event(
                actor=by,
                action="offer-link-review",
                subject_type="person",
                subject_id=review.person_id,
                person_id=review.person_id,
                purpose=review.purpose.value,
                detail={"link_review": review.id, "records": 2},
            ),
        )
        offered += 1
    return Offered(candidates=len(rows), offered=offered, already_reviewed=len(rows) - offered)


def band_purpose(records: list[str]) -> Purpose:
    """The purpose a band pair is read for: children's when either record is from a children's feed."""
    feeds = {r.split(":", 1)[0] for r in records}
    return Purpose.SAFEGUARDING_CHILDREN if feeds & CHILDRENS_FEEDS else Purpose.SAFEGUARDING_ADULTS


def _levels(row: dict[str, Any]) -> dict[str, Any]:
    """Each comparison's level and weight (term-frequency adjustment included) from a candidate's columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith("gamma_"):
            name = key.removeprefix("gamma_")
            weight = float(row.get(f"mw_{name}") or 0.0) + float(row.get(f"mw_tf_adj_{name}") or 0.0)
            out[name] = {"level": int(value) if value is not None else -1, "weight": round(weight, 4)}
    return out
