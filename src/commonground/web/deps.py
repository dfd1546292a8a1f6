"""What every route depends on: a database session, the signed-in person, and ``require(action)``.

``Depends(require("view-work-items"))`` asks the resolver whether the signed-in person may take the action at
all, checks the CSRF token of a POST/PUT/PATCH/DELETE, and hands the route an :class:`Access`: the session, the
person, and ``check`` / ``audit`` for the subjects it shows or changes. A refusal of a signed-in person is
audited. A test enumerates every route and fails if one does not depend on ``require``. A signed-in person's
write that sends an idempotency key claims it here (:mod:`commonground.web.idempotency`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from commonground.access.accounts import LAST_SEEN, SignedIn, keep_last_seen, signed_in
from commonground.access.actions import action
from commonground.access.context import Context, record_refusal
from commonground.access.resolver import (
    Principal,
    RequestFacts,
    StoreFacts,
    Subject,
    resolve,
    terms_in_force,
)
from commonground.cases.demo_clock import service_offset
from commonground.errors import NOT_FOUND, Refused
from commonground.store.db import utcnow
from commonground.store.settings import HubSettings
from commonground.web import idempotency
from commonground.web.security import UNSAFE_METHODS, csrf_ok, session_cookie_name

ACTION_ATTRIBUTE = "__commonground_action__"


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Opened on the event loop (it touches the store only when first used) and closed
    there too when the route has committed or rolled back; a transaction left open is rolled back in a worker
    thread. Each move to a worker thread costs a request about as much CPU as a statement does.

    At most ``database_pool`` requests of a process hold a session at once (``app.state.db_gate``); the rest wait
    on the event loop, holding nothing. A request keeps its connection from its first statement to its end, across
    its moves between threads, so without the gate a burst of requests would need more connections than the pool
    keeps, and each one past the pool would be opened and closed again: a new PostgreSQL backend per request. The
    gate is never wider than the connections the pool keeps (``create_app``), on SQLite too: a request past the
    pool waited for one and failed (``QueuePool limit ... reached``)."""
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


def service_now(settings: HubSettings, real: dt.datetime) -> dt.datetime:
    """The service's clock: the real one, or a demo's moved on by its trainer (``commonground demo --advance``,
    kept in the data directory; never read in production). Deadlines, ages and agreements are read by it."""
    if settings.environment == "production":
        return real
    offset = service_offset(settings.data_dir)
    return real if offset is None else real + offset


def demo_clock_moved(settings: HubSettings) -> bool:
    """Whether the service runs on a demo's clock moved on from the real one (the pages say so)."""
    if settings.environment == "production":
        return False
    offset = service_offset(settings.data_dir)
    return offset is not None and offset > dt.timedelta(0)


def principal_from(who: SignedIn) -> Principal:
    return Principal(
        user_id=who.user_id,
        label=who.email,
        organisation_id=who.organisation_id,
        organisation_type=who.organisation_type,
        role=who.role,
        password_change_due=who.must_change_password,
        access_pending=who.access_pending,
    )


@dataclass
class Access(Context):
    """A request that the resolver has let through: the operation :class:`Context` and the HTTP request."""

    request: Request = field(kw_only=True)


def require(name: str) -> Callable[..., object]:
    """The dependency that guards a route with the declared action ``name``."""
    act = action(name)

    async def dependency(request: Request, db: Annotated[Session, Depends(get_db)]) -> Access:
        real = utcnow()  # sign-in sessions and idempotency keys keep the real clock
        now = service_now(settings_of(request), real)
        facts = RequestFacts(StoreFacts(db))
        # Who is asking: one keyed read, which takes no lock, done here on the event loop (which waits for it,
        # but other requests' threads go on meanwhile): sending it to a worker thread and back cost a request
        # more CPU than the read itself. Anything that writes (and waits for the disk) goes to a thread.
        who = None if act.public else signed_in_as(request, db, now=real)
        principal = principal_from(who) if who is not None else None
        if who is not None:
            facts.know_agreements(
                organisation_id=who.organisation_id, at=now, terms=terms_in_force(who.agreements, at=now)
            )
        decision = resolve(name, principal=principal, facts=facts, at=now)
        if not decision.allowed and principal is not None:
            db.info.pop(LAST_SEEN, None)
            await run_in_threadpool(record_refusal, db, principal, decision, Subject(kind=act.subject))
        elif LAST_SEEN in db.info:
            await run_in_threadpool(keep_last_seen, db)  # skipped, not failed, when the store is busy
        if not decision.allowed:
            raise Refused.of(decision)
        if not await csrf_ok(request, settings=settings_of(request), secret=request.app.state.secret):
            raise HTTPException(403, "the form or request has no valid CSRF token; reload and try again")
        if principal is not None and request.method in UNSAFE_METHODS:
            await idempotency.claim(request, db, user_id=principal.user_id, now=real)
        return Access(db=db, request=request, principal=principal, decision=decision, now=now, facts=facts)

    setattr(dependency, ACTION_ATTRIBUTE, name)
    dependency.__name__ = f"require_{name.replace('-', '_')}"
    return dependency


__all__ = ["NOT_FOUND", "Access", "demo_clock_moved", "get_db", "require", "service_now", "settings_of"]
