"""The FastAPI application, built by :func:`create_app` from settings; nothing is built at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from commonground import __version__
from commonground.access.resolver import Refusal
from commonground.errors import Refused, UserError
from commonground.store.db import make_engine, pool_capacity, session_factory
from commonground.store.settings import HubSettings
from commonground.web import assets
from commonground.web.api import agreements, audit, meta, organisations, users, work_items
from commonground.web.api import notices as notices_api
from commonground.web.api import password as password_api
from commonground.web.api import people as people_api
from commonground.web.api import referrals as referrals_api
from commonground.web.idempotency import IdempotencyAnswers, KeyProblem, Replay
from commonground.web.pages import ROUTERS as PAGE_ROUTERS
from commonground.web.pages import done_messages, person_sections
from commonground.web.render import template_globals
from commonground.web.security import RequestLog, SecurityHeaders
from commonground.web.signin import oidc_client
from commonground.web.signin import router as sign_in_router
from commonground.web.views import PersonViews

log = logging.getLogger("commonground.web")

DESCRIPTION = """The hub service of commonground: partner organisations, data-sharing agreements, accounts, work
items (flags routed to partners with deadlines) and the audit log. Every operation is checked by one permission
resolver; identifiable reads need a stated purpose and are audited."""


def create_app(settings: HubSettings, *, engine: Engine | None = None) -> FastAPI:
    """The web application over the operational store named by ``settings`` (or the ``engine`` given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield

    app = FastAPI(
        title="commonground",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    engine = engine or make_engine(settings.resolved_database_url, pool_size=settings.database_pool)
    app.state.settings = settings
    app.state.db_gate = asyncio.Semaphore(gate_size(settings, engine))
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.secret = settings.resolved_secret_key()
    app.state.templates = Environment(
        loader=FileSystemLoader(str(resources.files("commonground.web") / "templates")),
        autoescape=select_autoescape(default=True),
    )
    app.state.templates.globals.update(template_globals())
    app.state.person_views = PersonViews(settings.data_dir)
    app.state.done_messages = done_messages()
    app.state.person_sections = person_sections()
    app.state.oidc = oidc_client(settings)
    for router in (
        sign_in_router,
        meta.router,
        organisations.router,
        agreements.router,
        users.router,
        audit.router,
        work_items.router,
        people_api.router,
        password_api.router,
        referrals_api.router,
        notices_api.router,
        assets.router,
        *PAGE_ROUTERS,
    ):
        app.include_router(router)
    _add_error_handlers(app)
    if app.state.oidc is not None:  # Authlib keeps the OIDC state and nonce in this short-lived signed cookie
        app.add_middleware(
            SessionMiddleware,
            secret_key=app.state.secret,
            session_cookie="cg_oidc_state",
            max_age=600,
            same_site="lax",
            https_only=settings.cookie_secure,
        )
    app.add_middleware(IdempotencyAnswers, sessions=app.state.sessions)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    app.add_middleware(RequestLog)
    return app


def gate_size(settings: HubSettings, engine: Engine) -> int:
    """How many requests of a process hold a session at once (``web/deps.py get_db``): ``database_pool``, and never
    more than the connections the engine's pool keeps, so that no request in the gate waits for a connection."""
    capacity = pool_capacity(engine)
    return settings.database_pool if capacity is None else max(1, min(settings.database_pool, capacity))


def settle_for_serving() -> None:
    """Call once in a server process when the application is built, before it serves.

    What a process loaded to start (modules, the application, its routes and models: about 200,000 objects) stays
    for its whole life, yet Python's cyclic garbage collector scanned all of it in every full collection, and under
    load the objects of requests in flight age into the oldest generation fast enough to set one off every few
    seconds: each paused every request of the process for 200 to 250 ms on this machine, which was most of the
    99th percentile. ``gc.freeze()`` moves what exists now out of the collector's sight (it is not collected,
    and never needed to be); full collections then scan only what requests create, 20 to 40 ms."""
    gc.collect()
    gc.freeze()


ERROR_HEADINGS = {
    400: "That cannot be done",
    403: "You cannot do that",
    404: "Page not found",
    405: "That cannot be done here",
    429: "Too many requests",
    503: "The service is busy",
}
TRY_AGAIN = "Try again later. If it keeps happening, tell your administrator."
RETRY_AFTER_SECONDS = 2
"""What a 503 of a busy store asks the client to wait before trying again."""


def error_page(request: Request, status: int, detail: str) -> Response:
    """An error as a page for a browser: the reason in words, never a value from the request."""
    heading = ERROR_HEADINGS.get(status, "Sorry, there is a problem with the service")
    message = detail if status in (400, 403, 409) else TRY_AGAIN
    if status == 503:
        message = "Too many people are using the service at this moment. Wait a few seconds and try again."
    if status == 404:
        message = "The page is not there, or it is not yours to see. Check the address, or go back to your home page."
    body = request.app.state.templates.get_template("error.html").render(
        title=heading, heading=heading, message=message, user=None, nav=[], path=request.url.path
    )
    return HTMLResponse(body, status_code=status)


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError) -> Response:
        if _wants_page(request):
            return error_page(request, 400, str(error))
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        """A refusal of an operation: for a page, the sign-in page (401), the account page (a one-time password
        to change first) or an error page; for the API, the reason as JSON with its status."""
        if _wants_page(request):
            if error.status == 401:
                return RedirectResponse("/sign-in", status_code=303)
            if error.refusal is Refusal.CHANGE_PASSWORD_FIRST:
                return RedirectResponse("/account#change-password", status_code=303)
            return error_page(request, error.status, error.reason)
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    _add_http_handlers(app)


BUSY_WORDS = (
    "locked",  # SQLite: database is locked, database table is locked
    "busy",
    "lock timeout",  # PostgreSQL: canceling statement due to lock timeout
    "could not obtain lock",
    "could not connect",  # PostgreSQL stopped or restarting
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "the database system is",  # ... starting up / shutting down / in recovery mode
)


def store_busy(error: Exception) -> bool:
    """Whether an error of the store means "busy, try again" (a lock or a connection not had in time, the database
    restarting) rather than a fault (a missing column, a broken file)."""
    if isinstance(error, PoolTimeout):
        return True
    words = str(getattr(error, "orig", None) or error).lower()
    return any(w in words for w in BUSY_WORDS)


def _add_store_handlers(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def busy(request: Request, error: Exception) -> Response:
        """The store is busy (a lock not granted in time: SQLite's ``database is locked``; no connection free in
        time; PostgreSQL restarting): 503 with ``Retry-After``, never 500. Any other operational error (a schema the
        code does not know, say) is a fault of the service, answered 500, not "busy". Nothing from the request is
        logged, only the kind of error."""
        if not store_busy(error):
            log.error("store error: %s", type(getattr(error, "orig", None) or error).__name__)
            if _wants_page(request):
                return error_page(request, 500, "error")
            return JSONResponse({"detail": "the service could not do that"}, status_code=500)
        log.warning("store busy: %s", type(getattr(error, "orig", None) or error).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if _wants_page(request):
            response = error_page(request, 503, "busy")
            response.headers.update(headers)
            return response
        return JSONResponse(
            {"detail": "the service is busy; try again in a few seconds"}, status_code=503, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        """A request that does not fit its route: where and why, never the value sent (a password, say)."""
        kept = ("loc", "msg", "type")
        return JSONResponse({"detail": [{k: e.get(k) for k in kept} for e in error.errors()]}, status_code=422)

    @app.exception_handler(Replay)
    async def replay(request: Request, answer: Replay) -> Response:
        """A write sent again with its idempotency key: the first answer, and nothing done again."""
        if answer.location is not None:
            return RedirectResponse(answer.location, status_code=answer.status)
        return Response(answer.body or "", status_code=answer.status, media_type=answer.media_type)

    @app.exception_handler(KeyProblem)
    async def key_problem(request: Request, error: KeyProblem) -> Response:
        if _wants_page(request):
            return error_page(request, error.status, error.detail)
        return JSONResponse({"detail": error.detail}, status_code=error.status)


def _add_http_handlers(app: FastAPI) -> None:
    _add_store_handlers(app)

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, error: IntegrityError) -> Response:
        return JSONResponse({"detail": "that conflicts with something already stored"}, status_code=409)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 401 and _wants_page(request):
            return RedirectResponse("/sign-in", status_code=303)
        if _wants_page(request):
            return error_page(request, error.status_code, str(error.detail))
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
