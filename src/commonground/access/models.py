"""Tables of access control: the people who sign in (with the history of their roles), their sign-in sessions and
attempts; data-sharing agreements and their history, people's relationships to organisations, the hash-chained
audit log with its head, and break-glass reports for the data protection officer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commonground.access.roles import Role
from commonground.store.db import Base, utcnow
from commonground.store.models import Organisation, str_enum


class Agreement(Base):
    """A data-sharing agreement as data: which organisation may see which feeds' records, about whom, for which
    purposes, under which lawful basis, between which dates. Ending one stops access at once."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    feeds: Mapped[list[str]]
    fields: Mapped[dict[str, Any] | None]
    """Per feed, the only fields it shows (a feed not named here shows all of its fields); #16."""
    about: Mapped[list[str]]
    purposes: Mapped[list[str]]
    lawful_basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AgreementVersion(Base):
    """One row per change of an agreement: the whole agreement as it became, who changed it, when and why."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "version", name="uq_agreement_versions_agreement_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(20))
    snapshot: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_user_id: Mapped[int | None]


class PersonRelationship(Base):
    """Why an organisation is concerned with a person: a pupil on its roll, a case routed to it. Agreements that
    cover only "own pupils" or "own cases" use these rows."""

    __tablename__ = "person_relationships"
    __table_args__ = (
        UniqueConstraint(
            "person_id", "organisation_id", "kind", "source", name="uq_person_relationships_person_org_kind_source"
        ),
        Index("ix_person_relationships_person_org", "person_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime | None]


class RecordShare(Base):
    """One record of a person shared with an organisation, for one purpose, between two moments: what a referral
    carries (the sender's choice, item by item). The organisation's agreement about its own cases opens this record,
    for this purpose, while the share is in force, and nothing else of the person (#16, #17)."""

    __tablename__ = "record_shares"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "source", "source_ref", "feed", "record_id", name="uq_record_shares_org_source_record"
        ),
        Index("ix_record_shares_person_org", "person_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    feed: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40))
    """What shared it ("referrals")."""
    source_ref: Mapped[str] = mapped_column(String(64))
    """Which one of them (the referral's id)."""
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime | None]


class AuditEvent(Base):
    """One entry of the append-only audit log. ``hash`` is SHA-256 over the previous entry's hash and this entry's
    canonical content, so an edited or deleted entry breaks the chain (:func:`commonground.access.audit.verify_audit`).
    Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_person_id", "person_id"),
        Index("ix_audit_events_chain", "chain", "chain_seq", unique=True),
    )

    seq: Mapped[int] = mapped_column(primary_key=True)
    """The order entries were written in, given by the database; the hash covers ``chain`` and ``chain_seq``."""
    chain: Mapped[int] = mapped_column(server_default=text("1"))
    chain_seq: Mapped[int] = mapped_column(server_default=text("0"))
    """The entry's place in its chain, from 1 (0 only for a row inserted by hand, which the check then names)."""
    occurred_at: Mapped[dt.datetime]
    actor_user_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int | None]
    role: Mapped[str | None] = mapped_column(String(40))
    purpose: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(10))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    person_id: Mapped[str | None] = mapped_column(String(64))
    break_glass: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """A chain's head: its number (``id``), the place and hash of its last entry. Appending locks the row, so a
    chain never forks; there are several chains so that concurrent appends need not wait for one lock."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class BreakGlassReport(Base):
    """A break-glass access, reported to the data protection officer until reviewed."""

    __tablename__ = "break_glass_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_seq: Mapped[int] = mapped_column(ForeignKey("audit_events.seq"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(Text)


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
    access_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    """A new account with record access, or a change of role or organisation, made in the service by one person and
    not yet approved by a second (the DPO): until then nothing identifiable is open to it (#16)."""
    access_changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    """Who made the change that waits for approval: never the one who approves it."""
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
    __table_args__ = (
        Index("ix_sign_in_attempts_client_at", "client", "at"),
        Index("ix_sign_in_attempts_email_hash_at", "email_hash", "at"),  # the per-account wait reads by email
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    client: Mapped[str] = mapped_column(String(64))
    email_hash: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
