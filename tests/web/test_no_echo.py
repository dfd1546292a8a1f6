"""Answers neither echo what was sent (a password in a 422) nor confirm what exists (a person's id)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from person_view_fixture import ViewPerson, write_test_view
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy.orm import Session, sessionmaker

from commonground.store.settings import HubSettings

SECRET = "Sz7-unguessable-" * 70  # over 1,000 characters


def test_a_too_long_password_is_not_echoed_by_sign_in(client: TestClient) -> None:
    token = form_csrf(client.get("/sign-in").text)
    answer = client.post("/sign-in", data={"email": "a@school.example", "password": SECRET, "csrf_token": token})
    assert answer.status_code == 422
    assert "unguessable" not in answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]


def test_a_too_long_password_is_not_echoed_by_the_password_change(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=False)
    csrf = login_as(client, sessions, world.users["hub@la.example"])
    answer = client.post(
        "/api/me/password",
        json={"current_password": SECRET, "new_password": SECRET},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 422
    assert "unguessable" not in answer.text
    assert {tuple(e["loc"]) for e in answer.json()["detail"]} == {
        ("body", "current_password"),
        ("body", "new_password"),
    }
    assert all(set(e) == {"loc", "msg", "type"} for e in answer.json()["detail"])


def test_an_unknown_and_a_known_person_get_the_same_first_page(
    client: TestClient, sessions: sessionmaker[Session], settings: HubSettings
) -> None:
    world = build_world(sessions, with_agreements=True)
    data_dir: Path = settings.data_dir
    write_test_view(
        data_dir,
        [ViewPerson("P-LA-1", "Testgiven", "Zedtest", dt.date(2012, 5, 1), "police_incident_persons", "I1")],
    )
    login_as(client, sessions, world.users["hub@la.example"])
    known = client.get("/people/P-LA-1", headers={"Accept": "text/html"})
    unknown = client.get("/people/P-LA-9", headers={"Accept": "text/html"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("P-LA-1", "ID") == unknown.text.replace("P-LA-9", "ID")
    chosen = client.get("/people/P-LA-9?purpose=safeguarding_children", headers={"Accept": "text/html"})
    assert chosen.status_code == 404  # "not found, or not yours to see", once a purpose is chosen
