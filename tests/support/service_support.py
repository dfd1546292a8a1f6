"""Helpers of the hub tests: a log-in-as helper (a session without a password), constants."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import accounts
from commonground.access.audit import CHAINS, GENESIS, Actor
from commonground.access.context import Context
from commonground.access.models import User
from commonground.access.resolver import Principal, RequestFacts, StoreFacts, resolve
from commonground.store.db import utcnow
from commonground.store.migrations.metadata import all_metadata
from commonground.store.settings import HubSettings

SETUP = Actor(label="test:setup")
PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "__Host-cg_session"


def login_as(client: TestClient, sessions: sessionmaker[Session], user_id: int) -> str:
    """Sign a client in as a user without a password (a new session row); returns the CSRF token for it."""
    settings: HubSettings = client.app.state.settings  # type: ignore[attr-defined]
    with sessions() as db:
        user = db.get_one(User, user_id)
        token = accounts.start_session(db, user=user, method="test", settings=settings, now=utcnow())
        db.commit()
    client.cookies.set(SESSION_COOKIE, token)
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    csrf: str = me.json()["csrf_token"]
    return csrf


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def as_superuser(engine: Engine, sql: str) -> None:
    """What someone with direct database access could do: switch the append-only triggers off and write."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET session_replication_role = replica"))
            connection.execute(text(sql))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            connection.execute(text(sql))


def empty_postgres(engine: Engine) -> None:
    """Empty every table (DELETE is quicker than TRUNCATE on tables this small) and reset the audit head."""
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))  # triggers and foreign keys sleep
        for table in reversed(all_metadata().sorted_tables):
            connection.execute(table.delete())
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (:id, 0, :g)"),
            [{"id": chain, "g": GENESIS} for chain in range(1, CHAINS + 1)],
        )
        connection.execute(text("ALTER SEQUENCE audit_events_seq_seq RESTART WITH 1"))


def principal_of(user: User) -> Principal:
    """The resolver's view of a stored account (the service builds it from the sign-in statement instead)."""
    return Principal(
        user_id=user.id,
        label=user.email,
        organisation_id=user.organisation_id,
        organisation_type=user.organisation.type,
        role=user.role,
        password_change_due=user.must_change_password,
        access_pending=user.access_pending,
    )


def context_of(db: Session, user_id: int, action: str = "view-self") -> Context:
    """What ``require(action)`` hands a route, without the request: the session, who is asking (the account
    ``user_id``), the store's facts, now; the resolver must let the account take ``action`` at all."""
    principal = principal_of(db.get_one(User, user_id))
    now = utcnow()
    facts = RequestFacts(StoreFacts(db))
    decision = resolve(action, principal=principal, facts=facts, at=now)
    assert decision.allowed, decision.reason
    return Context(db=db, principal=principal, decision=decision, now=now, facts=facts)
