"""Tables of what works: library entries with their reviews and local evaluations, comments (on entries and on
work-plan items, moderated), surveys with their questions, recipients and responses, and the work plan."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commonground.access.models import User
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation, str_enum


class EntryStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETURNED = "returned"


class LibraryEntry(Base):
    """A collaboration or intervention: the problem and population, how it is meant to work, its effects per
    outcome, the EMMIE fields and (separately) the EIF evidence level, the studies behind it, what it takes."""

    __tablename__ = "library_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    problem: Mapped[str] = mapped_column(String(40), index=True)
    problem_detail: Mapped[str] = mapped_column(Text, default="")
    age_band: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(40))
    need_level: Mapped[str] = mapped_column(String(40))
    mechanism: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Per outcome: {outcome, direction, size, lower, upper, unit, source}; sizes only where a source gives them."""
    emmie: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Per EMMIE dimension: {evidence: text, quality: key of EMMIE_QUALITY}."""
    eif_level: Mapped[str] = mapped_column(String(12), default="not_rated")
    eif_rationale: Mapped[str] = mapped_column(Text, default="")
    studies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """{citation, design, year, url}."""
    implementation: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[str] = mapped_column(Text, default="")
    local_lead_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    local_contact: Mapped[str] = mapped_column(String(300), default="")
    provenance: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), default=EntryStatus.DRAFT, index=True)
    round: Mapped[int] = mapped_column(default=1)
    """The review round: a returned entry, resubmitted, is reviewed afresh by two people."""
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]

    local_lead: Mapped[Organisation | None] = relationship(lazy="joined")


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class LibraryReview(Base):
    __tablename__ = "library_reviews"
    __table_args__ = (
        UniqueConstraint("entry_id", "round", "reviewer_user_id", name="uq_library_reviews_entry_round_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("library_entries.id"), index=True)
    round: Mapped[int]
    reviewer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[ReviewDecision] = mapped_column(str_enum(ReviewDecision))
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")


class LocalEvaluation(Base):
    """A result of commonground's own evaluation on local data, linked to an entry and always shown as LOCAL."""

    __tablename__ = "library_local_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("library_entries.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    evaluated_on: Mapped[dt.date] = mapped_column(Date)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reference: Mapped[str] = mapped_column(String(200), default="")
    """Where the result came from (an evaluation run's id or file), if anywhere."""
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REMOVED = "removed"


class Comment(Base):
    """A signed-in partner's comment on a library entry or a work-plan item; hidden from others until a moderator
    approves it."""

    __tablename__ = "whatworks_comments"
    __table_args__ = (Index("ix_whatworks_comments_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(str_enum(CommentStatus), default=CommentStatus.PENDING)
    moderated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_user_id])
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CLOSED = "closed"


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SurveyStatus] = mapped_column(str_enum(SurveyStatus), default=SurveyStatus.DRAFT)
    synthetic: Mapped[bool] = mapped_column(default=False)
    """Made up for the demo: every page and download says so."""
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    questions: Mapped[list[SurveyQuestion]] = relationship(order_by="SurveyQuestion.position", lazy="selectin")


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    hint: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    topic: Mapped[str] = mapped_column(String(20), default="other")
    """What the analysis does with it: 'practice' (how common), 'barrier' (ranked), 'partner', 'since', 'other'."""
    choices: Mapped[list[str]] = mapped_column(default=list)
    required: Mapped[bool] = mapped_column(default=False)


class SurveyRecipient(Base):
    """An organisation a survey was sent to: a force from the reference list or a partner of the hub."""

    __tablename__ = "survey_recipients"
    __table_args__ = (UniqueConstraint("survey_id", "name", name="uq_survey_recipients_survey_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(60))
    force_code: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One organisation's answers (the last answer wins; ``version`` counts the answers given)."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("survey_recipients.id"), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Question id (as text) -> a choice, a list of choices, or text."""
    answered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    synthetic: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)


class PlanStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class PlanItem(Base):
    """An item of the partnership's work plan: an owner organisation, a due date, the barriers it tackles and the
    practices it spreads."""

    __tablename__ = "plan_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus), default=PlanStatus.NOT_STARTED)
    barriers: Mapped[list[str]] = mapped_column(default=list)
    practices: Mapped[list[str]] = mapped_column(default=list)
    entry_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Library entries the item draws on."""
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    owner: Mapped[Organisation] = relationship(lazy="joined")
