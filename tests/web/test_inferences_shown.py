"""What is inferred follows what may be seen, tried as the issue's school safeguarding lead did (#16).

``GET /api/people/{id}?purpose=operation_encompass`` for a pupil returned "Substance misuse in the household"
(evidence: a parent's drug treatment) and the child's social-care findings, with the household's ids and birth
years, though the school's agreement covers only police incident records of its own pupils. Now the API and the page
name only what rests on records the reader may open, say that the partnership holds more and whom to ask, and
describe a household member the reader may not open as "another adult". A hub practitioner whose agreement opens
police records of everyone sees the parent named (a police record of theirs is open) but still not the treatment.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from pydantic import ValidationError
from service_support import SETUP, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.agreements import AgreementSpec, change_agreement, spec_of
from commonground.access.models import Agreement
from commonground.cases.inferences import FURTHER_INFORMATION
from commonground.cases.person_documents import DOCUMENTS_FILE, write_person_documents

PUPIL = "P-SCHA-4"
PARENT = "P-PARENT-9"
SCHOOL = "dsl@scha.example"
HUB = "hub@la.example"
NEVER = ("substance", "Substance", "S-9", "physical", "Physical", "CSC-4", "childrens_social_care", "treatment")


def _add_inferences(data_dir: Path) -> None:
    path = write_school_view(data_dir)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO identity VALUES (?, 'Dorran', 'Quilliam', DATE '1986-04-02', 'M', NULL, 2, "
            "['police_incident_persons', 'substance_treatment'], DATE '2025-01-01', DATE '2026-10-01')",
            [PARENT],
        )
        for feed, record in (("police_incident_persons", "I-9"), ("substance_treatment", "S-9")):
            con.execute(
                "INSERT INTO records VALUES (?, ?, ?, 1.0, 'Dorran', 'Quilliam', '1986-04-02', 'M', 'QX1 1AA', "
                "'1 Test Street', NULL)",
                [PARENT, feed, record],
            )
        con.execute(
            "INSERT INTO household_periods VALUES (?, ?, DATE '2020-01-01', NULL, 'K', DATE '1986-04-02')",
            [f"H-{PUPIL}", PARENT],
        )
        for rule, title in (
            ("ace.domestic_abuse", "Domestic abuse in the household"),
            ("ace.household_substance_misuse", "Substance misuse in the household"),
            ("ace.physical_abuse", "Physical abuse"),
        ):
            con.execute(
                "INSERT INTO rules VALUES (?, 'aces', 1, 1, 'indicator', 'children', ?, 'What it means.', "
                "'Children Act 2004 s11', 'safeguarding_children', 365, NULL, [], NULL, NULL, NULL)",
                [rule, title],
            )
            con.execute(
                "INSERT INTO indicators VALUES (?, ?, 1, TIMESTAMP '2026-09-01 10:00', "
                "TIMESTAMP '2026-09-01 10:00', 1)",
                [PUPIL, rule],
            )
        for rule, feed, record, via in (
            ("ace.domestic_abuse", "police_incident_persons", "I4", None),
            ("ace.household_substance_misuse", "substance_treatment", "S-9", PARENT),
            ("ace.physical_abuse", "childrens_social_care", "CSC-4", None),
        ):
            con.execute(
                "INSERT INTO evidence VALUES (?, ?, 1, 'indicator', 's', 'item', ?, ?, ?, "
                "TIMESTAMP '2026-09-01 10:00')",
                [PUPIL, rule, feed, record, via],
            )
        (path.parent / DOCUMENTS_FILE).unlink()
        write_person_documents(con, path.parent / DOCUMENTS_FILE)
    finally:
        con.close()


def test_the_school_reads_only_what_its_agreement_opens(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    _add_inferences(app.state.settings.data_dir)
    login_as(client, sessions, world.users[SCHOOL])
    answer = client.get(f"/api/people/{PUPIL}?purpose=operation_encompass")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["title"] for r in body["indicators"]] == ["Domestic abuse in the household"]
    assert body["withheld"] == 2 and body["further_information"] == FURTHER_INFORMATION
    [period] = body["household"]
    assert period["members"] == [
        {
            "person_id": None,
            "described_as": "another adult",
            "year_of_birth": None,
            "start_date": None,
            "end_date": None,
        }
    ]
    for word in (*NEVER, PARENT, "1986"):
        assert word not in answer.text, word

    page = client.get(f"/people/{PUPIL}?purpose=operation_encompass")
    assert page.status_code == 200
    assert "Domestic abuse in the household" in page.text and FURTHER_INFORMATION in page.text
    assert "Another adult" in page.text
    for word in (*NEVER, PARENT, "1986"):
        assert word not in page.text, word


def test_the_hub_sees_the_parent_named_but_not_their_treatment(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    _add_inferences(app.state.settings.data_dir)
    login_as(client, sessions, world.users[HUB])
    body = client.get(f"/api/people/{PUPIL}?purpose=safeguarding_children").json()
    assert [r["title"] for r in body["indicators"]] == ["Domestic abuse in the household"]
    [period] = body["household"]
    assert [(m["person_id"], m["described_as"], m["year_of_birth"]) for m in period["members"]] == [
        (PARENT, "adult", 1986)
    ]
    assert body["household_note"].startswith("Who lived together is inferred")
    page = client.get(f"/people/{PUPIL}?purpose=safeguarding_children").text
    assert PARENT in page and "S-9" not in page and "Substance" not in page


def test_an_agreement_can_restrict_fields_not_only_feeds(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """A school's view of a police incident: when, that police attended (the category), that the child was present;
    never the account of what happened nor the officer's contact (#16)."""
    world = build_world(sessions, with_agreements=True)
    path = write_school_view(app.state.settings.data_dir)
    con = duckdb.connect(str(path))
    try:  # the documents the API reads, again with the incident details the school view added
        (path.parent / DOCUMENTS_FILE).unlink()
        write_person_documents(con, path.parent / DOCUMENTS_FILE)
    finally:
        con.close()
    login_as(client, sessions, world.users[SCHOOL])
    url = f"/api/people/{PUPIL}?purpose=operation_encompass"
    before = client.get(url).json()["events"][0]["data"]
    assert before["summary"] == "Verbal argument between adults; no injuries."  # the whole record, until now
    with sessions() as db:
        agreement = db.scalars(select(Agreement).where(Agreement.reference == "DSA-SCHA")).one()
        spec = spec_of(db, agreement)
        restricted = spec.model_copy(
            update={"fields": {"police_incident_persons": ("occurred_at", "role", "category")}}
        )
        change_agreement(
            db,
            agreement=agreement,
            spec=AgreementSpec.model_validate(restricted.model_dump()),
            by=SETUP,
            reason="Operation Encompass needs no account of the incident",
        )
        db.commit()
    body = client.get(url).json()
    [event] = body["events"]
    assert set(event["data"]) == {"occurred_at", "role", "category"}
    assert "Verbal argument" not in client.get(url).text and "01632" not in client.get(url).text
    page = client.get(f"/people/{PUPIL}?purpose=operation_encompass").text
    assert "Verbal argument" not in page and "01632" not in page


def test_an_agreement_naming_a_field_its_feed_does_not_have_is_refused() -> None:
    base = {
        "reference": "DSA-X",
        "title": "Test",
        "organisation": "SCHA",
        "feeds": ["police_incident_persons"],
        "about": ["own_pupils"],
        "purposes": ["operation_encompass"],
        "lawful_basis": "UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18",
        "valid_from": "2025-01-01",
    }
    with pytest.raises(ValidationError, match="has no field 'shoe_size'"):
        AgreementSpec.model_validate({**base, "fields": {"police_incident_persons": ["role", "shoe_size"]}})
    with pytest.raises(ValidationError, match="does not cover"):
        AgreementSpec.model_validate({**base, "fields": {"ed_attendances": ["arrived_at"]}})
