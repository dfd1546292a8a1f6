"""Changing one's own password, on the account page and through the API: the current password is checked, the
strength rule applies, every other session ends (this one stays), and it is audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_support import PASSWORD, SESSION_COOKIE, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import sign_in_with_password
from commonground.access.models import AuditEvent, SignInSession, User, UserVersion
from commonground.store.db import utcnow

NEW = "a new and quite long passphrase"


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def _can_sign_in(client: TestClient, sessions: sessionmaker[Session], email: str, password: str) -> bool:
    with sessions() as db:
        result = sign_in_with_password(
            db,
            email=email,
            password=password,
            client="test",
            settings=client.app.state.settings,  # type: ignore[attr-defined]
            now=utcnow(),
        )
        db.rollback()
    return result.outcome == "signed_in"


def test_the_account_page_shows_who_you_are(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    login_as(client, sessions, world.users["dsl@scha.example"])
    page = client.get("/account")
    assert page.status_code == 200
    assert "dsl@scha.example" in page.text and "Hill Primary School" in page.text
    assert "School designated safeguarding lead" in page.text and "Change your password" in page.text
    assert 'autocomplete="current-password"' in page.text


def test_changing_the_password_on_the_page_ends_the_other_sessions(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    user_id = world.users["hub@la.example"]
    other = TestClient(client.app, base_url="https://testserver")
    login_as(other, sessions, user_id)  # the same person signed in elsewhere
    login_as(client, sessions, user_id)
    token = form_csrf(client.get("/account").text)
    url = "/account/password"
    wrong = client.post(
        url,
        data={"csrf_token": token, "current_password": "not it at all", "new_password": NEW, "confirm_password": NEW},
    )
    assert wrong.status_code == 400 and "Your current password is not right" in wrong.text
    short = client.post(
        url,
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert short.status_code == 400 and "at least 12 characters" in short.text
    mine = client.post(
        url,
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "hub@la.example",
            "confirm_password": "hub@la.example",
        },
    )
    assert mine.status_code == 400 and "cannot be your email address" in mine.text
    differ = client.post(
        url,
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW + "!"},
    )
    assert differ.status_code == 400 and "not the same" in differ.text
    assert _can_sign_in(client, sessions, "hub@la.example", PASSWORD)
    done = client.post(
        url,
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password-changed"
    assert "Your password has been changed" in client.get(done.headers["location"]).text  # still signed in here
    assert other.get("/api/me").status_code == 401  # signed out everywhere else
    assert _can_sign_in(client, sessions, "hub@la.example", NEW)
    assert not _can_sign_in(client, sessions, "hub@la.example", PASSWORD)
    with sessions() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "change-own-password").order_by(AuditEvent.seq)
        ).all()
        assert [e.outcome for e in events] == ["denied", "allowed"]
        assert NEW not in str([e.detail for e in events]) and PASSWORD not in str([e.detail for e in events])
        history = db.scalars(
            select(UserVersion).where(UserVersion.user_id == user_id).order_by(UserVersion.version.desc())
        ).first()
        assert history is not None and history.change == "password"
        assert NEW not in str(history.snapshot)
        live = db.scalars(
            select(SignInSession).where(SignInSession.user_id == user_id, SignInSession.ended_at.is_(None))
        ).all()
        assert len(live) == 1


def test_the_api_changes_the_password(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    csrf = login_as(client, sessions, world.users["team@das.example"])
    headers = {"X-CSRF-Token": csrf}
    wrong = client.post(
        "/api/me/password", json={"current_password": "nope nope nope", "new_password": NEW}, headers=headers
    )
    assert wrong.status_code == 400 and wrong.json() == {"detail": "your current password is not right"}
    same = client.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD}, headers=headers
    )
    assert same.status_code == 400 and "same as the current" in same.json()["detail"]
    assert client.post("/api/me/password", json={"current_password": PASSWORD, "new_password": NEW}).status_code == 403
    changed = client.post("/api/me/password", json={"current_password": PASSWORD, "new_password": NEW}, headers=headers)
    assert changed.status_code == 200 and changed.json() == {"changed": True, "other_sessions_ended": True}
    assert client.get("/api/me").status_code == 200
    assert _can_sign_in(client, sessions, "team@das.example", NEW)


def test_signed_out_people_and_oidc_accounts(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    assert client.post("/api/me/password", json={"current_password": "x", "new_password": NEW}).status_code == 401
    assert client.get("/account", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    login_as(client, sessions, world.spare_user)  # an account with no password (single sign-on only)
    page = client.get("/account")
    assert "single sign-on" in page.text and "current-password" not in page.text
    with sessions() as db:
        assert db.get_one(User, world.spare_user).password_hash is None
    assert client.cookies.get(SESSION_COOKIE)
