"""The street-triage log names the linked person (name and date of birth) where the control room's agreements cover
them for the triage purpose, and otherwise shows only the pseudonymous id and says the name is not shown (#17)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from notice_support import write_school_view
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.models import AuditEvent
from commonground.cases.triage import S136, Conveyance, TriageLog
from commonground.store.db import utcnow

TRIAGE = "triage@nhs.example"
PERSON = "P-NHS-3"  # Corwin Haverlock, born 14 Feb 1988, in the school view's people


def _contact(csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "person_id": PERSON,
        "contacted_date": "2026-10-02",
        "contacted_time": "23:15",
        "setting": "control_room",
        "advice": "Advised the officers that a detention was not needed.",
        "outcome": "crisis_team_referral",
        "s136": "avoided",
        "conveyance": "none",
        "crisis_team_referral": "yes",
    }


def test_the_log_names_the_linked_person_for_the_control_room(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    write_school_view(app.state.settings.data_dir)
    login_as(client, sessions, world.users[TRIAGE])
    form = client.get(f"/triage/new?person={PERSON}")
    assert form.status_code == 200
    done = client.post("/triage/new", data=_contact(form_csrf(form.text)), follow_redirects=False)
    assert done.status_code == 303, done.text
    with sessions() as db:
        before = len(db.scalars(select(AuditEvent).where(AuditEvent.person_id == PERSON)).all())
    log = client.get("/triage")
    assert log.status_code == 200
    assert "Corwin Haverlock" in log.text
    assert "born 14 Feb 1988" in log.text
    assert PERSON in log.text and "name not shown" not in log.text
    with sessions() as db:  # the line naming the person is audited as a read, under the agreement that named them
        reads = db.scalars(
            select(AuditEvent).where(AuditEvent.person_id == PERSON).order_by(AuditEvent.seq.desc())
        ).all()
        assert len(reads) == before + 1
        assert (reads[0].action, reads[0].outcome, reads[0].purpose) == (
            "log-triage",
            "allowed",
            "mental_health_crisis_care",
        )
        assert reads[0].detail["agreements"] == ["DSA-NHS"]


def test_without_an_agreement_the_log_shows_the_id_and_says_the_name_is_not_shown(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=False)
    write_school_view(app.state.settings.data_dir)
    with sessions() as db:
        db.add(
            TriageLog(
                organisation_id=world.organisations["NHS"],
                person_id=PERSON,
                contacted_at=utcnow() - dt.timedelta(hours=2),
                setting="control_room",
                advice="Advice given by phone.",
                outcome="no_further_action",
                s136=S136.NOT_CONSIDERED,
                conveyance=Conveyance.NONE,
                crisis_team_referral=False,
                recorded_by_user_id=world.users[TRIAGE],
            )
        )
        db.commit()
    login_as(client, sessions, world.users[TRIAGE])
    log = client.get("/triage")
    assert log.status_code == 200
    assert PERSON in log.text and "name not shown" in log.text
    assert "Haverlock" not in log.text and "1988" not in log.text
