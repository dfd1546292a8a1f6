"""A password an administrator chose is for one thing only: signing in to choose one's own. Until then every
page brings the person back to their account page and every API call is refused, in words."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import User
from commonground.access.resolver import CHANGE_PASSWORD_FIRST

NEW_PASSWORD = "lantern harbour meadow 42"


def _sign_in(client: TestClient, email: str, password: str) -> None:
    token = form_csrf(client.get("/sign-in").text)
    signed = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert signed.status_code == 303, signed.text


def _must_change(sessions: sessionmaker[Session], email: str) -> bool:
    with sessions() as db:
        return db.scalars(select(User.must_change_password).where(User.email == email)).one()


def test_a_one_time_password_opens_only_the_account_page_until_it_is_changed(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    login_as(client, sessions, world.users["admin@la.example"])
    added = client.post(
        "/accounts",
        data={
            "csrf_token": form_csrf(client.get("/accounts").text),
            "email": "new.practitioner@la.example",
            "display_name": "New Practitioner",
            "organisation": "LA",
            "role": "hub_practitioner",
        },
    )
    found = re.search(r'id="one-time-password">([^<]+)<', added.text)
    assert found is not None
    one_time = found.group(1)
    assert _must_change(sessions, "new.practitioner@la.example")

    person = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    _sign_in(person, "new.practitioner@la.example", one_time)
    home = person.get("/", headers={"Accept": "text/html"})
    assert home.status_code == 303 and home.headers["location"] == "/account#change-password"
    queue = person.get("/queue", headers={"Accept": "text/html"})
    assert queue.status_code == 303
    api = person.get("/api/organisations")
    assert api.status_code == 403 and api.json()["detail"] == CHANGE_PASSWORD_FIRST
    me = person.get("/api/me")
    assert me.status_code == 200
    account = person.get("/account")
    assert account.status_code == 200 and 'id="password-change-due"' in account.text
    assert 'href="/queue"' not in account.text  # no way round: the menu waits too

    changed = person.post(
        "/account/password",
        data={
            "csrf_token": form_csrf(account.text),
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303
    assert not _must_change(sessions, "new.practitioner@la.example")
    assert person.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert person.get("/api/organisations").status_code == 200
    after = person.get("/account").text
    assert 'id="password-change-due"' not in after and 'href="/queue"' in after


def test_an_account_added_through_the_api_must_change_its_password_too(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    csrf = login_as(client, sessions, world.users["admin@la.example"])
    chosen = "granite willow copper 77"
    made = client.post(
        "/api/users",
        json={
            "email": "api.made@la.example",
            "display_name": "Api Made",
            "organisation": "LA",
            "role": "hub_practitioner",
            "password": chosen,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    person = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    _sign_in(person, "api.made@la.example", chosen)
    refused = person.get("/api/organisations")
    assert refused.status_code == 403 and refused.json()["detail"] == CHANGE_PASSWORD_FIRST
    token = person.get("/api/me").json()["csrf_token"]
    done = person.post(
        "/api/me/password",
        json={"current_password": chosen, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert done.status_code in (200, 204), done.text
    assert person.get("/api/organisations").status_code == 200


def test_accounts_made_by_the_demo_or_the_command_line_are_not_one_time(sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        assert not any(db.get_one(User, user_id).must_change_password for user_id in world.users.values())
