"""What every route depends on: a database session, the signed-in person, and ``require(action)``.

``Depends(require("view-work-items"))`` asks the resolver whether the signed-in person may take the action at
all, checks the CSRF token of a POST/PUT/PATCH/DELETE, and hands the route an :class:`Access`: the session, the
person, and ``check`` / ``audit`` for the subjects it shows or changes. A refusal of a signed-in person is
audited. A test enumerates every route and fails if one does not depend on ``require``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from commonground.access import audit
from commonground.access.accounts import SignedIn, signed_in
from commonground.access.actions import action
from commonground.access.models import User
from commonground.access.purposes import Purpose
from commonground.access.resolver import (
    Decision,
    Principal,
    RequestFacts,
    StoreFacts,
    Subject,
    resolve,
    terms_in_force,
)
from commonground.store.db import utcnow
from commonground.store.settings import HubSettings
from commonground.web.security import csrf_ok, session_cookie_name

ACTION_ATTRIBUTE = "__commonground_action__"
NOT_FOUND = "not found, or not yours to see"


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Opened on the event loop (it touches the store only when first used) and closed
    there too when the route has committed or rolled back; a transaction left open is rolled back in a worker
    thread. Each move to a worker thread costs a request about as much CPU as a statement does.

    At most ``database_pool`` requests of a process hold a session at once (``app.state.db_gate``); the rest wait
    on the event loop, holding nothing. A request keeps its connection from its first statement to its end, across
    its moves between threads, so without the gate a burst of requests would need more connections than the pool
    keeps, and each one past the pool would be opened and closed again: a new PostgreSQL backend per request."""
    gate: asyncio.Semaphore = request.app.state.db_gate
    factory: sessionmaker[Session] = request.app.state.sessions
    await gate.acquire()
    try:
        session = factory()
        try:
            yield session
        finally:
            if session.in_transaction():
                await run_in_threadpool(session.close)
            else:
                session.close()
    finally:
        gate.release()


def settings_of(request: Request) -> HubSettings:
    settings: HubSettings = request.app.state.settings
    return settings


def signed_in_as(request: Request, db: Session, *, now: dt.datetime) -> SignedIn | None:
    settings = settings_of(request)
    token = request.cookies.get(session_cookie_name(settings))
    if not token:
        return None
    return signed_in(db, token=token, settings=settings, now=now)


def principal_from(who: SignedIn) -> Principal:
    return Principal(
        user_id=who.user_id,
        label=who.email,
        organisation_id=who.organisation_id,
        organisation_type=who.organisation_type,
        role=who.role,
        password_change_due=who.must_change_password,
    )


@dataclass
class Access:
    """A request that the resolver has let through: the session, who is asking, and the decision so far."""

    db: Session
    request: Request
    principal: Principal | None
    decision: Decision
    now: dt.datetime
    facts: RequestFacts
    """The agreements and relationships this request has read, read once (:class:`RequestFacts`)."""

    @property
    def user(self) -> User | None:
        """The signed-in account as a stored object, for the routes that show or change it (read when asked:
        most routes need only :attr:`principal`)."""
        return None if self.principal is None else self.db.get(User, self.principal.user_id)

    def me(self) -> Principal:
        if self.principal is None:
            raise HTTPException(401, "sign in first")
        return self.principal

    def check(
        self,
        name: str,
        subject: Subject,
        *,
        purpose: Purpose | None = None,
        break_glass_reason: str | None = None,
    ) -> Decision:
        return resolve(
            name,
            principal=self.principal,
            facts=self.facts,
            at=self.now,
            subject=subject,
            purpose=purpose,
            break_glass_reason=break_glass_reason,
        )

    def refuse(self, decision: Decision, subject: Subject, *, not_found: bool = False) -> HTTPException:
        """Audit a refusal about one subject, commit that alone, and give the error to raise."""
        self.db.rollback()
        if self.principal is not None:
            audit.record(self.db, _event(self.principal, decision, subject, outcome="denied"))
            self.db.commit()
        if not_found or decision.reason.startswith(("it belongs to another", "it is routed")):
            return HTTPException(404, NOT_FOUND)
        return HTTPException(decision.status if decision.status >= 400 else 403, decision.reason)

    def audit_reads(
        self, decisions: Sequence[tuple[Decision, Subject]], *, purpose: Purpose | None, reason: str | None = None
    ) -> None:
        """Record allowed reads (one event per subject) in the session's transaction."""
        principal = self.me()
        audit.record_many(
            self.db,
            [
                _event(principal, d, s, outcome="allowed", purpose=purpose, reason=reason if d.break_glass else None)
                for d, s in decisions
            ],
        )


def _event(
    principal: Principal,
    decision: Decision,
    subject: Subject,
    *,
    outcome: str,
    purpose: Purpose | None = None,
    reason: str | None = None,
) -> audit.Event:
    return audit.Event(
        actor=principal.actor,
        action=decision.action,
        subject_type=subject.kind.value,
        subject_id=subject.id,
        person_id=subject.person_id,
        outcome="allowed" if outcome == "allowed" else "denied",
        purpose=purpose.value if purpose else None,
        break_glass=decision.break_glass,
        reason=reason,
        detail={"why": decision.reason} if outcome != "allowed" else {"agreements": list(decision.agreements)},
    )


def require(name: str) -> Callable[..., object]:
    """The dependency that guards a route with the declared action ``name``."""
    act = action(name)

    def record_refusal(db: Session, principal: Principal, decision: Decision) -> None:
        audit.record(db, _event(principal, decision, Subject(kind=act.subject), outcome="denied"))
        db.commit()

    async def dependency(request: Request, db: Annotated[Session, Depends(get_db)]) -> Access:
        now = utcnow()
        facts = RequestFacts(StoreFacts(db))
        # Who is asking: one keyed read, which takes no lock, done here on the event loop (which waits for it,
        # but other requests' threads go on meanwhile): sending it to a worker thread and back cost a request
        # more CPU than the read itself. Anything that writes (and waits for the disk) goes to a thread.
        who = None if act.public else signed_in_as(request, db, now=now)
        principal = principal_from(who) if who is not None else None
        if who is not None:
            facts.know_agreements(
                organisation_id=who.organisation_id, at=now, terms=terms_in_force(who.agreements, at=now)
            )
        decision = resolve(name, principal=principal, facts=facts, at=now)
        if not decision.allowed and principal is not None:
            await run_in_threadpool(record_refusal, db, principal, decision)
        elif db.info.pop("touched", False):
            await run_in_threadpool(db.commit)  # keep a session's last-seen time
        if not decision.allowed:
            raise HTTPException(decision.status, decision.reason)
        if not await csrf_ok(request, settings=settings_of(request), secret=request.app.state.secret):
            raise HTTPException(403, "the form or request has no valid CSRF token; reload and try again")
        return Access(db=db, request=request, principal=principal, decision=decision, now=now, facts=facts)

    setattr(dependency, ACTION_ATTRIBUTE, name)
    dependency.__name__ = f"require_{name.replace('-', '_')}"
    return dependency
