"""The landscape review: the reference list of forces, defining and sending a survey, answering it for one's own
organisation (the last answer wins), the analysis on known answers (response rate, practices, barriers ranked, by
region), the report as a page, a CSV and a PDF, the work plan with moderated comments, and who may do what."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from service_support import SETUP, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.accounts import create_user
from commonground.access.models import AuditEvent
from commonground.access.roles import Role
from commonground.errors import UserError
from commonground.store.models import Organisation
from commonground.whatworks import survey as sv
from commonground.whatworks.forces import BARRIERS, FORCES, PRACTICES, REGIONS
from commonground.whatworks.models import Comment, PlanItem, QuestionKind, Survey, SurveyResponse
from commonground.whatworks.seed import seed_landscape


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def test_the_reference_list_holds_the_43_forces_with_their_regions() -> None:
    assert len(FORCES) == 43
    assert len({f.code for f in FORCES}) == 43 and len({f.name for f in FORCES}) == 43
    assert len(REGIONS) == 10 and "Wales" in REGIONS
    assert sum(1 for f in FORCES if f.region == "Wales") == 4
    assert sum(1 for f in FORCES if f.region == "London") == 2


def _question(survey: Survey, topic: str) -> str:
    return str(next(q.id for q in survey.questions if q.topic == topic))


def test_the_analysis_on_known_answers(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        survey = sv.create_survey(db, title="Known answers", introduction="", by=SETUP)
        with pytest.raises(UserError, match="at least two choices"):
            sv.add_question(
                db, survey=survey, spec=sv.QuestionSpec("One?", QuestionKind.SINGLE, choices=("a",)), by=SETUP
            )
        sv.send_survey(
            db,
            survey=survey,
            force_codes=["CLE", "DUR", "KEN", "SUS"],
            organisation_ids=[world.organisations["NHS"]],
            partner_region="Partnership area",
            by=SETUP,
        )
        with pytest.raises(UserError, match="questions can be added only before"):
            sv.add_question(db, survey=survey, spec=sv.STANDARD_QUESTIONS[-1], by=SETUP)
        practice, barrier = _question(survey, "practice"), _question(survey, "barrier")
        funding, it, culture = BARRIERS[2], BARRIERS[1], BARRIERS[3]
        given = {
            "Cleveland Police": {practice: [PRACTICES[1], PRACTICES[2]], barrier: [funding, it]},
            "Durham Constabulary": {practice: [PRACTICES[2]], barrier: [funding]},
            "Kent Police": {practice: [], barrier: [funding, culture]},
            "Northshire Mental Health NHS Trust": {practice: [PRACTICES[2]], barrier: [it]},
        }
        recipients = {r.name: r for r in sv.recipients_of(db, survey)}
        assert set(recipients) == {*given, "Sussex Police"}
        assert recipients["Northshire Mental Health NHS Trust"].kind == "health"
        for name, answers in given.items():
            sv.answer_survey(db, survey=survey, recipient=recipients[name], answers=answers, by=SETUP)
        with pytest.raises(UserError, match="Choose from the answers given"):
            sv.answer_survey(
                db, survey=survey, recipient=recipients["Sussex Police"], answers={barrier: ["Not a barrier"]}, by=SETUP
            )
        report = sv.analyse(db, survey)
        db.commit()
    assert (report.overall.answered, report.overall.sent, report.overall.percent) == (4, 5, 80.0)
    assert [(r.label, r.answered, r.sent) for r in report.by_region] == [
        ("North East", 2, 2),
        ("Partnership area", 1, 1),
        ("South East", 1, 2),
    ]
    assert {r.label: r.percent for r in report.by_kind} == {"Health": 100.0, "Police force": 75.0}
    barriers = report.topic("barrier")[0]
    assert [(c.choice, c.count) for c in barriers.counts[:3]] == [(funding, 3), (it, 2), (culture, 1)]
    assert barriers.counts[0].percent == 75.0
    assert [c.count for c in barriers.by_region["North East"] if c.choice == funding] == [2]
    practices = {c.choice: c.count for c in report.topic("practice")[0].counts}
    assert practices[PRACTICES[2]] == 3 and practices[PRACTICES[1]] == 1 and practices[PRACTICES[0]] == 0
    assert [r.name for r in report.not_answered] == ["Sussex Police"]
    rows = list(csv.reader(io.StringIO(sv.report_csv(report))))
    assert ["response_rate", "all", "All organisations", "4", "5", "80.0"] in rows
    assert any(r[0].endswith(":barrier") and r[2] == funding and r[3:5] == ["3", "4"] for r in rows)
    assert sv.report_pdf(report).startswith(b"%PDF")


def test_define_send_answer_and_read_the_report_through_the_pages(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = login_as(client, sessions, world.users["admin@la.example"])
    made = client.post(
        "/landscape/surveys",
        data={"csrf_token": token, "title": "Collaborations 2026", "standard": "yes"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    survey_url = made.headers["location"].split("?")[0]
    added = client.post(
        f"{survey_url}/questions",
        data={
            "csrf_token": token,
            "text": "Do you have a shared IT system?",
            "kind": "single",
            "topic": "other",
            "choices": "Yes\nNo\nPlanned",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    login_as(client, sessions, world.users["triage@nhs.example"])
    assert client.get(survey_url).status_code == 404  # a draft is for its administrators
    token = login_as(client, sessions, world.users["admin@la.example"])
    sent = client.post(
        f"{survey_url}/send",
        data={
            "csrf_token": token,
            "forces": ["CLE", "KEN"],
            "organisations": [str(world.organisations["NHS"])],
            "region": "North East",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "Sent to 3 organisations" in client.get(survey_url).text

    token = login_as(client, sessions, world.users["triage@nhs.example"])
    home = client.get("/landscape")
    assert "Answer it for your organisation" in home.text
    answer_url = f"{survey_url}/answer"
    form = client.get(answer_url)
    assert form.status_code == 200 and "Northshire Mental Health NHS Trust" in form.text
    with sessions() as db:
        survey = db.scalars(select(Survey).where(Survey.title == "Collaborations 2026")).one()
        practice, barrier = _question(survey, "practice"), _question(survey, "barrier")
        extra = str(next(q.id for q in survey.questions if q.text.startswith("Do you have")))
    wrong = client.post(answer_url, data={"csrf_token": token, f"q{extra}": "Maybe"})
    assert wrong.status_code == 400 and "Choose one of the answers" in wrong.text
    first = client.post(
        answer_url,
        data={"csrf_token": token, f"q{practice}": [PRACTICES[0]], f"q{barrier}": [BARRIERS[0]], f"q{extra}": "No"},
        follow_redirects=False,
    )
    assert first.status_code == 303
    with sessions() as db:  # another member of the same organisation changes the answers
        colleague = create_user(
            db,
            email="colleague@nhs.example",
            display_name="colleague",
            organisation=db.get_one(Organisation, world.organisations["NHS"]),
            role=Role.PARTNER_TEAM_MEMBER,
            by=SETUP,
        )
        db.commit()
        colleague_id = colleague.id
    token = login_as(client, sessions, colleague_id)
    second = client.post(
        answer_url,
        data={
            "csrf_token": token,
            f"q{practice}": [PRACTICES[0], PRACTICES[2]],
            f"q{barrier}": [BARRIERS[1]],
            f"q{extra}": "Planned",
        },
        follow_redirects=False,
    )
    assert second.status_code == 303
    with sessions() as db:
        response = db.scalars(select(SurveyResponse)).one()  # one answer per organisation: the last one wins
        assert response.version == 2 and response.answers[barrier] == [BARRIERS[1]]
        assert response.answered_by_user_id == colleague_id
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "answer-survey")).all()

    login_as(client, sessions, world.users["officer@pol.example"])
    assert client.get(answer_url).status_code == 404  # not sent to Northshire Police
    report = client.get("/landscape", params={"survey": survey.id})
    assert report.status_code == 200
    assert "1 of 3" in report.text and "<svg" in report.text and "Barriers, ranked" in report.text
    assert "Kent Police" in report.text  # not yet responded
    csv_download = client.get(f"{survey_url}/report.csv")
    assert csv_download.status_code == 200 and csv_download.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_download.headers["content-disposition"]
    assert "response_rate,all,All organisations,1,3,33.3" in csv_download.text
    pdf = client.get(f"{survey_url}/report.pdf")
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    )


def test_only_administrators_define_and_send(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        survey = sv.create_survey(db, title="Draft", introduction="", by=SETUP)
        db.commit()
        survey_id = survey.id
    for email in ("hub@la.example", "analyst@pht.example", "dpo@la.example"):
        token = login_as(client, sessions, world.users[email])
        assert client.post("/landscape/surveys", data={"csrf_token": token, "title": "x"}).status_code == 403
        assert (
            client.post(f"/landscape/surveys/{survey_id}/send", data={"csrf_token": token, "forces": "CLE"}).status_code
            == 403
        )
        assert client.get("/landscape").status_code == 200
        assert client.get(f"/landscape/surveys/{survey_id}").status_code == 404


def test_the_demo_landscape_is_clearly_synthetic(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions() as db:
        survey = seed_landscape(db, SETUP)
        db.commit()
        assert seed_landscape(db, SETUP).id == survey.id
        report = sv.analyse(db, survey)
        assert report.overall.sent == 43 + 5  # the forces and the hub's partners (not its schools)
        # 27 forces, and the partnership's own partners but the children's services council (#17: all showed 0 %)
        assert report.overall.answered == 27 + 4 and survey.synthetic
        partnership = next(r for r in report.by_region if r.label == "Partnership area")
        assert (partnership.sent, partnership.answered) == (5, 4)
        assert all(r.synthetic for r in db.scalars(select(SurveyResponse)))
        assert len(db.scalars(select(PlanItem)).all()) == 4
    login_as(client, sessions, world.users["dpo@la.example"])
    page = client.get("/landscape")
    assert "Synthetic" in page.text and "31 of 48" in page.text
    # #17: chart labels were cut after 25 characters ("Mental-health profession…"); they wrap now, whole
    assert "…" not in page.text and "<tspan" in page.text
    assert 'class="cg-heading-s">Which partners do you run them with?' not in page.text  # said once, as the heading
    assert "SYNTHETIC" in client.get(f"/landscape/surveys/{survey.id}/report.csv").text
    assert client.get("/landscape/plan").status_code == 200


def test_the_work_plan_with_moderated_comments(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = login_as(client, sessions, world.users["admin@la.example"])
    made = client.post(
        "/landscape/plan",
        data={
            "csrf_token": token,
            "title": "One data-sharing agreement for the control room",
            "owner": str(world.organisations["NHS"]),
            "due_on": "2027-03-31",
            "status": "in_progress",
            "barriers": [BARRIERS[0]],
            "practices": [PRACTICES[0]],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    item_url = made.headers["location"].split("?")[0]
    wrong = client.post(
        "/landscape/plan",
        data={
            "csrf_token": token,
            "title": "x",
            "owner": str(world.organisations["NHS"]),
            "due_on": "2027-03-31",
            "barriers": ["Not a barrier"],
        },
    )
    assert wrong.status_code == 400
    token = login_as(client, sessions, world.users["team@das.example"])
    assert (
        client.post(
            "/landscape/plan", data={"csrf_token": token, "title": "x", "owner": "1", "due_on": "2027-01-01"}
        ).status_code
        == 403
    )
    said = client.post(
        f"{item_url}/comments", data={"csrf_token": token, "text": "We can help with this."}, follow_redirects=False
    )
    assert said.status_code == 303
    login_as(client, sessions, world.users["officer@pol.example"])
    page = client.get(item_url)
    assert "One data-sharing agreement" in page.text and "We can help with this." not in page.text
    token = login_as(client, sessions, world.users["analyst@pht.example"])
    with sessions() as db:
        comment = db.scalars(select(Comment)).one()
    assert (
        client.post(
            f"/library/comments/{comment.id}", data={"csrf_token": token, "do": "approve"}, follow_redirects=False
        ).status_code
        == 303
    )
    login_as(client, sessions, world.users["officer@pol.example"])
    assert "We can help with this." in client.get(item_url).text
    assert "One data-sharing agreement" in client.get("/landscape/plan").text
