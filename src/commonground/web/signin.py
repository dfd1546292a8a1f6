"""Signing in and out: the sign-in form (local accounts), OIDC through Authlib, and a minimal home page.

These are pages, not API operations, so they stay out of the OpenAPI document; they still declare their actions.
"""

from __future__ import annotations

from typing import Annotated, Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from commonground.access.accounts import (
    audit_oidc_sign_in,
    end_session,
    sign_in_with_password,
    start_session,
    user_for_oidc,
)
from commonground.access.models import User
from commonground.store.db import utcnow
from commonground.store.settings import HubSettings
from commonground.web.deps import Access, require, settings_of
from commonground.web.security import (
    client_address,
    csrf_token,
    ensure_pre_session,
    pre_session_cookie_name,
    session_cookie_name,
    set_cookie,
)

router = APIRouter(include_in_schema=False)

OIDC_NAME = "partner"
NOT_RIGHT = "The email address or the password is not right."
TOO_MANY = "Too many attempts to sign in. Wait a little and try again."
"""The answer when sign-in is slowed down, by client address or by email address (known or not): no account is
locked, and nothing tells a real account from an unknown one."""


def oidc_client(settings: HubSettings) -> Any:
    """The Authlib client of the configured OIDC provider, or None when only local accounts are used."""
    if not settings.oidc_issuer:
        return None
    oauth = OAuth()
    oauth.register(
        name=OIDC_NAME,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth.create_client(OIDC_NAME)


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    body = request.app.state.templates.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status)


def _sign_in_page(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    settings = settings_of(request)
    probe = HTMLResponse("")
    basis = ensure_pre_session(request, probe, settings)
    response = _page(
        request,
        "sign_in.html",
        status=status,
        error=error,
        csrf_token=csrf_token(request.app.state.secret, basis),
        oidc_label=settings.oidc_label if settings.oidc_issuer else None,
    )
    for name, value in probe.raw_headers:
        if name == b"set-cookie":
            response.raw_headers.append((name, value))
    return response


def _signed_in(request: Request, access: Access, user: User, *, method: str) -> RedirectResponse:
    settings = settings_of(request)
    # sign-in keeps the real clock, never a demo's moved on (deps.service_now): a session lasts its real hours
    token = start_session(access.db, user=user, method=method, settings=settings, now=utcnow())
    access.db.commit()
    response = RedirectResponse("/", status_code=303)
    set_cookie(
        response,
        name=session_cookie_name(settings),
        value=token,
        settings=settings,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(pre_session_cookie_name(settings), path="/", secure=settings.cookie_secure)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, access: Annotated[Access, Depends(require("sign-in"))]) -> HTMLResponse:
    return _sign_in_page(request)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    access: Annotated[Access, Depends(require("sign-in"))],
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1_000)] = "",
) -> Response:
    settings = settings_of(request)
    client = client_address(request, settings)
    result = sign_in_with_password(
        access.db, email=email, password=password, client=client, settings=settings, now=utcnow()
    )
    access.db.commit()
    if result.outcome == "signed_in" and result.user is not None:
        return _signed_in(request, access, result.user, method="password")
    if result.outcome == "rate_limited":  # the same for an address and an account, known or not
        page = _sign_in_page(request, error=TOO_MANY, status=429)
        page.headers["Retry-After"] = str(result.retry_after_seconds)
        return page
    return _sign_in_page(request, error=NOT_RIGHT, status=401)


@router.post("/sign-out")
def sign_out(request: Request, access: Annotated[Access, Depends(require("sign-in"))]) -> RedirectResponse:
    settings = settings_of(request)
    token = request.cookies.get(session_cookie_name(settings))
    if token:
        end_session(access.db, token=token, now=utcnow())
        access.db.commit()
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(session_cookie_name(settings), path="/", secure=settings.cookie_secure)
    return response


def _oidc(request: Request) -> Any:
    client = request.app.state.oidc
    if client is None:
        raise HTTPException(404, "OIDC sign-in is not configured")
    return client


@router.get("/sign-in/oidc")
async def oidc_start(request: Request, access: Annotated[Access, Depends(require("sign-in"))]) -> Response:
    client = _oidc(request)
    response: Response = await client.authorize_redirect(request, str(request.url_for("oidc_callback")))
    return response


@router.get("/sign-in/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, access: Annotated[Access, Depends(require("sign-in"))]) -> Response:
    client = _oidc(request)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError:
        return _sign_in_page(request, error="Sign-in with your organisation did not complete. Try again.", status=400)
    claims = token.get("userinfo") or {}
    user = user_for_oidc(
        access.db,
        issuer=str(claims.get("iss", "")),
        subject=str(claims.get("sub", "")),
        email=claims.get("email"),
        email_verified=bool(claims.get("email_verified")),
    )
    audit_oidc_sign_in(access.db, user, outcome="allowed" if user else "denied", why="oidc")
    access.db.commit()
    if user is None:
        message = "You signed in with your organisation, but you have no commonground account. Ask an administrator."
        return _sign_in_page(request, error=message, status=403)
    return _signed_in(request, access, user, method="oidc")
