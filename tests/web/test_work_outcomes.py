"""Closing a work item records a coded outcome beside the words (#20): the page asks for both and keeps what was
written when one is missing; the API needs the code to close; "wrong person" raises a link review of the flag's
evidence, audited with the close; and the rule outcomes page and command count closed work by rule, marking a rule
whose flags mostly led nowhere for review."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_support import form_csrf, login_as
from service_world import build_world
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from commonground.access.models import AuditEvent
from commonground.cases.link_reviews import LinkReview, LinkReviewSource, LinkReviewStatus
from commonground.cases.rule_outcomes import MIN_JUDGED, rule_outcomes
from commonground.cases.work_items import Outcome, WorkItem, WorkItemStatus
from commonground.cli import app as cli

HUB = "hub@la.example"
ANALYST = "analyst@pht.example"
PERSON = "P-LA-1"  # flagged from police_incident_persons:I1


def _close(client: TestClient, item: int, **fields: str) -> object:
    form = client.get(f"/queue/{item}")
    assert form.status_code == 200
    data = {"csrf_token": form_csrf(form.text), "do": "close", **fields}
    return client.post(f"/queue/{item}", data=data, follow_redirects=False)


def test_the_close_form_asks_for_a_coded_outcome_and_keeps_what_was_written(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    login_as(client, sessions, world.users[HUB])
    item = world.items[PERSON]
    page = client.get(f"/queue/{item}").text
    for outcome in Outcome:
        assert f'value="{outcome.value}"' in page and outcome.label in page

    missing = _close(client, item, outcome="Visited the family with the school nurse; plan agreed.")
    assert missing.status_code == 400  # type: ignore[attr-defined]
    text = missing.text  # type: ignore[attr-defined]
    assert "There is a problem" in text and "Choose what came of the work item" in text
    assert "Visited the family with the school nurse; plan agreed." in text  # nothing typed is lost
    with sessions() as db:
        assert db.get_one(WorkItem, item).status is not WorkItemStatus.CLOSED

    done = _close(client, item, outcome="Visited the family; plan agreed.", outcome_code="action_taken")
    assert done.status_code == 303  # type: ignore[attr-defined]
    with sessions() as db:
        closed = db.get_one(WorkItem, item)
        assert (closed.status, closed.outcome_code) == (WorkItemStatus.CLOSED, Outcome.ACTION_TAKEN)
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == str(item)).order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.detail["outcome_code"] == "action_taken"
    assert "Action taken" in client.get(f"/queue/{item}").text


def test_the_api_needs_the_code_to_close(client: TestClient, sessions: sessionmaker[Session]) -> None:
    world = build_world(sessions, with_agreements=True)
    csrf = login_as(client, sessions, world.users[HUB])
    url = f"/api/work-items/{world.items[PERSON]}?purpose=safeguarding_children"
    headers = {"X-CSRF-Token": csrf}
    refused = client.patch(url, json={"status": "closed", "outcome": "Seen."}, headers=headers)
    assert refused.status_code == 400 and "coded outcome" in refused.text
    unknown = client.patch(url, json={"status": "closed", "outcome": "Seen.", "outcome_code": "fine"}, headers=headers)
    assert unknown.status_code == 422
    closed = client.patch(
        url, json={"status": "closed", "outcome": "Seen.", "outcome_code": "no_concern"}, headers=headers
    )
    assert closed.status_code == 200 and closed.json()["outcome_code"] == "no_concern"


def test_closing_as_wrong_person_raises_one_link_review_of_the_evidence(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    world = build_world(sessions, with_agreements=True)
    login_as(client, sessions, world.users[HUB])
    item = world.items[PERSON]
    reason = "The incident's adult is a different man of the same name."
    assert _close(client, item, outcome=reason, outcome_code="wrong_person").status_code == 303  # type: ignore[attr-defined]
    with sessions() as db:
        [review] = db.scalars(select(LinkReview)).all()
        assert (review.person_id, review.records, review.reason) == (PERSON, ["police_incident_persons:I1"], reason)
        assert (review.source, review.status, review.work_item_id) == (
            LinkReviewSource.WORK_ITEM,
            LinkReviewStatus.OPEN,
            item,
        )
        assert review.raised_by_user_id == world.users[HUB]
        raised = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(item))).all()
        assert any(e.detail.get("link_review") == review.id for e in raised)
    # reopened and closed the same way again: still one open review
    reopen = client.get(f"/queue/{item}")
    client.post(f"/queue/{item}", data={"csrf_token": form_csrf(reopen.text), "do": "reopen"})
    assert _close(client, item, outcome=reason, outcome_code="wrong_person").status_code == 303  # type: ignore[attr-defined]
    with sessions() as db:
        assert len(db.scalars(select(LinkReview)).all()) == 1


def test_rule_outcomes_count_closed_work_and_mark_a_rule_for_review(
    client: TestClient, sessions: sessionmaker[Session], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(sessions, with_agreements=True)
    with sessions() as db:
        [item] = db.scalars(select(WorkItem).where(WorkItem.person_id == PERSON)).all()
        rule, version = item.rule_id, item.rule_version
        # the same rule version, closed many times over: mostly no concern found
        for n in range(MIN_JUDGED + 2):
            db.add(
                WorkItem(
                    flag_key=f"k{n}",
                    person_id=f"P-X-{n}",
                    rule_id=rule,
                    rule_version=version,
                    organisation_id=item.organisation_id,
                    role=item.role,
                    purpose=item.purpose,
                    due_by=item.due_by,
                    evidence=[f"police_incident_persons:X{n}"],
                    status=WorkItemStatus.CLOSED,
                    outcome="Looked into.",
                    outcome_code=Outcome.ACTION_TAKEN
                    if n < 3
                    else Outcome.NO_CONCERN
                    if n < 12
                    else Outcome.WRONG_PERSON,
                )
            )
        db.execute(update(WorkItem).where(WorkItem.id == item.id).values(status=WorkItemStatus.CLOSED))  # uncoded
        db.commit()
        [row] = [r for r in rule_outcomes(db) if (r.rule_id, r.rule_version) == (rule, version)]
    assert (row.confirmed, row.judged, row.count(Outcome.WRONG_PERSON), row.uncoded) == (3, 12, MIN_JUDGED + 2 - 12, 1)
    assert row.ppv == 3 / 12 and row.for_review

    login_as(client, sessions, world.users[ANALYST])
    page = client.get("/rule-outcomes")
    assert page.status_code == 200
    assert "3 of 12" in page.text and "25 %" in page.text and "Marked for review" in page.text
    assert "P-X-" not in page.text and PERSON not in page.text  # counts, never people

    monkeypatch.setenv("COMMONGROUND_DATABASE_URL", store_url)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "hub", "rule-outcomes"])
    assert result.exit_code == 0, result.output
    assert "marked for review" in result.output and "25% of 12" in result.output
