"""Web security in one place: the session and CSRF cookies, CSRF tokens, the client's address (trusted proxies only),
security headers, the request log.

CSRF: a signed-in request carries a token that is an HMAC of its session token; before sign-in, of a random
cookie (double submit). Forms send it as ``csrf_token``, API clients as the ``X-CSRF-Token`` header (from
``GET /api/me``). Every POST, PUT, PATCH and DELETE is checked, whatever its action.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commonground.store.settings import HubSettings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

log = logging.getLogger("commonground.web")


def session_cookie_name(settings: HubSettings) -> str:
    return "__Host-cg_session" if settings.cookie_secure else "cg_session"


def pre_session_cookie_name(settings: HubSettings) -> str:
    return "__Host-cg_csrf" if settings.cookie_secure else "cg_csrf"


def set_cookie(response: Response, *, name: str, value: str, settings: HubSettings, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
    )


def _within(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, settings: HubSettings) -> str:
    """The address a request comes from, for the sign-in rate limit. ``X-Forwarded-For`` is believed only when the
    connection comes from a configured proxy (``COMMONGROUND_TRUSTED_PROXIES``; none by default): then the client
    is the last address it names that is not itself a trusted proxy. Anyone else's header is ignored, so changing it
    at each attempt gets round nothing."""
    peer = request.client.host if request.client else "unknown"
    networks = settings.trusted_proxy_networks
    if not networks or not _within(peer, networks):
        return peer
    named = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",") if a.strip()]
    for address in reversed(named):
        if not _within(address, networks):
            return address[:64]
    return named[0][:64] if named else peer


def csrf_token(secret: str, basis: str) -> str:
    return hmac.new(secret.encode(), f"csrf\n{basis}".encode(), hashlib.sha256).hexdigest()


def csrf_basis(request: Request, settings: HubSettings) -> str | None:
    """What the request's CSRF token is bound to: its session token, else its pre-session cookie."""
    return request.cookies.get(session_cookie_name(settings)) or request.cookies.get(pre_session_cookie_name(settings))


def ensure_pre_session(request: Request, response: Response, settings: HubSettings) -> str:
    """The basis for a sign-in form's token, setting the pre-session cookie when there is none."""
    basis = csrf_basis(request, settings)
    if basis is None:
        basis = secrets.token_urlsafe(32)
        set_cookie(response, name=pre_session_cookie_name(settings), value=basis, settings=settings, max_age=3600)
    return basis


async def csrf_ok(request: Request, *, settings: HubSettings, secret: str) -> bool:
    if request.method not in UNSAFE_METHODS:
        return True
    basis = csrf_basis(request, settings)
    if basis is None:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, csrf_token(secret, basis))


SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


class SecurityHeaders:
    """Adds the security headers to every response (HSTS too when cookies are secure, i.e. behind HTTPS)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in self.headers if n not in present),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


class RequestLog:
    """One log line per request: method, the route's template (never the filled-in path or query), status, time.
    Personal data stays out of the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "(no route)")
            log.info(
                "%s %s %s %.1f ms", scope["method"], template, status["code"], (time.perf_counter() - started) * 1e3
            )
