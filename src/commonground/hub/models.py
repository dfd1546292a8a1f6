"""Tables of the hub: partner organisations, the people who sign in (with the history of their roles), their
sign-in sessions and attempts, and work items (flags routed to an organisation and role, with a deadline)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.hub.db import Base, utcnow
from commonground.hub.organisation_types import OrganisationType


def str_enum(enum: type[StrEnum]) -> Enum:
    """A Python enum kept as its string value in a VARCHAR (no database enum type to migrate)."""
    return Enum(enum, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e])


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    """A short stable code: an ODS code, a force code, or for a school its URN."""
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType))
    urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    """A school's Unique Reference Number (schools only, and required for them)."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    """Someone who signs in: one organisation and one role at a time; changes keep history (UserVersion)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_sign_in_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Set when someone else chose the password (an administrator's one-time password): until the person changes
    it, signing in lets them change it and nothing else."""

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class UserVersion(Base):
    """History of an account's organisation, role and status, one row per change (never the password)."""

    __tablename__ = "user_versions"
    __table_args__ = (UniqueConstraint("user_id", "version", name="uq_user_versions_user_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(40))
    snapshot: Mapped[dict[str, Any]]
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_user_id: Mapped[int | None]


class SignInSession(Base):
    """A signed-in browser or client. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class SignInAttempt(Base):
    """One attempt to sign in with a password, for rate limiting: the client address and a hash of the email."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    client: Mapped[str] = mapped_column(String(64))
    email_hash: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]


class WorkItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class WorkItem(Base):
    """A flag routed to an organisation and role, with its deadline and evidence. ``flag_key`` identifies the flag
    across builds (person, rule, destination, episode), so a flag seen before is never made twice."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_queue", "organisation_id", "role", "status", "due_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_key: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(40))
    episode: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    purpose: Mapped[Purpose] = mapped_column(str_enum(Purpose))
    due_by: Mapped[dt.datetime]
    evidence: Mapped[list[str]]
    status: Mapped[WorkItemStatus] = mapped_column(str_enum(WorkItemStatus), default=WorkItemStatus.OPEN)
    assigned_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    @property
    def evidence_feeds(self) -> frozenset[str]:
        return frozenset(evidence.split(":", 1)[0] for evidence in self.evidence)
