"""The good-practice library: write, submit, two reviews by two different people (never the submitter), publish;
search and filter; comments hidden until a moderator approves them; local evaluations labelled LOCAL; who may do
what; every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from service_support import SETUP, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import Actor
from commonground.access.models import AuditEvent
from commonground.errors import UserError
from commonground.whatworks import library as lib
from commonground.whatworks.local_evaluations import local_evaluations
from commonground.whatworks.models import Comment, CommentStatus, EntryStatus, LibraryEntry, ReviewDecision
from commonground.whatworks.scales import EIF_LEVELS
from commonground.whatworks.seed import library_seed, seed_library


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def _form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "title": "Youth diversion scheme",
        "summary": "Young people arrested for a first low-level offence are offered a worker instead of a charge.",
        "problem": "offending_health_needs",
        "problem_detail": "",
        "age_band": "young_people",
        "setting": "custody",
        "need_level": "targeted",
        "mechanism": "A trusted adult and a plan instead of a criminal record.",
        "outcomes": (
            "Reoffending | improved | -0.1 | -0.2 | 0.0 | proportion | A made-up trial, 2020\n"
            "School attendance | unknown"
        ),
        "emmie_effect": "One trial.",
        "emmie_effect_quality": "limited",
        "eif_level": "not_rated",
        "eif_rationale": "",
        "studies": "2020 | rct | A made-up trial of youth diversion. | https://example.org/trial",
        "implementation": "Workers in custody.",
        "cost": "Staff time.",
        "local_lead": "",
        "local_contact": "diversion-team@example.org",
    }
    form.update(changes)
    return form


def _actor(sessions: sessionmaker[Session], world: World, email: str) -> Actor:
    from commonground.access.models import User

    with sessions() as db:
        user = db.get_one(User, world.users[email])
        return Actor(label=email, user_id=user.id, organisation_id=user.organisation_id, role=user.role.value)


def test_submit_two_reviews_publish_through_the_pages(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    login_as(client, sessions, world.users["officer@pol.example"])
    token = form_csrf(client.get("/library/new").text)
    bad = client.post("/library/new", data=_form(token, title="", outcomes="Reoffending | improved | -0.1"))
    assert bad.status_code == 400
    assert "Enter a title" in bad.text and "Say where each effect size comes from" in bad.text
    made = client.post("/library/new", data=_form(token), follow_redirects=False)
    assert made.status_code == 303
    entry_url = made.headers["location"].split("?")[0]
    page = client.get(entry_url)
    assert "Draft" in page.text and "-0.1 (interval -0.2 to 0) proportion" in page.text
    assert client.post(f"{entry_url}/submit", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.post(f"{entry_url}/review", data={"csrf_token": token, "decision": "approve"}).status_code == 403

    login_as(client, sessions, world.users["hub@la.example"])
    queue = client.get("/library/reviews")
    assert "Youth diversion scheme" in queue.text and "Waiting for you" in queue.text
    token = form_csrf(queue.text)
    first = client.post(
        f"{entry_url}/review", data={"csrf_token": token, "decision": "approve"}, follow_redirects=False
    )
    assert first.status_code == 303
    again = client.post(f"{entry_url}/review", data={"csrf_token": token, "decision": "approve"})
    assert again.status_code == 400 and "already reviewed" in again.text
    assert "In review" in client.get(entry_url).text

    token = login_as(client, sessions, world.users["analyst@pht.example"])
    second = client.post(
        f"{entry_url}/review",
        data={"csrf_token": token, "decision": "approve", "comments": "Clear and honest."},
        follow_redirects=False,
    )
    assert second.status_code == 303
    with sessions() as db:
        entry = db.scalars(select(LibraryEntry).where(LibraryEntry.title == "Youth diversion scheme")).one()
        assert entry.status is EntryStatus.PUBLISHED and entry.published_at is not None
        reviews = lib.reviews_of(db, entry)
        assert {r.reviewer_user_id for r in reviews} == {
            world.users["hub@la.example"],
            world.users["analyst@pht.example"],
        }
        actions = [
            e.action
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.subject_type == "library", AuditEvent.subject_id == str(entry.id))
            )
        ]
        assert actions.count("review-library-entry") == 2 and actions.count("submit-library-entry") == 2
    listing = client.get("/library", params={"q": "diversion"})
    assert "Youth diversion scheme" in listing.text


def test_the_submitter_cannot_review_and_a_return_starts_a_new_round(
    sessions: sessionmaker[Session], world: World
) -> None:
    analyst = _actor(sessions, world, "analyst@pht.example")
    hub = _actor(sessions, world, "hub@la.example")
    fields = lib.EntryFields(
        title="A", summary="B", problem="violence", age_band="adults", setting="community", need_level="universal"
    )
    with sessions() as db:
        entry = lib.create_entry(db, fields=fields, by=analyst)
        with pytest.raises(UserError, match="only a submitted entry"):
            lib.review_entry(db, entry=entry, decision=ReviewDecision.APPROVE, comments="", by=hub)
        lib.submit_entry(db, entry=entry, by=analyst)
        with pytest.raises(UserError, match="wrote or submitted"):
            lib.review_entry(db, entry=entry, decision=ReviewDecision.APPROVE, comments="", by=analyst)
        with pytest.raises(UserError, match="say what needs changing"):
            lib.review_entry(db, entry=entry, decision=ReviewDecision.RETURN, comments=" ", by=hub)
        lib.review_entry(db, entry=entry, decision=ReviewDecision.RETURN, comments="Add the studies", by=hub)
        assert entry.status is EntryStatus.RETURNED
        with pytest.raises(UserError, match="only the author"):
            lib.update_entry(db, entry=entry, fields=fields, by=hub)
        lib.update_entry(db, entry=entry, fields=fields, by=analyst)
        lib.submit_entry(db, entry=entry, by=analyst)
        assert entry.round == 2 and entry.status.value == "submitted"
        lib.review_entry(db, entry=entry, decision=ReviewDecision.APPROVE, comments="", by=hub)  # a new round
        assert entry.status.value == "in_review"
        db.commit()


def test_an_effect_size_needs_its_source_and_must_lie_in_its_interval() -> None:
    base = {
        "title": "T",
        "summary": "S",
        "problem": "violence",
        "age_band": "adults",
        "setting": "community",
        "need_level": "universal",
    }
    no_source = lib.EntryFields(**base, outcomes=(lib.Outcome("x", "improved", size=1.0),))  # type: ignore[arg-type]
    assert "outcomes" in no_source.errors()
    outside = lib.EntryFields(**base, outcomes=(lib.Outcome("x", "improved", 3.0, 0.0, 1.0, "", "s"),))  # type: ignore[arg-type]
    assert no_source.errors()["outcomes"] != outside.errors()["outcomes"]
    level = lib.EntryFields(**base, eif_level="5")  # type: ignore[arg-type]
    assert "eif_level" in level.errors()
    assert set(EIF_LEVELS) == {"4+", "4", "3+", "3", "2+", "2", "NL2", "NE", "not_rated"}


def test_the_seed_is_published_cited_and_honest(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        made = seed_library(db, SETUP)
        db.commit()
        assert len(made) >= 8
        assert seed_library(db, SETUP) == []  # idempotent
        for entry in made:
            assert entry.status is EntryStatus.PUBLISHED and entry.studies and entry.provenance
            for outcome in entry.outcomes:
                if outcome["size"] is not None:
                    assert outcome["source"]
    titles = [e["title"] for e in library_seed()["entries"]]
    assert any("Cardiff" in t for t in titles) and any("Encompass" in t for t in titles)


def test_search_and_filters(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as db:
        seed_library(db, SETUP)
        db.commit()
        assert [e.title for e in lib.search_entries(db, lib.Filters(problem="violence"))] == [
            "The Cardiff Model for violence prevention"
        ]
        triage = lib.search_entries(db, lib.Filters(text="street TRIAGE"))
        assert [e.title for e in triage] == ["Street triage"]
        s136 = {e.title for e in lib.search_entries(db, lib.Filters(outcome="section 136"))}
        assert s136 == {"Mental-health professionals in the police control room", "Street triage"}
        assert len(lib.search_entries(db, lib.Filters(eif_level="not_rated"))) == 9
        assert lib.search_entries(db, lib.Filters(eif_level="3")) == []
        children = {e.title for e in lib.search_entries(db, lib.Filters(age_band="children"))}
        assert "Operation Encompass" in children and "Street triage" not in children
        assert {e.title for e in lib.search_entries(db, lib.Filters(setting="custody", need_level="targeted"))} == {
            "Liaison and diversion in police custody and courts",
            "Drug and alcohol arrest referral and treatment pathways",
        }
    login_as(client, sessions, world.users["dsl@scha.example"])
    page = client.get("/library", params={"problem": "violence"})
    assert page.status_code == 200 and "Cardiff" in page.text and "Street triage" not in page.text
    page = client.get("/library", params={"outcome": "Section 136 detentions"})
    assert "Street triage" in page.text and "Cardiff" not in page.text
    cardiff = lib.search_entries(sessions(), lib.Filters(problem="violence"))[0]
    detail = client.get(f"/library/{cardiff.id}")
    assert "Florence" in detail.text and "-42" in detail.text and "Not rated" in detail.text


def test_comments_are_hidden_until_a_moderator_approves(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions() as db:
        entry_id = seed_library(db, SETUP)[0].id
        db.commit()
    login_as(client, sessions, world.users["dsl@scha.example"])
    token = form_csrf(client.get(f"/library/{entry_id}").text)
    said = client.post(
        f"/library/{entry_id}/comments", data={"csrf_token": token, "text": "We run this too."}, follow_redirects=False
    )
    assert said.status_code == 303
    assert "Awaiting moderation" in client.get(f"/library/{entry_id}").text  # the author sees it, marked
    login_as(client, sessions, world.users["officer@pol.example"])
    assert "We run this too." not in client.get(f"/library/{entry_id}").text
    assert client.get("/library/moderation").status_code == 403
    login_as(client, sessions, world.users["admin@la.example"])
    queue = client.get("/library/moderation")
    assert "We run this too." in queue.text
    with sessions() as db:
        comment = db.scalars(select(Comment)).one()
    approved = client.post(
        f"/library/comments/{comment.id}",
        data={"csrf_token": form_csrf(queue.text), "do": "approve"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    login_as(client, sessions, world.users["officer@pol.example"])
    assert "We run this too." in client.get(f"/library/{entry_id}").text
    login_as(client, sessions, world.users["analyst@pht.example"])
    page = client.get(f"/library/{entry_id}")
    client.post(f"/library/comments/{comment.id}", data={"csrf_token": form_csrf(page.text), "do": "remove"})
    login_as(client, sessions, world.users["officer@pol.example"])
    assert "We run this too." not in client.get(f"/library/{entry_id}").text
    with sessions() as db:
        assert db.get_one(Comment, comment.id).status is CommentStatus.REMOVED
        events = [
            e.action
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.subject_type == "library", AuditEvent.outcome == "allowed")
            )
        ]
        assert "comment" in events and events.count("moderate-comments") == 2


def test_a_local_evaluation_is_linked_and_labelled_local(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions() as db:
        entry_id = seed_library(db, SETUP)[1].id
        db.commit()
    login_as(client, sessions, world.users["hub@la.example"])
    token = form_csrf(client.get(f"/library/{entry_id}").text)
    linked = client.post(
        f"/library/{entry_id}/evaluations",
        data={
            "csrf_token": token,
            "title": "Repeat crisis within six months",
            "evaluated_on": "2026-11-01",
            "summary": "Matched comparison; small numbers suppressed.",
            "figures": "estimate: -0.08\nn_treated: 212",
            "reference": "run 7",
        },
        follow_redirects=False,
    )
    assert linked.status_code == 303
    page = client.get(f"/library/{entry_id}")
    assert "LOCAL" in page.text and "Repeat crisis within six months" in page.text and "-0.08" in page.text
    with sessions() as db:
        entry = db.get_one(LibraryEntry, entry_id)
        evaluation = local_evaluations(db, entry)[0]
        assert evaluation.figures == {"estimate": -0.08, "n_treated": 212}
        assert evaluation.evaluated_on == dt.date(2026, 11, 1)
    login_as(client, sessions, world.users["officer@pol.example"])
    token = form_csrf(client.get(f"/library/{entry_id}").text)
    refused = client.post(
        f"/library/{entry_id}/evaluations", data={"csrf_token": token, "title": "x", "evaluated_on": "2026-11-01"}
    )
    assert refused.status_code == 403


def test_who_may_do_what(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    officer = _actor(sessions, world, "officer@pol.example")
    with sessions() as db:
        draft = lib.create_entry(
            db,
            fields=lib.EntryFields(
                title="Secret draft",
                summary="S",
                problem="violence",
                age_band="adults",
                setting="community",
                need_level="universal",
            ),
            by=officer,
        )
        db.commit()
        draft_id = draft.id
    expectations: list[tuple[str, str, int]] = [
        ("dpo@la.example", "/library", 200),
        ("dpo@la.example", "/library/new", 403),
        ("admin@la.example", "/library/new", 403),
        ("officer@pol.example", "/library/reviews", 403),
        ("hub@la.example", "/library/reviews", 200),
        ("officer@pol.example", f"/library/{draft_id}", 200),
        ("dsl@scha.example", f"/library/{draft_id}", 404),
        ("hub@la.example", f"/library/{draft_id}", 404),  # a draft is not yet for reviewers
        ("dsl@scha.example", f"/library/{draft_id}/edit", 404),
    ]
    for email, url, status in expectations:
        login_as(client, sessions, world.users[email])
        assert client.get(url).status_code == status, (email, url)
    client.cookies.clear()
    assert client.get("/library", headers={"Accept": "application/json"}).status_code == 401
