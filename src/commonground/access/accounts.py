"""People who sign in: accounts (with history), argon2id passwords, slowing down of failed sign-ins, sessions.

A session cookie holds a random token; the store keeps only its SHA-256, so a copy of the database cannot sign
anyone in. Sessions end after ``session_hours`` or ``session_idle_minutes`` of inactivity, at sign-out, and when
an account's role, organisation or status changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Executable, Update, bindparam, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from commonground.access import audit
from commonground.access.actions import ACTIONS
from commonground.access.audit import ANONYMOUS, Actor
from commonground.access.models import Agreement, SignInAttempt, SignInSession, User, UserVersion
from commonground.access.resolver import AgreementRow, agreement_columns
from commonground.access.roles import ROLE_GRANTS, ROLE_ORGANISATION_TYPES, Role
from commonground.errors import UserError
from commonground.store.db import BUSY_TIMEOUT_MS, utcnow
from commonground.store.models import Organisation
from commonground.store.organisation_types import OrganisationType
from commonground.store.settings import HubSettings

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 low-memory profile


_DUMMY_HASH: list[str] = []


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    return _hasher().hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time on a dummy one (no account enumeration by timing)."""
    if password_hash is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(_hasher().hash(secrets.token_urlsafe(16)))
        password_hash = _DUMMY_HASH[0]
        _safe_verify(password_hash, password)
        return False
    return _safe_verify(password_hash, password)


def _safe_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise UserError("not an email address", field="email")
    return email


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "organisation_id": user.organisation_id,
        "role": user.role.value,
        "active": user.active,
        "oidc": user.oidc_subject is not None,
        "access_pending": user.access_pending,
    }


def _history(session: Session, user: User, *, change: str, by: Actor) -> None:
    session.add(
        UserVersion(
            user_id=user.id,
            version=user.version,
            change=change,
            snapshot=_snapshot(user),
            changed_by_user_id=by.user_id,
        )
    )
    audit.record(
        session,
        audit.Event(
            actor=by,
            action="manage-users",
            subject_type="user",
            subject_id=str(user.id),
            detail={"change": change, "version": user.version, "role": user.role.value},
        ),
    )


def _check_role_fits(role: Role, organisation: Organisation) -> None:
    if organisation.type not in ROLE_ORGANISATION_TYPES[role]:
        raise UserError(f"a {role.label} cannot belong to a {organisation.type.label}", field="role")


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    organisation: Organisation,
    role: Role,
    by: Actor,
    password: str | None = None,
    one_time: bool = False,
    oidc_issuer: str | None = None,
    oidc_subject: str | None = None,
    second_person: bool = False,
) -> User:
    """Add an account. Without a password it can sign in only through OIDC (linked on first sign-in by email).
    ``one_time``: the password was chosen by someone else (an administrator), and signing in with it lets the
    person change it and nothing else until they have. ``second_person``: made in the service by one person, so a
    role that opens records waits for a second person's approval (:func:`approve_access`) before it does; the
    command line (run by whoever runs the service) and tests make accounts that work at once."""
    email = normalise_email(email)
    _check_role_fits(role, organisation)
    if not display_name.strip():
        raise UserError("a person needs a display name", field="display_name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError("an account with that email already exists", field="email")
    user = User(
        email=email,
        display_name=display_name.strip(),
        organisation_id=organisation.id,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        oidc_issuer=oidc_issuer,
        oidc_subject=oidc_subject,
        active=True,
        failed_sign_ins=0,
        version=1,
        must_change_password=one_time and password is not None,
        access_pending=second_person and opens_records(role),
        access_changed_by_user_id=by.user_id if second_person and opens_records(role) else None,
    )
    session.add(user)
    session.flush()
    _history(session, user, change="created", by=by)
    return user


def change_user(
    session: Session,
    *,
    user: User,
    by: Actor,
    role: Role | None = None,
    organisation: Organisation | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    second_person: bool = False,
) -> User:
    """Change an account; a new role, organisation or status ends its sessions at once. ``second_person``: a new
    role or organisation that opens records waits for a second person's approval."""
    if by.user_id == user.id and (role is not None or organisation is not None or active is not None):
        raise UserError("nobody can change their own role, organisation or status")
    new_role = role or user.role
    new_organisation = organisation or session.get_one(Organisation, user.organisation_id)
    _check_role_fits(new_role, new_organisation)
    changes: list[str] = []
    if role is not None and role != user.role:
        user.role, changes = role, [*changes, "role"]
    if organisation is not None and organisation.id != user.organisation_id:
        user.organisation_id, changes = organisation.id, [*changes, "organisation"]
    if active is not None and active != user.active:
        user.active, changes = active, [*changes, "activated" if active else "deactivated"]
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        user.display_name, changes = display_name.strip(), [*changes, "name"]
    if not changes:
        return user
    if second_person and {"role", "organisation"} & set(changes) and opens_records(user.role):
        user.access_pending = True
        user.access_changed_by_user_id = by.user_id
    user.version += 1
    session.flush()
    if set(changes) - {"name"}:
        end_sessions_of(session, user_id=user.id)
    _history(session, user, change=",".join(changes), by=by)
    return user


def opens_records(role: Role) -> bool:
    """Whether a role is granted any action that opens identifiable records."""
    return any(ACTIONS[name].identifiable for name in ROLE_GRANTS[role] if name in ACTIONS)


def approve_access(session: Session, *, user: User, by: Actor) -> None:
    """A second person approves an account's record access: never the person who made the change that awaits it,
    nor the account's owner. Audited with a history row."""
    if not user.access_pending:
        raise UserError("this account's access is not waiting for approval")
    if by.user_id == user.id:
        raise UserError("nobody approves their own access")
    if user.access_changed_by_user_id is not None and user.access_changed_by_user_id == by.user_id:
        raise UserError("the person who made the change cannot also approve it: it takes two people")
    user.access_pending = False
    user.access_changed_by_user_id = None
    user.version += 1
    session.flush()
    _history(session, user, change="access approved", by=by)


def set_password(session: Session, *, user: User, password: str, by: Actor) -> None:
    user.password_hash = hash_password(password)
    user.version += 1
    end_sessions_of(session, user_id=user.id)
    _history(session, user, change="password", by=by)


def password_problem(user: User, password: str) -> str | None:
    """Why a new password is refused, in words, or None: at least ``MIN_PASSWORD_LENGTH`` characters, not the
    account's email address or name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 200:
        return "a password is at most 200 characters"
    lowered = password.strip().lower()
    if lowered in {user.email.lower(), user.email.split("@")[0].lower(), user.display_name.strip().lower()}:
        return "a password cannot be your email address or your name"
    return None


def change_own_password(session: Session, *, user: User, current: str, new: str, keep_token: str | None) -> None:
    """Someone changing their own password: the current one must be right and the new one acceptable. Every other
    session of the account ends (the one making the change, ``keep_token``, stays); audited either way."""
    actor = actor_of(user)
    if user.password_hash is None or not _verify(user.password_hash, current):
        audit.record(
            session,
            audit.Event(
                actor=actor,
                action="change-own-password",
                subject_type="user",
                subject_id=str(user.id),
                outcome="denied",
                detail={"why": "wrong current password"},
            ),
        )
        raise UserError("your current password is not right", field="current_password")
    problem = password_problem(user, new) or (
        "the new password is the same as the current one" if new == current else None
    )
    if problem:
        raise UserError(problem, field="new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.version += 1
    others = SignInSession.user_id == user.id
    if keep_token is not None:
        others = others & (SignInSession.token_hash != _token_hash(keep_token))
    session.execute(update(SignInSession).where(others, SignInSession.ended_at.is_(None)).values(ended_at=utcnow()))
    session.add(
        UserVersion(
            user_id=user.id,
            version=user.version,
            change="password",
            snapshot=_snapshot(user),
            changed_by_user_id=user.id,
        )
    )
    audit.record(
        session,
        audit.Event(
            actor=actor,
            action="change-own-password",
            subject_type="user",
            subject_id=str(user.id),
            detail={"change": "password", "version": user.version, "other_sessions_ended": True},
        ),
    )


def unlock_user(session: Session, *, user: User, by: Actor) -> None:
    """An administrator ends any wait of the account's sign-ins (failures count only since the last success: this
    records one, from no address) and clears the old lock's columns."""
    _record_attempt(session, client="unlock", email=user.email, succeeded=True, now=utcnow())
    user.failed_sign_ins = 0
    user.locked_until = None
    user.version += 1
    _history(session, user, change="unlocked", by=by)


def actor_of(user: User) -> Actor:
    return Actor(label=user.email, user_id=user.id, organisation_id=user.organisation_id, role=user.role.value)


@dataclass(frozen=True)
class SignInResult:
    """``rate_limited`` is the one answer to "too many failed attempts", whether from the client's address or for
    the email address, known or not: the same words, status and ``Retry-After`` for any of them."""

    outcome: Literal["signed_in", "refused", "rate_limited"]
    user: User | None = None
    retry_after_seconds: int = 0


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _failures_from(session: Session, *, client: str, now: dt.datetime) -> int:
    """Failed attempts from a client address in the last minute (successful ones do not count)."""
    since = now - dt.timedelta(minutes=1)
    return (
        session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.client == client[:64], SignInAttempt.at > since, SignInAttempt.succeeded.is_(False))
        )
        or 0
    )


def account_wait_seconds(session: Session, *, email: str, settings: HubSettings, now: dt.datetime) -> int:
    """How long an attempt for ``email`` must wait still (0: it may be tried now), the same for a known and an
    unknown address. After ``login_max_failures`` failed attempts within ``lockout_minutes`` (since its last
    success), the next may come ``login_delay_seconds`` after the last failure, doubling with each further
    failure up to ``login_max_delay_seconds``. Attempts refused for waiting are not tried, and do not count."""
    email_hash = _email_hash(email)
    since = now - dt.timedelta(minutes=settings.lockout_minutes)
    last_success = session.scalar(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.email_hash == email_hash, SignInAttempt.succeeded.is_(True), SignInAttempt.at > since
        )
    )
    start = max(since, last_success) if last_success is not None else since
    failures, last_failure = session.execute(
        select(func.count(), func.max(SignInAttempt.at)).where(
            SignInAttempt.email_hash == email_hash, SignInAttempt.succeeded.is_(False), SignInAttempt.at > start
        )
    ).one()
    if failures < settings.login_max_failures or last_failure is None:
        return 0
    delay = min(
        settings.login_delay_seconds * 2 ** (failures - settings.login_max_failures), settings.login_max_delay_seconds
    )
    remaining = (last_failure + dt.timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


def sign_in_with_password(
    session: Session, *, email: str, password: str, client: str, settings: HubSettings, now: dt.datetime
) -> SignInResult:
    """Check an email and password, slowed down per client address (failed attempts a minute) and per email
    address (:func:`account_wait_seconds`). Nothing here locks an account, and a known address is answered as an
    unknown one is. Every outcome is audited; the typed email is kept only as the account's own address when it
    exists (and as a hash, for the slowing down)."""
    if _failures_from(session, client=client, now=now) >= settings.login_rate_per_minute:
        _audit_sign_in(session, None, outcome="denied", why="rate limited")
        return SignInResult("rate_limited", retry_after_seconds=60)
    email, password = email.replace("\x00", ""), password.replace("\x00", "")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    usable = user is not None and user.active and user.password_hash is not None
    wait = account_wait_seconds(session, email=email, settings=settings, now=now)
    if wait > 0:
        _audit_sign_in(session, user if usable else None, outcome="denied", why="slowed down after failed attempts")
        return SignInResult("rate_limited", retry_after_seconds=wait)
    ok = _verify(user.password_hash if user is not None and usable else None, password)
    _record_attempt(session, client=client, email=email, succeeded=ok and usable, now=now)
    if user is None or not usable or not ok:
        why = "wrong password" if usable else "unknown account or wrong password"
        _audit_sign_in(session, user if usable else None, outcome="denied", why=why)
        return SignInResult("refused")
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    if user.password_hash is not None and _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    _audit_sign_in(session, user, outcome="allowed", why="password")
    return SignInResult("signed_in", user=user)


def _record_attempt(session: Session, *, client: str, email: str, succeeded: bool, now: dt.datetime) -> None:
    session.add(SignInAttempt(at=now, client=client[:64], email_hash=_email_hash(email), succeeded=succeeded))


def _audit_sign_in(
    session: Session, user: User | None, *, outcome: Literal["allowed", "denied"], why: str, method: str = "password"
) -> None:
    audit.record(
        session,
        audit.Event(
            actor=actor_of(user) if user is not None else ANONYMOUS,
            action="sign-in",
            subject_type="user",
            subject_id=str(user.id) if user is not None else None,
            outcome=outcome,
            detail={"method": method, "why": why},
        ),
    )


def audit_oidc_sign_in(session: Session, user: User | None, *, outcome: Literal["allowed", "denied"], why: str) -> None:
    _audit_sign_in(session, user, outcome=outcome, why=why, method="oidc")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, method: str, settings: HubSettings, now: dt.datetime) -> str:
    """A new sign-in session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        SignInSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_hours),
        )
    )
    return token


@dataclass(frozen=True)
class SignedIn:
    """Who a session token signs in, as every request needs it: the account, its organisation and role."""

    user_id: int
    email: str
    organisation_id: int
    organisation_type: OrganisationType
    role: Role
    must_change_password: bool
    access_pending: bool
    agreements: tuple[AgreementRow, ...]
    """The organisation's agreements (all of them, in force or not), read in the same statement."""


def signed_in(session: Session, *, token: str, settings: HubSettings, now: dt.datetime) -> SignedIn | None:
    """Who a session token signs in, or None when the session is unknown, ended or expired, or the account is not
    active. Read from the store on every request, in one statement of plain columns (the session, its account and
    the organisation's type): ending a session, or changing the account, takes effect at the next request. A
    session's last-seen time is moved on at most once a minute, by the caller, through :func:`keep_last_seen`
    (written here, inside the read, the write failed at once on SQLite whenever another connection had written
    since the read began: ``database is locked``, a 500 for a read)."""
    rows = session.connection().execute(_session_statement(), {"token_hash": _token_hash(token)}).all()
    found = rows[0] if rows else None
    if found is None or found.session_ended_at is not None or found.expires_at <= now or not found.active:
        return None
    if now - found.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes):
        return None
    if now - found.last_seen_at > TOUCH_EVERY:
        session.info[LAST_SEEN] = (found.session_id, now)
    return SignedIn(
        user_id=found.user_id,
        email=found.email,
        organisation_id=found.organisation_id,
        organisation_type=OrganisationType(found.organisation_type),
        role=Role(found.role),
        must_change_password=bool(found.must_change_password),
        access_pending=bool(found.access_pending),
        agreements=tuple(row for row in rows if row.reference is not None),
    )


@cache
def _session_statement() -> Executable:
    """Built once, with a bound parameter: every request runs it, and building a statement costs more CPU than
    running it. Plain columns, not ORM objects: loading an account and its organisation as objects cost a request
    more than the statement did. One row per agreement of the organisation (one with empty agreement columns if it
    has none): the resolver then need not read them again."""
    return (
        select(
            SignInSession.id.label("session_id"),
            SignInSession.last_seen_at,
            SignInSession.expires_at,
            SignInSession.ended_at.label("session_ended_at"),
            User.id.label("user_id"),
            User.email,
            User.active,
            User.role,
            User.must_change_password,
            User.access_pending,
            User.organisation_id,
            Organisation.type.label("organisation_type"),
            *agreement_columns(),
        )
        .join(User, User.id == SignInSession.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(Agreement, Agreement.organisation_id == User.organisation_id)
        .where(SignInSession.token_hash == bindparam("token_hash"))
    )


TOUCH_EVERY = dt.timedelta(seconds=60)
LAST_SEEN = "cg_last_seen"
"""The key of ``Session.info`` where :func:`signed_in` leaves a last-seen time to write."""
LAST_SEEN_WAIT_MS = 200
"""How long the last-seen write waits for a lock before it is skipped (the next request tries again)."""


def keep_last_seen(session: Session) -> bool:
    """Write the last-seen time :func:`signed_in` left, if any, in a transaction of its own that waits at most
    :data:`LAST_SEEN_WAIT_MS` for a lock; skipped (False) when it cannot get one: a read never fails, nor waits
    long, for it. The read's transaction is ended first."""
    pending = session.info.pop(LAST_SEEN, None)
    if pending is None:
        return True
    session_id, now = pending
    session.commit()
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    raw: Any = connection.connection.driver_connection
    try:
        try:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={LAST_SEEN_WAIT_MS}")
            else:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LAST_SEEN_WAIT_MS}ms'")
            connection.execute(_touch_statement(), {"session_id": session_id, "now": now})
        finally:  # before the connection goes back to the pool
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except OperationalError:
        session.rollback()
        return False
    session.commit()
    return True


@cache
def _touch_statement() -> Update:
    return (
        update(SignInSession).where(SignInSession.id == bindparam("session_id")).values(last_seen_at=bindparam("now"))
    )


def end_session(session: Session, *, token: str, now: dt.datetime) -> None:
    session.execute(
        update(SignInSession)
        .where(SignInSession.token_hash == _token_hash(token), SignInSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(session: Session, *, user_id: int) -> None:
    session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user_id, SignInSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def user_for_oidc(
    session: Session, *, issuer: str, subject: str, email: str | None, email_verified: bool
) -> User | None:
    """The active account an OIDC identity signs in: linked by issuer and subject; on first sign-in, linked by a
    verified email to an account that has no OIDC identity yet. Role and organisation always come from here,
    never from the provider's claims."""
    user = session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
    if user is None and email and email_verified:
        candidate = session.scalar(select(User).where(User.email == email.strip().lower()))
        if candidate is not None and candidate.oidc_subject is None and candidate.active:
            candidate.oidc_issuer, candidate.oidc_subject = issuer, subject
            candidate.version += 1
            _history(session, candidate, change="oidc linked", by=actor_of(candidate))
            user = candidate
    return user if user is not None and user.active else None
