"""The data protection officer finds the person a subject access request is about by name (and date of birth), not
only by an internal id: the search is posted (the name never goes in a URL), checked as the subject-access
operation, audited one event per person shown, and refused to everyone else (#17)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from person_view_fixture import ViewPerson, write_test_view
from service_support import form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent

PEOPLE = [
    ViewPerson("P-LA-1", "Ada", "Testperson", dt.date(2015, 3, 27), "custody_records", "C-100"),
    ViewPerson("P-OTHER", "Bo", "Testperson", dt.date(1990, 1, 1), "custody_records", "C-200"),
    ViewPerson("P-ELSE", "Cy", "Elsewhere", dt.date(1990, 1, 1), "custody_records", "C-300"),
]


@pytest.fixture
def world(client: TestClient, sessions: sessionmaker[Session]) -> World:
    built = build_world(sessions, with_agreements=True)
    write_test_view(client.app.state.settings.data_dir, PEOPLE)  # type: ignore[attr-defined]
    return built


def _searches(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "export-subject-access").order_by(AuditEvent.seq)
        ).all()
        return [e for e in events if e.detail.get("step") == "search"]


def test_the_dpo_finds_a_person_by_family_name_and_chooses_them(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users["dpo@la.example"])
    start = client.get("/subject-access")
    assert start.status_code == 200
    assert 'action="/subject-access/search"' in start.text and 'method="post"' in start.text
    found = client.post(
        "/subject-access/search", data={"csrf_token": form_csrf(start.text), "family_name": "testperson"}
    )
    assert found.status_code == 200, found.text
    assert "2 people found" in found.text
    for name, born, person in [("Ada Testperson", "27 Mar 2015", "P-LA-1"), ("Bo Testperson", "1 Jan 1990", "P-OTHER")]:
        assert name in found.text and born in found.text
        # each person found is chosen by posting their pseudonymous id to the export's confirmation
        assert re.search(
            rf'<form method="post" action="/subject-access"[^>]*>\s*'
            rf'<input type="hidden" name="csrf_token" value="[^"]+">'
            rf'<input type="hidden" name="person_id" value="{person}">',
            found.text,
        ), person
    assert "Elsewhere" not in found.text
    assert str(found.url).endswith("/subject-access/search")  # nothing typed travels in the address
    narrowed = client.post(
        "/subject-access/search",
        data={
            "csrf_token": form_csrf(found.text),
            "family_name": "Testperson",
            "given_name": "Ada",
            "born": "2015-03-27",
        },
    )
    assert "1 person found" in narrowed.text and "P-OTHER" not in narrowed.text
    confirm = client.post("/subject-access", data={"csrf_token": form_csrf(narrowed.text), "person_id": "P-LA-1"})
    assert confirm.status_code == 200 and "Download the export" in confirm.text
    searches = _searches(sessions)
    assert [(e.person_id, e.actor, e.outcome) for e in searches] == [
        ("P-LA-1", "dpo@la.example", "allowed"),
        ("P-OTHER", "dpo@la.example", "allowed"),
        ("P-LA-1", "dpo@la.example", "allowed"),
    ]
    assert searches[-1].detail["by"] == ["family_name", "given_name", "date_of_birth"]
    assert all("Testperson" not in str(e.detail) and "Ada" not in str(e.detail) for e in searches)


def test_a_search_that_finds_nobody_is_audited_and_a_bad_one_is_answered_beside_its_field(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = login_as(client, sessions, world.users["dpo@la.example"])
    nobody = client.post("/subject-access/search", data={"csrf_token": csrf, "family_name": "Nobodyhere"})
    assert nobody.status_code == 200 and "0 people found" in nobody.text
    assert [(e.person_id, e.detail["matches"]) for e in _searches(sessions)] == [(None, 0)]
    blank = client.post("/subject-access/search", data={"csrf_token": csrf, "family_name": " ", "born": "soon"})
    assert blank.status_code == 400
    assert "Enter a family name" in blank.text and "Enter the date of birth like 2014-03-27" in blank.text
    assert len(_searches(sessions)) == 1


@pytest.mark.parametrize("email", ["hub@la.example", "admin@la.example", "analyst@pht.example"])
def test_nobody_else_searches_for_a_subject_access_request(
    client: TestClient, sessions: sessionmaker[Session], world: World, email: str
) -> None:
    csrf = login_as(client, sessions, world.users[email])
    refused = client.post("/subject-access/search", data={"csrf_token": csrf, "family_name": "Testperson"})
    assert refused.status_code == 403
    assert "Testperson" not in refused.text and "P-LA-1" not in refused.text
    assert _searches(sessions) == []
    with sessions() as db:
        denied = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "export-subject-access", AuditEvent.outcome == "denied")
        ).all()
        assert [e.actor for e in denied] == [email]
