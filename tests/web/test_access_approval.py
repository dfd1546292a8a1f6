"""Giving someone record access takes two people (#16): an administrator could make a hub practitioner account in
any organisation and, after the one-time password, read records. Now an account with record access made (or moved
to another role or organisation) in the service opens nothing identifiable until the DPO approves it; the
administrator cannot approve their own change, nobody approves their own access; both steps are audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import actor_of, approve_access, set_password
from commonground.access.audit import Actor
from commonground.access.models import AuditEvent, User
from commonground.errors import UserError

ADMIN = "admin@la.example"
DPO = "dpo@la.example"
NEW = "new.practitioner@la.example"


def _add(client: TestClient, sessions: sessionmaker[Session], admin: int) -> int:
    csrf = login_as(client, sessions, admin)
    made = client.post(
        "/api/users",
        json={"email": NEW, "display_name": "New Practitioner", "organisation": "LA", "role": "hub_practitioner"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    assert made.json()["access_pending"] is True
    user_id: int = made.json()["id"]
    with sessions() as db:  # the person has changed the one-time password and signs in as themselves
        user = db.get_one(User, user_id)
        set_password(db, user=user, password="a long enough password 42", by=Actor(label="test"))
        user.must_change_password = False
        db.commit()
    client.cookies.clear()
    return user_id


def test_record_access_waits_for_a_second_person(client: TestClient, sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    new = _add(client, sessions, world.users[ADMIN])
    person = f"/api/people/P-LA-1?purpose={world.item_purposes['P-LA-1'].value}"
    queue = f"/api/work-items?purpose={world.item_purposes['P-LA-1'].value}"

    login_as(client, sessions, new)
    waiting = client.get(queue)
    assert waiting.status_code == 403 and "second person" in waiting.text
    assert client.get("/api/me").status_code == 200  # everything else works meanwhile
    page = client.get("/queue")
    assert page.status_code == 403 and "second person" in page.text
    client.cookies.clear()

    csrf = login_as(client, sessions, world.users[ADMIN])  # the administrator cannot approve their own change
    assert client.post(f"/api/users/{new}/approve-access", headers={"X-CSRF-Token": csrf}).status_code == 403
    client.cookies.clear()

    login_as(client, sessions, world.users[DPO])
    listed = client.get("/access-approvals")
    assert listed.status_code == 200, listed.text
    main = listed.text.split("<main", 1)[1]
    assert NEW in main and ADMIN in main, main[:3000]
    approved = client.post(
        f"/access-approvals/{new}", data={"csrf_token": form_csrf(listed.text)}, follow_redirects=False
    )
    assert approved.status_code == 303
    again = client.post(f"/access-approvals/{new}", data={"csrf_token": form_csrf(listed.text)})
    assert again.status_code == 400 and "not waiting for approval" in again.text
    client.cookies.clear()

    login_as(client, sessions, new)
    assert client.get(queue).status_code == 200
    assert client.get(person).status_code in {200, 404}  # now the agreements decide, as for anyone
    with sessions() as db:
        changes = [
            e.detail["change"]
            for e in db.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(new)).order_by(AuditEvent.seq))
            if e.action == "manage-users"
        ]
        assert changes == ["created", "password", "access approved"]


def test_a_new_role_waits_again_and_the_changer_never_approves(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    new = _add(client, sessions, world.users[ADMIN])
    with sessions() as db:
        user = db.get_one(User, new)
        dpo = db.get_one(User, world.users[DPO])
        admin = db.get_one(User, world.users[ADMIN])
        with pytest.raises(UserError, match="it takes two people"):
            approve_access(db, user=user, by=actor_of(admin))
        with pytest.raises(UserError, match="their own access"):
            approve_access(db, user=user, by=actor_of(user))
        approve_access(db, user=user, by=actor_of(dpo))
        db.commit()
    csrf = login_as(client, sessions, world.users[ADMIN])
    moved = client.patch(f"/api/users/{new}", json={"role": "police_officer"}, headers={"X-CSRF-Token": csrf})
    assert moved.status_code == 400  # a police officer cannot belong to a council
    renamed = client.patch(
        f"/api/users/{new}", json={"display_name": "N. Practitioner"}, headers={"X-CSRF-Token": csrf}
    )
    assert renamed.json()["access_pending"] is False  # a new name opens nothing new
    partner = client.patch(f"/api/users/{new}", json={"role": "partner_team_member"}, headers={"X-CSRF-Token": csrf})
    assert partner.status_code == 200 and partner.json()["access_pending"] is True


def test_the_command_line_and_the_demo_make_accounts_that_work_at_once(sessions: sessionmaker[Session]) -> None:
    build_world(sessions, with_agreements=True)
    with sessions() as db:
        users = list(db.scalars(select(User)))
        assert users and not any(u.access_pending for u in users)
