"""The administrator's pages: organisations (list, add) and accounts (list, add with a one-time password shown once,
deactivate, reactivate, unlock, change role), with their errors and refusals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from service_support import form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import sign_in_with_password
from commonground.access.models import AuditEvent, SignInSession, User
from commonground.access.roles import Role
from commonground.store.db import utcnow
from commonground.store.models import Organisation


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def _admin(client: TestClient, sessions: sessionmaker[Session], world: World) -> str:
    login_as(client, sessions, world.users["admin@la.example"])
    return form_csrf(client.get("/accounts").text)


def test_the_administrator_adds_an_organisation(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users["admin@la.example"])
    page = client.get("/organisations")
    assert page.status_code == 200 and "Vale Academy" in page.text and "100002" in page.text
    token = form_csrf(page.text)
    empty = client.post("/organisations", data={"csrf_token": token})
    assert empty.status_code == 400 and "Choose what kind of organisation it is" in empty.text
    no_urn = client.post(
        "/organisations", data={"csrf_token": token, "code": "SCHC", "name": "Brook School", "type": "school"}
    )
    assert (
        no_urn.status_code == 400 and "A school needs its URN" in no_urn.text and 'value="Brook School"' in no_urn.text
    )
    taken = client.post(
        "/organisations", data={"csrf_token": token, "code": "LA", "name": "Another", "type": "nhs_trust"}
    )
    assert taken.status_code == 400 and "already exists" in taken.text
    added = client.post(
        "/organisations",
        data={"csrf_token": token, "code": "SCHC", "name": "Brook School", "type": "school", "urn": "100003"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    after = client.get(added.headers["location"])
    assert "The organisation has been added" in after.text and "Brook School" in after.text
    with sessions() as db:
        created = db.scalars(select(Organisation).where(Organisation.code == "SCHC")).one()
        assert created.urn == "100003"
        assert db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "manage-organisations", AuditEvent.subject_id == str(created.id)
            )
        ).one()


def test_the_administrator_adds_an_account_and_sees_its_password_once(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = _admin(client, sessions, world)
    listing = client.get("/accounts")
    assert "dsl@schb.example" in listing.text and "School designated safeguarding lead" in listing.text
    wrong_place = client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "email": "lead@pol.example",
            "display_name": "Lead",
            "organisation": "POL",
            "role": "school_safeguarding_lead",
        },
    )
    assert wrong_place.status_code == 400 and "cannot belong to a Police force" in wrong_place.text
    taken = client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "email": "hub@la.example",
            "display_name": "Again",
            "organisation": "LA",
            "role": "hub_practitioner",
        },
    )
    assert taken.status_code == 400 and "already exists" in taken.text
    missing = client.post("/accounts", data={"csrf_token": token})
    assert missing.status_code == 400 and "Choose the person&#39;s role" in missing.text
    added = client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "email": "New.Worker@NHS.example",
            "display_name": "New Worker",
            "organisation": "NHS",
            "role": "partner_team_member",
        },
    )
    assert added.status_code == 200 and "Account added" in added.text
    found = re.search(r'id="one-time-password">([^<]+)<', added.text)
    assert found is not None
    password = found.group(1)
    assert len(password) >= 12
    with sessions() as db:
        user = db.scalars(select(User).where(User.email == "new.worker@nhs.example")).one()
        user_id = user.id
        assert user.role is Role.PARTNER_TEAM_MEMBER and user.password_hash and password not in user.password_hash
        result = sign_in_with_password(
            db,
            email="new.worker@nhs.example",
            password=password,
            client="t",
            settings=client.app.state.settings,  # type: ignore[attr-defined]
            now=utcnow(),
        )
        assert result.outcome == "signed_in"
        db.rollback()
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "manage-users")).all()
        assert password not in str([(e.detail, e.reason) for e in events])
    assert password not in client.get(f"/accounts/{user_id}").text  # shown once only
    assert password not in client.get("/accounts").text


def test_deactivate_unlock_and_change_role(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    token = _admin(client, sessions, world)
    target = world.users["team@das.example"]
    victim = TestClient(client.app, base_url="https://testserver")
    login_as(victim, sessions, target)
    page = client.get(f"/accounts/{target}")
    assert page.status_code == 200 and "Deactivate the account" in page.text
    off = client.post(f"/accounts/{target}", data={"csrf_token": token, "do": "deactivate"}, follow_redirects=False)
    assert off.status_code == 303
    assert "Deactivated" in client.get(off.headers["location"]).text
    assert victim.get("/api/me").status_code == 401
    on = client.post(f"/accounts/{target}", data={"csrf_token": token, "do": "activate"}, follow_redirects=False)
    assert "account-activated" in on.headers["location"]
    with sessions() as db:
        user = db.get_one(User, target)
        user.locked_until = utcnow() + dt.timedelta(minutes=10)
        db.commit()
    locked = client.get(f"/accounts/{target}")
    assert "Unlock the account" in locked.text and "locked after failed sign-ins" in locked.text
    assert "Locked" in client.get("/accounts").text
    unlock = client.post(f"/accounts/{target}", data={"csrf_token": token, "do": "unlock"}, follow_redirects=False)
    assert "account-unlocked" in unlock.headers["location"]
    no_role = client.post(f"/accounts/{target}", data={"csrf_token": token, "do": "role", "role": ""})
    assert no_role.status_code == 400 and "Choose a role" in no_role.text
    misfit = client.post(f"/accounts/{target}", data={"csrf_token": token, "do": "role", "role": "police_officer"})
    assert misfit.status_code == 400 and "cannot belong" in misfit.text
    login_as(victim, sessions, target)
    role = client.post(
        f"/accounts/{target}",
        data={"csrf_token": token, "do": "role", "role": "data_protection_officer"},
        follow_redirects=False,
    )
    assert "role-changed" in role.headers["location"]
    assert victim.get("/api/me").status_code == 401  # a new role ends the sessions
    with sessions() as db:
        user = db.get_one(User, target)
        assert user.role is Role.DATA_PROTECTION_OFFICER and user.active and user.locked_until is None
        changes = [
            e.detail["change"]
            for e in db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "manage-users", AuditEvent.subject_id == str(target))
                .order_by(AuditEvent.seq)
            )
        ]
        assert {"deactivated", "activated", "unlocked", "role"} <= set(changes)
        assert not db.scalars(
            select(SignInSession).where(SignInSession.user_id == target, SignInSession.ended_at.is_(None))
        ).all()


def test_an_administrator_cannot_change_their_own_account(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = _admin(client, sessions, world)
    me = world.users["admin@la.example"]
    page = client.get(f"/accounts/{me}")
    assert "another administrator must change" in page.text and "Deactivate the account" not in page.text
    refused = client.post(f"/accounts/{me}", data={"csrf_token": token, "do": "deactivate"})
    assert refused.status_code == 400 and "nobody can change their own" in refused.text.lower()
    assert client.get("/api/me").status_code == 200


@pytest.mark.parametrize("email", ["dpo@la.example", "hub@la.example", "dsl@scha.example"])
def test_only_administrators_use_the_admin_pages(
    client: TestClient, sessions: sessionmaker[Session], world: World, email: str
) -> None:
    csrf = login_as(client, sessions, world.users[email])
    for path in ("/organisations", "/accounts", f"/accounts/{world.spare_user}"):
        assert client.get(path).status_code == 403, path
    assert (
        client.post(
            "/organisations", data={"csrf_token": csrf, "code": "X1", "name": "X", "type": "nhs_trust"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/accounts",
            data={
                "csrf_token": csrf,
                "email": "x@x.example",
                "display_name": "X",
                "organisation": "LA",
                "role": "hub_practitioner",
            },
        ).status_code
        == 403
    )
    assert (
        client.post(f"/accounts/{world.spare_user}", data={"csrf_token": csrf, "do": "deactivate"}).status_code == 403
    )
    page = client.get("/")
    assert 'href="/accounts"' not in page.text and 'href="/organisations"' not in page.text


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    _admin(client, sessions, world)
    refused = client.post(f"/accounts/{world.spare_user}", data={"do": "deactivate"})
    assert refused.status_code == 403
    with sessions() as db:
        assert db.get_one(User, world.spare_user).active
