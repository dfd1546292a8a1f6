"""Doubted links (#15): a practitioner ticks the records on a person's page that are somebody else and says why; a
hub practitioner reviews them side by side with what joined them and decides; every step audited; the decision
(and every review still open) is written for the next build by `commonground hub export-link-reviews`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
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
from commonground.cases.link_reviews import LinkReview, LinkReviewSource, LinkReviewStatus
from commonground.cases.person_documents import DOCUMENTS_FILE, write_person_documents
from commonground.cli import app as cli
from commonground.linkage.constraints import CONSTRAINTS_FILE

PERSON = "P-LA-1"  # one police incident record, I1, in the test view
HUB = "hub@la.example"
OFFICER = "officer@pol.example"


def _second_record(data_dir: Path) -> None:
    """P-LA-1 gains a second police record, linked to the first: one of them is somebody else."""
    path = write_school_view(data_dir)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO records VALUES (?, 'police_incident_persons', 'I1B', 0.97, 'Testgiven', 'Zedla', "
            "'2012-05-02', 'F', 'QX1 1AA', '1 Test Street', NULL)",
            [PERSON],
        )
        con.execute(
            "INSERT INTO links VALUES ('police_incident_persons', 'I1', 'police_incident_persons', 'I1B', ?, "
            "9.5, 0.97, ?)",
            [PERSON, PERSON],
        )
        (path.parent / DOCUMENTS_FILE).unlink()
        write_person_documents(con, path.parent / DOCUMENTS_FILE)
    finally:
        con.close()


def _events(sessions: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_report_review_and_export(
    app: FastAPI,
    client: TestClient,
    sessions: sessionmaker[Session],
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world(sessions, with_agreements=True)
    data_dir = app.state.settings.data_dir
    _second_record(data_dir)
    login_as(client, sessions, world.users[HUB])
    person = client.get(f"/people/{PERSON}?purpose=safeguarding_children")
    assert "Some of these records are not this person" in person.text

    form = client.get(f"/people/{PERSON}/not-the-same-person?purpose=safeguarding_children")
    assert form.status_code == 200
    assert 'value="police_incident_persons:I1"' in form.text and 'value="police_incident_persons:I1B"' in form.text
    send = {"csrf_token": form_csrf(form.text), "purpose": "safeguarding_children"}

    nothing = client.post(f"/people/{PERSON}/not-the-same-person", data={**send, "reason": "Not the same girl."})
    assert nothing.status_code == 400 and "Tick the records that are not this person" in nothing.text
    both = client.post(
        f"/people/{PERSON}/not-the-same-person",
        data={**send, "records": ["police_incident_persons:I1", "police_incident_persons:I1B"], "reason": "x" * 12},
    )
    assert both.status_code == 400 and "not all of them" in both.text
    short = client.post(
        f"/people/{PERSON}/not-the-same-person", data={**send, "records": ["police_incident_persons:I1B"]}
    )
    assert short.status_code == 400 and "Say why" in short.text
    assert 'value="police_incident_persons:I1B" checked' in short.text  # what was ticked is kept
    reason = "A different girl: her mother gave the date of birth as the 2nd, not the 1st."
    sent = client.post(
        f"/people/{PERSON}/not-the-same-person",
        data={**send, "records": ["police_incident_persons:I1B"], "reason": reason},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with sessions() as db:
        [review] = db.scalars(select(LinkReview)).all()
        assert (review.records, review.reason, review.source) == (
            ["police_incident_persons:I1B"],
            reason,
            LinkReviewSource.PERSON_PAGE,
        )
        review_id = review.id
    [reported] = _events(sessions, "report-link")
    assert reported.detail == {"link_review": review_id, "records": 1} and reported.person_id == PERSON

    # the export holds the records apart while the review is open
    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["--data-dir", str(data_dir), "hub", "export-link-reviews"]).exit_code == 0
    written = json.loads((data_dir / CONSTRAINTS_FILE).read_text())
    assert written["held_apart"] == [
        {"review": review_id, "records": ["police_incident_persons:I1B"], "decided": "open"}
    ]
    assert reason not in (data_dir / CONSTRAINTS_FILE).read_text()  # ids only, never what was said

    queue = client.get("/link-reviews")
    assert queue.status_code == 200 and f"/link-reviews/{review_id}" in queue.text
    page = client.get(f"/link-reviews/{review_id}")
    assert page.status_code == 200
    assert "I1B" in page.text and "2012-05-02" in page.text and reason in page.text
    assert "confidence" in page.text  # what joined them, in words
    csrf = form_csrf(page.text)
    undecided = client.post(f"/link-reviews/{review_id}", data={"csrf_token": csrf, "note": "Checked the dates."})
    assert undecided.status_code == 400 and "Say whether the records are the same person" in undecided.text
    decided = client.post(
        f"/link-reviews/{review_id}",
        data={"csrf_token": csrf, "decision": "not_same", "note": "Checked with the school roll: two girls."},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    with sessions() as db:
        review = db.get_one(LinkReview, review_id)
        assert review.status is LinkReviewStatus.NOT_SAME_PERSON and review.decided_by_user_id == world.users[HUB]
    assert [e.detail["decision"] for e in _events(sessions, "review-links") if "decision" in e.detail] == [
        "not_same_person"
    ]
    again = client.post(
        f"/link-reviews/{review_id}",
        data={"csrf_token": csrf, "decision": "same", "note": "Changed my mind entirely."},
    )
    assert again.status_code == 400 and "decided already" in again.text
    assert runner.invoke(cli, ["--data-dir", str(data_dir), "hub", "export-link-reviews"]).exit_code == 0
    written = json.loads((data_dir / CONSTRAINTS_FILE).read_text())
    assert written["held_apart"][0]["decided"] == "not_same_person" and written["kept_together"] == []


def test_only_the_hub_reviews_and_a_review_is_read_for_its_purpose(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    _second_record(app.state.settings.data_dir)
    login_as(client, sessions, world.users[HUB])
    form = client.get(f"/people/{PERSON}/not-the-same-person?purpose=safeguarding_children")
    client.post(
        f"/people/{PERSON}/not-the-same-person",
        data={
            "csrf_token": form_csrf(form.text),
            "purpose": "safeguarding_children",
            "records": ["police_incident_persons:I1B"],
            "reason": "Different date of birth, confirmed by the family.",
        },
    )
    with sessions() as db:
        review_id = db.scalars(select(LinkReview.id)).one()
    client.cookies.clear()
    login_as(client, sessions, world.users[OFFICER])
    assert client.get("/link-reviews").status_code == 403
    assert client.get(f"/link-reviews/{review_id}").status_code in {403, 404}
