"""Signing in: argon2id passwords, secure cookies, CSRF on every form and API change, rate limiting, slowing down,
security headers, sessions that end."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from service_support import PASSWORD, SESSION_COOKIE, SETUP, form_csrf, login_as
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import change_user, create_user
from commonground.access.models import SignInAttempt, SignInSession, User
from commonground.access.roles import Role
from commonground.cases.organisations import create_organisation
from commonground.store.db import utcnow
from commonground.store.organisation_types import OrganisationType

EMAIL = "dsl@school.example"


@pytest.fixture
def user_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        school = create_organisation(
            db, code="SCH", name="Hill School", type=OrganisationType.SCHOOL, urn="123456", by=SETUP
        )
        user = create_user(
            db,
            email=EMAIL,
            display_name="Lead",
            organisation=school,
            role=Role.SCHOOL_SAFEGUARDING_LEAD,
            password=PASSWORD,
            by=SETUP,
        )
        db.commit()
        return user.id


def _sign_in(client: TestClient, password: str, *, email: str = EMAIL) -> object:
    token = form_csrf(client.get("/sign-in").text)
    return client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def test_sign_in_sets_a_secure_session_cookie(
    client: TestClient, user_id: int, sessions: sessionmaker[Session]
) -> None:
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 303  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag in cookie
    assert client.get("/api/me").json()["user"]["email"] == EMAIL
    with sessions() as db:
        stored = db.get_one(User, user_id).password_hash
        assert stored is not None and stored.startswith("$argon2id$")
        token = client.cookies[SESSION_COOKIE]
        assert all(token not in s.token_hash for s in db.query(SignInSession))  # only its hash is kept


def test_a_wrong_password_is_refused_without_saying_which_part(client: TestClient, user_id: int) -> None:
    wrong = _sign_in(client, "not the password at all")
    unknown = _sign_in(client, PASSWORD, email="nobody@school.example")
    assert wrong.status_code == unknown.status_code == 401  # type: ignore[attr-defined]
    assert "The email address or the password is not right." in wrong.text  # type: ignore[attr-defined]
    assert client.get("/api/me").status_code == 401


def test_repeated_failures_slow_the_account_down_without_locking_it(
    client: TestClient, user_id: int, sessions: sessionmaker[Session]
) -> None:
    """Five wrong passwords: the next attempt waits (429, the words of any "too many"), then the right one works."""
    for _ in range(5):
        assert _sign_in(client, "wrong password!!").status_code == 401  # type: ignore[attr-defined]
    waiting = _sign_in(client, PASSWORD)
    assert waiting.status_code == 429  # type: ignore[attr-defined]
    assert 0 < int(waiting.headers["retry-after"]) <= 30  # type: ignore[attr-defined]
    assert "locked" not in waiting.text  # type: ignore[attr-defined]
    with sessions() as db:  # the wait passes
        for attempt in db.scalars(select(SignInAttempt)):
            attempt.at -= dt.timedelta(seconds=31)
        db.commit()
    assert _sign_in(client, PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_sign_in_attempts_are_rate_limited_per_client(client: TestClient, user_id: int) -> None:
    for i in range(10):
        _sign_in(client, PASSWORD, email=f"guess{i}@school.example")
    limited = _sign_in(client, PASSWORD)
    assert limited.status_code == 429  # type: ignore[attr-defined]
    assert limited.headers["retry-after"] == "60"  # type: ignore[attr-defined]


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, user_id: int) -> None:
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    forged = client.post(
        "/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "0" * 64}, follow_redirects=False
    )
    assert forged.status_code == 403


def test_api_changes_need_the_csrf_header_of_this_session(
    client: TestClient, app: object, sessions: sessionmaker[Session], user_id: int
) -> None:
    with sessions() as db:
        la = create_organisation(
            db, code="LA", name="Council", type=OrganisationType.LOCAL_AUTHORITY_CHILDRENS, by=SETUP
        )
        admin = create_user(
            db, email="admin@la.example", display_name="Admin", organisation=la, role=Role.ADMINISTRATOR, by=SETUP
        )
        db.commit()
    other = TestClient(client.app, base_url="https://testserver")
    other_csrf = login_as(other, sessions, admin.id)
    csrf = login_as(client, sessions, admin.id)
    body = {"code": "NEW", "name": "New trust", "type": "nhs_trust"}
    assert client.post("/api/organisations", json=body).status_code == 403
    assert client.post("/api/organisations", json=body, headers={"X-CSRF-Token": other_csrf}).status_code == 403
    assert client.post("/api/organisations", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert csrf != other_csrf


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/sign-in", "/api/me", "/health", "/nowhere"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert headers["strict-transport-security"].startswith("max-age=")


def test_sign_out_ends_the_session(client: TestClient, user_id: int) -> None:
    _sign_in(client, PASSWORD)
    token = client.cookies[SESSION_COOKIE]
    csrf = client.get("/api/me").json()["csrf_token"]
    assert client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    replay = TestClient(client.app, base_url="https://testserver", cookies={SESSION_COOKIE: token})
    assert replay.get("/api/me").status_code == 401


def test_a_role_change_or_idle_time_ends_sessions(
    client: TestClient, user_id: int, sessions: sessionmaker[Session]
) -> None:
    login_as(client, sessions, user_id)
    with sessions() as db:
        row = db.query(SignInSession).one()
        row.last_seen_at = utcnow() - dt.timedelta(minutes=31)
        db.commit()
    assert client.get("/api/me").status_code == 401
    login_as(client, sessions, user_id)
    with sessions() as db:
        la = create_organisation(
            db, code="LA", name="Council", type=OrganisationType.LOCAL_AUTHORITY_CHILDRENS, by=SETUP
        )
        change_user(db, user=db.get_one(User, user_id), organisation=la, role=Role.HUB_PRACTITIONER, by=SETUP)
        db.commit()
    assert client.get("/api/me").status_code == 401


def test_a_page_without_a_session_sends_the_browser_to_sign_in(client: TestClient) -> None:
    response = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")
