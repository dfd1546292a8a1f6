"""The good-practice library: write an entry, submit it, two reviews by two people (neither the submitter) publish
it; comments are hidden until a moderator approves them. Local evaluations linked to an entry are in
:mod:`commonground.whatworks.local_evaluations`, the checked operations on entries in
:mod:`commonground.whatworks.entries`.

Every change is audited in the caller's transaction (the caller commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.audit import Actor
from commonground.errors import UserError
from commonground.store.db import utcnow
from commonground.whatworks.models import (
    Comment,
    CommentStatus,
    EntryStatus,
    LibraryEntry,
    LibraryReview,
    ReviewDecision,
)
from commonground.whatworks.scales import (
    AGE_BANDS,
    EFFECT_DIRECTIONS,
    EIF_LEVELS,
    EMMIE_DIMENSIONS,
    EMMIE_QUALITY,
    NEED_LEVELS,
    PROBLEMS,
    SETTINGS,
    STUDY_DESIGNS,
)

MAX_TEXT = 20_000
MAX_COMMENT = 4_000
REVIEWS_NEEDED = 2
EDITABLE = frozenset({EntryStatus.DRAFT, EntryStatus.RETURNED})
UNDER_REVIEW = frozenset({EntryStatus.SUBMITTED, EntryStatus.IN_REVIEW})


@dataclass(frozen=True)
class Outcome:
    outcome: str
    direction: str = "unknown"
    size: float | None = None
    lower: float | None = None
    upper: float | None = None
    unit: str = ""
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("outcome", "direction", "size", "lower", "upper", "unit", "source")}


@dataclass(frozen=True)
class Study:
    citation: str
    design: str
    year: int | None = None
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"citation": self.citation, "design": self.design, "year": self.year, "url": self.url}


@dataclass(frozen=True)
class EntryFields:
    """What a person writes about an intervention; checked by :meth:`errors`."""

    title: str
    summary: str
    problem: str
    age_band: str
    setting: str
    need_level: str
    problem_detail: str = ""
    mechanism: str = ""
    outcomes: tuple[Outcome, ...] = ()
    emmie: dict[str, dict[str, str]] = field(default_factory=dict)
    eif_level: str = "not_rated"
    eif_rationale: str = ""
    studies: tuple[Study, ...] = ()
    implementation: str = ""
    cost: str = ""
    local_lead_organisation_id: int | None = None
    local_contact: str = ""
    provenance: str = ""

    def errors(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self.title.strip():
            found["title"] = "Enter a title"
        elif len(self.title) > 200:
            found["title"] = "A title is at most 200 characters"
        if not self.summary.strip():
            found["summary"] = "Enter a summary"
        for name, allowed in (
            ("problem", PROBLEMS),
            ("age_band", AGE_BANDS),
            ("setting", SETTINGS),
            ("need_level", NEED_LEVELS),
            ("eif_level", EIF_LEVELS),
        ):
            if getattr(self, name) not in allowed:
                found[name] = f"Choose a {name.replace('_', ' ')} from the list"
        if any(
            k not in EMMIE_DIMENSIONS or v.get("quality", "not_rated") not in EMMIE_QUALITY
            for k, v in self.emmie.items()
        ):
            found["emmie"] = "Choose an EMMIE quality from the list"
        problems = [p for p in map(outcome_error, self.outcomes) if p]
        if problems:
            found["outcomes"] = problems[0]
        if any(not s.citation.strip() or s.design not in STUDY_DESIGNS for s in self.studies):
            found["studies"] = "Each study needs a citation and a design from the list"
        found.update(self._text_errors())
        return found

    def _text_errors(self) -> dict[str, str]:
        found: dict[str, str] = {}
        texts = (self.summary, self.problem_detail, self.mechanism, self.implementation, self.cost, self.eif_rationale)
        if any(len(t) > MAX_TEXT for t in texts):
            found["summary"] = f"Each text is at most {MAX_TEXT:,} characters"
        if any("\x00" in t for t in (*texts, self.title, self.local_contact, self.provenance)):
            found["title"] = "Text cannot contain the NUL character"
        if len(self.local_contact) > 300:
            found["local_contact"] = "A contact is at most 300 characters"
        return found


def outcome_error(outcome: Outcome) -> str | None:
    """What is wrong with one outcome's figures, if anything: a size needs its source, an interval its size."""
    if not outcome.outcome.strip() or outcome.direction not in EFFECT_DIRECTIONS:
        return "Each outcome needs a name and a direction from the list"
    if (outcome.lower is not None or outcome.upper is not None) and outcome.size is None:
        return "An interval needs the size it surrounds"
    if outcome.size is not None and not outcome.source.strip():
        return "Say where each effect size comes from"
    bounds = (outcome.lower, outcome.size, outcome.upper)
    if None not in bounds and sorted(bounds, key=float) != list(bounds):  # type: ignore[arg-type]
        return "An effect size must lie within its interval"
    return None


def _apply(entry: LibraryEntry, fields: EntryFields) -> None:
    entry.title = fields.title.strip()
    entry.summary = fields.summary.strip()
    entry.problem = fields.problem
    entry.problem_detail = fields.problem_detail.strip()
    entry.age_band = fields.age_band
    entry.setting = fields.setting
    entry.need_level = fields.need_level
    entry.mechanism = fields.mechanism.strip()
    entry.outcomes = [o.as_dict() for o in fields.outcomes]
    entry.emmie = {
        key: {
            "evidence": fields.emmie.get(key, {}).get("evidence", "").strip(),
            "quality": fields.emmie.get(key, {}).get("quality", "not_rated"),
        }
        for key in EMMIE_DIMENSIONS
    }
    entry.eif_level = fields.eif_level
    entry.eif_rationale = fields.eif_rationale.strip()
    entry.studies = [s.as_dict() for s in fields.studies]
    entry.implementation = fields.implementation.strip()
    entry.cost = fields.cost.strip()
    entry.local_lead_organisation_id = fields.local_lead_organisation_id
    entry.local_contact = fields.local_contact.strip()
    entry.provenance = fields.provenance.strip()


def _check(fields: EntryFields) -> None:
    errors = fields.errors()
    if errors:
        raise UserError("; ".join(errors.values()))


def _event(session: Session, by: Actor, action: str, subject_type: str, subject_id: int, **detail: Any) -> None:
    audit.record(
        session,
        audit.Event(actor=by, action=action, subject_type=subject_type, subject_id=str(subject_id), detail=detail),
    )


def create_entry(session: Session, *, fields: EntryFields, by: Actor) -> LibraryEntry:
    """A new draft entry, written by ``by``."""
    _check(fields)
    entry = LibraryEntry(author_user_id=by.user_id, status=EntryStatus.DRAFT)
    _apply(entry, fields)
    session.add(entry)
    session.flush()
    _event(session, by, "submit-library-entry", "library", entry.id, change="created")
    return entry


def update_entry(session: Session, *, entry: LibraryEntry, fields: EntryFields, by: Actor) -> LibraryEntry:
    if entry.status not in EDITABLE:
        raise UserError("an entry can be changed only as a draft or when returned with comments")
    if entry.author_user_id is not None and entry.author_user_id != by.user_id:
        raise UserError("only the author can change an entry")
    _check(fields)
    _apply(entry, fields)
    entry.updated_at = utcnow()
    _event(session, by, "submit-library-entry", "library", entry.id, change="edited")
    return entry


def submit_entry(session: Session, *, entry: LibraryEntry, by: Actor) -> LibraryEntry:
    if entry.status not in EDITABLE:
        raise UserError("only a draft or a returned entry can be submitted")
    if entry.author_user_id is not None and entry.author_user_id != by.user_id:
        raise UserError("only the author can submit an entry")
    if entry.status is EntryStatus.RETURNED:
        entry.round += 1
    entry.status = EntryStatus.SUBMITTED
    entry.submitted_by_user_id = by.user_id
    entry.submitted_at = entry.updated_at = utcnow()
    _event(session, by, "submit-library-entry", "library", entry.id, change="submitted", round=entry.round)
    return entry


def reviews_of(session: Session, entry: LibraryEntry, *, current_round: bool = False) -> list[LibraryReview]:
    query = select(LibraryReview).where(LibraryReview.entry_id == entry.id)
    if current_round:
        query = query.where(LibraryReview.round == entry.round)
    return list(session.scalars(query.order_by(LibraryReview.created_at, LibraryReview.id)))


def review_entry(
    session: Session, *, entry: LibraryEntry, decision: ReviewDecision, comments: str, by: Actor
) -> LibraryReview:
    """Record one review. Two approvals by two different people, neither the submitter, publish the entry; a return
    sends it back to its author with the comments."""
    if entry.status not in UNDER_REVIEW:
        raise UserError("only a submitted entry can be reviewed")
    if by.user_id is None:
        raise UserError("only a signed-in person can review")
    if by.user_id in (entry.submitted_by_user_id, entry.author_user_id):
        raise UserError("the person who wrote or submitted an entry cannot review it")
    done = reviews_of(session, entry, current_round=True)
    if any(r.reviewer_user_id == by.user_id for r in done):
        raise UserError("you have already reviewed this entry; a second reviewer is needed")
    comments = comments.strip()
    if decision is ReviewDecision.RETURN and not comments:
        raise UserError("say what needs changing when returning an entry")
    if len(comments) > MAX_TEXT or "\x00" in comments:
        raise UserError("the comments are too long or contain the NUL character")
    review = LibraryReview(
        entry_id=entry.id, round=entry.round, reviewer_user_id=by.user_id, decision=decision, comments=comments
    )
    session.add(review)
    approvals = 1 + sum(1 for r in done if r.decision is ReviewDecision.APPROVE)
    now = utcnow()
    if decision is ReviewDecision.RETURN:
        entry.status = EntryStatus.RETURNED
    elif approvals >= REVIEWS_NEEDED:
        entry.status = EntryStatus.PUBLISHED
        entry.published_at = now
    else:
        entry.status = EntryStatus.IN_REVIEW
    entry.updated_at = now
    session.flush()
    _event(
        session,
        by,
        "review-library-entry",
        "library",
        entry.id,
        decision=decision.value,
        round=entry.round,
        status=entry.status.value,
        review_id=review.id,
    )
    return review


def can_see(entry: LibraryEntry, *, user_id: int | None, reviewer: bool) -> bool:
    """Published entries are for every signed-in partner; others for their author, and for reviewers once
    submitted."""
    if entry.status is EntryStatus.PUBLISHED:
        return True
    if user_id is not None and user_id in (entry.author_user_id, entry.submitted_by_user_id):
        return True
    return reviewer and entry.status in UNDER_REVIEW | {EntryStatus.RETURNED}


@dataclass(frozen=True)
class Filters:
    text: str = ""
    problem: str = ""
    age_band: str = ""
    setting: str = ""
    need_level: str = ""
    outcome: str = ""
    eif_level: str = ""


def search_entries(session: Session, filters: Filters) -> list[LibraryEntry]:
    """Published entries matching every filter given (the library is small: filtered here, the same on both
    databases)."""
    entries = session.scalars(
        select(LibraryEntry).where(LibraryEntry.status == EntryStatus.PUBLISHED).order_by(LibraryEntry.title)
    )
    words = [w for w in filters.text.lower().split() if w]
    found = []
    for entry in entries:
        haystack = " ".join(
            [
                entry.title,
                entry.summary,
                entry.problem_detail,
                entry.mechanism,
                " ".join(str(o.get("outcome", "")) for o in entry.outcomes),
            ]
        ).lower()
        if words and not all(w in haystack for w in words):
            continue
        if filters.problem and entry.problem != filters.problem:
            continue
        if filters.age_band and entry.age_band not in (filters.age_band, "all_ages"):
            continue
        if filters.setting and entry.setting != filters.setting:
            continue
        if filters.need_level and entry.need_level != filters.need_level:
            continue
        if filters.eif_level and entry.eif_level != filters.eif_level:
            continue
        if filters.outcome and not any(
            filters.outcome.lower() in str(o.get("outcome", "")).lower() for o in entry.outcomes
        ):
            continue
        found.append(entry)
    return found


def outcome_names(session: Session) -> list[str]:
    names = {
        str(o.get("outcome", ""))
        for outcomes in session.scalars(
            select(LibraryEntry.outcomes).where(LibraryEntry.status == EntryStatus.PUBLISHED)
        )
        for o in outcomes
    }
    return sorted(n for n in names if n)


# --- comments -----------------------------------------------------------------------------------------------------

COMMENT_TARGETS = frozenset({"library", "plan"})


def add_comment(session: Session, *, target_type: str, target_id: int, text: str, by: Actor) -> Comment:
    """A comment, held for moderation (nobody but its author and the moderators sees it until approved)."""
    if target_type not in COMMENT_TARGETS:
        raise ValueError(target_type)
    text = text.strip()
    if not text:
        raise UserError("a comment needs some text")
    if len(text) > MAX_COMMENT:
        raise UserError(f"a comment is at most {MAX_COMMENT:,} characters")
    if "\x00" in text:
        raise UserError("text cannot contain the NUL character")
    if by.user_id is None or by.organisation_id is None:
        raise UserError("only a signed-in partner can comment")
    comment = Comment(
        target_type=target_type,
        target_id=target_id,
        text=text,
        author_user_id=by.user_id,
        organisation_id=by.organisation_id,
        status=CommentStatus.PENDING,
    )
    session.add(comment)
    session.flush()
    _event(session, by, "comment", target_type, target_id, comment_id=comment.id)
    return comment


def moderate_comment(session: Session, *, comment: Comment, approve: bool, by: Actor) -> Comment:
    """Approve a pending comment (shown to everyone) or remove any comment (hidden again, kept for the record)."""
    if approve and comment.status is not CommentStatus.PENDING:
        raise UserError("only a comment awaiting moderation can be approved")
    comment.status = CommentStatus.APPROVED if approve else CommentStatus.REMOVED
    comment.moderated_by_user_id = by.user_id
    comment.moderated_at = utcnow()
    _event(
        session,
        by,
        "moderate-comments",
        comment.target_type,
        comment.target_id,
        comment_id=comment.id,
        status=comment.status.value,
    )
    return comment


def comments_for(
    session: Session, *, target_type: str, target_id: int, user_id: int | None, moderator: bool
) -> list[Comment]:
    """Approved comments; pending ones too for their author and for moderators."""
    rows = session.scalars(
        select(Comment)
        .where(Comment.target_type == target_type, Comment.target_id == target_id)
        .order_by(Comment.created_at, Comment.id)
    )
    return [
        c
        for c in rows
        if c.status is CommentStatus.APPROVED
        or (c.status is CommentStatus.PENDING and (moderator or c.author_user_id == user_id))
    ]


def pending_comments(session: Session) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment).where(Comment.status == CommentStatus.PENDING).order_by(Comment.created_at, Comment.id)
        )
    )


# --- parsing the form's line lists --------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{text[:20]!r} is not a number") from None


def parse_outcomes(text: str) -> tuple[Outcome, ...]:
    """One outcome a line: ``outcome | direction | size | lower | upper | unit | source`` (only the first two are
    needed)."""
    outcomes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + [""] * 7
        outcomes.append(
            Outcome(
                outcome=parts[0],
                direction=parts[1] or "unknown",
                size=_number(parts[2]),
                lower=_number(parts[3]),
                upper=_number(parts[4]),
                unit=parts[5],
                source=parts[6],
            )
        )
    return tuple(outcomes)


def format_outcomes(outcomes: Iterable[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    return "\n".join(
        " | ".join(cell(o.get(k)) for k in ("outcome", "direction", "size", "lower", "upper", "unit", "source"))
        for o in outcomes
    )


def parse_studies(text: str) -> tuple[Study, ...]:
    """One study a line: ``year | design | citation | url``."""
    studies = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + [""] * 4
        year = None
        if parts[0]:
            if not parts[0].isdigit() or not 1900 <= int(parts[0]) <= 2100:
                raise UserError("a study's year is four digits")
            year = int(parts[0])
        studies.append(Study(year=year, design=parts[1], citation=parts[2], url=parts[3]))
    return tuple(studies)


def format_studies(studies: Sequence[dict[str, Any]]) -> str:
    return "\n".join(" | ".join(str(s.get(k) or "") for k in ("year", "design", "citation", "url")) for s in studies)


def effect_words(outcome: dict[str, Any]) -> str:
    """'0.42 (95% interval 0.30 to 0.55) fewer per 1,000' from an outcome's figures; '' when no size is given."""
    size = outcome.get("size")
    if size is None:
        return ""
    words = f"{size:g}"
    lower, upper = outcome.get("lower"), outcome.get("upper")
    if lower is not None and upper is not None:
        words += f" (interval {lower:g} to {upper:g})"
    unit = outcome.get("unit") or ""
    return f"{words} {unit}".strip()
