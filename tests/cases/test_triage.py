"""The street-triage log: recorded by the control-room mental-health professional (audited), shown on the
person's page and in the organisation's log, refused to other roles, and exported in the street_triage feed's
columns so that ``commonground ingest`` loads it without a quarantined row."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commonground.access.models import AuditEvent
from commonground.cases.person_view import PersonView
from commonground.cases.triage import TriageLog, export_triage
from commonground.cli import app as cli
from commonground.contracts.feeds import STREET_TRIAGE
from commonground.ingest.service import ingest_directory

ADVICE = "Calm on arrival; advised the officers that a s136 was not needed and arranged a crisis-team visit."


def _form(csrf: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "contacted_date": "2026-10-02",
        "contacted_time": "23:15",
        "duration_minutes": "40",
        "incident_reference": "INC-0099",
        "setting": "control_room",
        "advice": ADVICE,
        "outcome": "crisis_team_referral",
        "s136": "avoided",
        "conveyance": "none",
        "crisis_team_referral": "yes",
    }
    form.update(overrides)
    return form


def _triage_world(app: FastAPI, client: TestClient, sessions: sessionmaker[Session]) -> tuple[dict[str, int], str]:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)
    login_as(client, sessions, world.users["triage@nhs.example"])
    page = client.get("/triage/new?person=P-NHS-3")
    assert page.status_code == 200 and "Corwin Haverlock" in page.text
    return world.users, form_csrf(page.text)


def test_a_logged_contact_is_audited_and_joins_the_persons_page(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    users, csrf = _triage_world(app, client, sessions)
    done = client.post("/triage/new", data=_form(csrf, person_id="P-NHS-3"), follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/people/P-NHS-3?purpose=mental_health_crisis_care&done=triage-logged"
    person = client.get(done.headers["location"])
    assert person.status_code == 200
    assert "Street-triage contacts" in person.text and ADVICE in person.text
    assert "The triage contact has been recorded." in person.text
    log_page = client.get("/triage")
    assert "P-NHS-3" in log_page.text and "Referred to the crisis team" in log_page.text
    with app.state.sessions() as db:
        log = db.scalars(select(TriageLog)).one()
        assert (log.person_id, log.given_name, log.s136.value, log.conveyance.value) == (
            "P-NHS-3",
            None,
            "avoided",
            "none",
        )
        assert log.crisis_team_referral and log.duration_minutes == 40 and log.incident_reference == "INC-0099"
        assert log.contacted_at == dt.datetime(2026, 10, 2, 22, 15, tzinfo=dt.UTC)  # 23:15 in British Summer Time
        assert log.recorded_by_user_id == users["triage@nhs.example"]
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "log-triage", AuditEvent.subject_id == str(log.id))
        ).one()
        assert event.person_id == "P-NHS-3" and event.detail["outcome"] == "crisis_team_referral"
        assert event.actor_user_id == users["triage@nhs.example"] and event.purpose == "mental_health_crisis_care"


def test_a_contact_for_someone_not_in_the_records_and_the_forms_errors(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    _users, csrf = _triage_world(app, client, sessions)
    wrong = client.post(
        "/triage/new", data=_form(csrf, advice="", s136="used", crisis_team_referral="", contacted_time="25:99")
    )
    assert wrong.status_code == 400
    for message in (
        "There is a problem",
        "Enter the person&#39;s given name",
        "Describe the advice given",
        "but the outcome is not a section 136 detention",
        "Say whether the crisis team was asked to help",
        "Enter the date (like 2026-11-28) and time",
    ):
        assert message in wrong.text, message
    typed = _form(
        csrf,
        given_name="Dorrit",
        family_name="Vantongeren",
        date_of_birth="1979-12-01",
        sex="M",
        postcode="qx1 2bb",
        outcome="s136_detention",
        s136="used",
        conveyance="place_of_safety",
        crisis_team_referral="no",
    )
    done = client.post("/triage/new", data=typed, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/triage?done=triage-logged"
    listing = client.get("/triage")
    assert "Dorrit Vantongeren" in listing.text and "Health-based place of safety" in listing.text
    with app.state.sessions() as db:
        log = db.scalars(select(TriageLog)).one()
        assert (log.person_id, log.postcode, log.sex) == (None, "QX1 2BB", "M")


def test_only_the_mental_health_professional_logs_triage(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    for email in ("dsl@scha.example", "officer@pol.example", "admin@la.example"):
        csrf = login_as(client, sessions, world.users[email])
        assert client.get("/triage").status_code == 403
        refused = client.post(
            "/triage/new", data=_form(csrf, given_name="A", family_name="B", date_of_birth="1990-01-01")
        )
        assert refused.status_code == 403


def _log_two(client: TestClient, csrf: str) -> None:
    assert client.post("/triage/new", data=_form(csrf, person_id="P-NHS-3"), follow_redirects=False).status_code == 303
    typed = _form(
        csrf,
        given_name="Dorrit",
        family_name="Vantongeren",
        date_of_birth="1979-12-01",
        sex="M",
        postcode="QX1 2BB",
        s136="not_considered",
        outcome="no_further_action",
        crisis_team_referral="no",
    )
    assert client.post("/triage/new", data=typed, follow_redirects=False).status_code == 303


def test_the_exported_log_ingests_with_no_quarantined_row(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _users, csrf = _triage_world(app, client, sessions)
    _log_two(client, csrf)
    view = PersonView(app.state.person_views.current().path)
    try:
        with sessions() as db:
            result = export_triage(db, out_dir=tmp_path / "feeds", person_view=view)
    finally:
        view.close()
    assert (result.rows, result.skipped) == (2, 0)
    with result.path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        assert list(rows[0]) == [c.name for c in STREET_TRIAGE.columns]
    linked = next(r for r in rows if r["given_name"] == "Corwin")
    assert (linked["family_name"], linked["date_of_birth"], linked["postcode"]) == (
        "Haverlock",
        "1988-02-14",
        "QX1 1AA",
    )
    assert (linked["contacted_at"], linked["s136_avoided"], linked["incident_id"]) == (
        "2026-10-02T23:15:00",
        "true",
        "INC-0099",
    )
    assert next(r for r in rows if r["given_name"] == "Dorrit")["s136_avoided"] == ""
    ingested = ingest_directory(source=result.path.parent, data_dir=tmp_path / "analytical")
    [loaded] = ingested.files
    assert (loaded.status, loaded.feed, loaded.rows_accepted, loaded.rows_quarantined) == (
        "loaded",
        "street_triage",
        2,
        0,
    ), loaded


def test_export_triage_command(
    app: FastAPI,
    client: TestClient,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _users, csrf = _triage_world(app, client, sessions)
    _log_two(client, csrf)
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    data_dir = app.state.settings.data_dir
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "hub", "export-triage", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 triage contacts" in result.output
    assert (tmp_path / "out" / "street_triage.csv").read_text(encoding="utf-8").count("\n") == 3


def test_the_operations_record_and_refuse_without_http(sessions: sessionmaker[Session]) -> None:
    """record() and organisation_log() called with a Context: a typed-in person is recorded and audited; another
    role is refused, and the refusal audited."""
    from service_support import principal_of

    from commonground.access.context import Context
    from commonground.access.models import User
    from commonground.access.resolver import Decision, RequestFacts, StoreFacts
    from commonground.cases import triage
    from commonground.cases.triage import S136, Conveyance, TriageEntry
    from commonground.errors import Refused
    from commonground.store.db import utcnow

    world = build_world(sessions, with_agreements=True)

    def context_of(db: Session, email: str) -> Context:
        principal = principal_of(db.get_one(User, world.users[email]))
        decision = Decision(allowed=True, action="view-self", reason="a test")
        return Context(db=db, principal=principal, decision=decision, now=utcnow(), facts=RequestFacts(StoreFacts(db)))

    entry = TriageEntry(
        given_name="Dorrit",
        family_name="Vantongeren",
        date_of_birth=dt.date(1979, 12, 1),
        contacted_at=utcnow() - dt.timedelta(hours=1),
        setting="control_room",
        advice=ADVICE,
        outcome="no_further_action",
        s136=S136.NOT_CONSIDERED,
        conveyance=Conveyance.NONE,
        crisis_team_referral=False,
    )
    with sessions() as db:
        logged = triage.record(context_of(db, "triage@nhs.example"), view=None, entry=entry)
        assert [log.id for log in triage.organisation_log(context_of(db, "triage@nhs.example"))] == [logged.id]
        with pytest.raises(Refused):
            triage.record(context_of(db, "officer@pol.example"), view=None, entry=entry)
    with sessions() as db:
        assert len(db.scalars(select(TriageLog)).all()) == 1
        outcomes = [e.outcome for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "log-triage"))]
        assert sorted(outcomes) == ["allowed", "denied"]
