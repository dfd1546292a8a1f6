"""The data protection officer's pages: agreements (read, filter, make, end), the audit log with its filters, paging
and verification, break-glass reviews, and the home page's panel; and who is refused them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from service_support import SETUP, as_superuser, form_csrf, login_as
from service_world import World, agreement_for, build_world
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access import audit
from commonground.access.agreements import About, create_agreement, in_force
from commonground.access.models import Agreement, AuditEvent, BreakGlassReport
from commonground.access.purposes import Purpose
from commonground.store.db import utcnow


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=True)


def _dpo(client: TestClient, sessions: sessionmaker[Session], world: World) -> str:
    return login_as(client, sessions, world.users["dpo@la.example"])


def _agreement_form(**change: object) -> dict[str, object]:
    return {
        "reference": "DSA-DAS-2026",
        "title": "Recovery service sees adults' emergency attendances",
        "organisation": "DAS",
        "feeds": ["ed_attendances", "custody_records"],
        "about": ["everyone"],
        "purposes": ["safeguarding_adults"],
        "lawful_basis": "UK GDPR 6(1)(e); Care Act 2014 s42",
        "valid_from": "2026-01-01",
        "valid_until": "",
        **change,
    }


def test_the_dpo_sees_every_agreement_and_filters_them(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    _dpo(client, sessions, world)
    page = client.get("/agreements")
    assert page.status_code == 200
    for reference in world.agreements:
        assert reference in page.text
    assert 'href="/agreements/new"' in page.text
    only_pht = client.get("/agreements?organisation=PHT")
    assert "DSA-PHT" in only_pht.text and "DSA-LA" not in only_pht.text
    assert "DSA-LA" not in client.get("/agreements?state=ended").text
    assert "DSA-LA" in client.get("/agreements?state=in_force").text


def test_a_practitioner_sees_only_their_own_agreements_and_cannot_make_one(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = login_as(client, sessions, world.users["hub@la.example"])
    page = client.get("/agreements")
    assert page.status_code == 200 and "DSA-LA" in page.text and "DSA-PHT" not in page.text
    assert 'href="/agreements/new"' not in page.text
    assert 'href="/agreements"' not in client.get("/").text  # the menu offers it to the DPO only
    assert client.get(f"/agreements/{world.spare_agreement}").status_code == 404
    assert client.get("/agreements/new").status_code == 403
    made = client.post("/agreements", data={**_agreement_form(), "csrf_token": csrf})
    assert made.status_code == 403
    ended = client.post(
        f"/agreements/{world.agreements['DSA-LA'][0]}/end", data={"csrf_token": csrf, "reason": "x" * 9}
    )
    assert ended.status_code == 403


def test_the_dpo_makes_an_agreement_through_the_form(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    _dpo(client, sessions, world)
    form = client.get("/agreements/new")
    assert form.status_code == 200
    token = form_csrf(form.text)
    empty = client.post("/agreements", data={"csrf_token": token})
    assert empty.status_code == 400
    assert "There is a problem" in empty.text and "Choose at least one purpose" in empty.text
    assert "<title>Error:" in empty.text
    school = client.post("/agreements", data={**_agreement_form(organisation="SCHA"), "csrf_token": token})
    assert school.status_code == 400 and "never everyone" in school.text
    backwards = client.post("/agreements", data={**_agreement_form(valid_until="2025-01-01"), "csrf_token": token})
    assert backwards.status_code == 400 and "on or after the start date" in backwards.text
    made = client.post("/agreements", data={**_agreement_form(), "csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    assert "The agreement has been made" in page.text
    assert "Northshire Recovery Service" in page.text and "Care Act 2014 s42" in page.text
    assert "Created" in page.text
    with sessions() as db:
        agreement = db.scalars(select(Agreement).where(Agreement.reference == "DSA-DAS-2026")).one()
        assert agreement.feeds == ["custody_records", "ed_attendances"]
        assert in_force(agreement, at=utcnow())
    again = client.post("/agreements", data={**_agreement_form(), "csrf_token": token})
    assert again.status_code == 400 and "already exists" in again.text


def test_the_dpo_ends_an_agreement_with_a_reason(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    _dpo(client, sessions, world)
    agreement_id = world.agreements["DSA-LA"][0]
    page = client.get(f"/agreements/{agreement_id}")
    assert page.status_code == 200 and "End this agreement" in page.text
    token = form_csrf(page.text)
    no_reason = client.post(f"/agreements/{agreement_id}/end", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 400 and "Give the reason" in no_reason.text
    ended = client.post(
        f"/agreements/{agreement_id}/end",
        data={"csrf_token": token, "reason": "Replaced by the new county agreement"},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    after = client.get(ended.headers["location"])
    assert "Access under it stopped at once" in after.text and "Replaced by the new county agreement" in after.text
    assert "End this agreement" not in after.text
    with sessions() as db:
        assert not in_force(db.get_one(Agreement, agreement_id), at=utcnow())
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "manage-agreements").order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None and event.detail["change"] == "ended"
    assert "DSA-LA" in client.get("/agreements?state=ended").text


def test_the_audit_log_page_filters_and_pages(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions() as db:
        audit.record_many(
            db,
            [
                audit.Event(
                    actor=SETUP,
                    action="view-person",
                    subject_type="person",
                    subject_id="P-MANY",
                    person_id="P-MANY",
                    purpose="safeguarding_children",
                )
                for _ in range(60)
            ],
        )
        db.commit()
    _dpo(client, sessions, world)
    page = client.get("/audit")
    assert page.status_code == 200 and "Older entries" in page.text
    older = re.search(r'href="(/audit\?before=\d+)"', page.text)
    assert older is not None
    assert client.get(older.group(1)).status_code == 200
    person = client.get("/audit?person=P-MANY")
    assert person.text.count("<tr>") == 51  # header + one page of 50
    second = re.search(r'href="(/audit\?person=P-MANY&amp;before=\d+)"', person.text)
    assert second is not None
    rest = client.get(second.group(1).replace("&amp;", "&"))
    assert rest.text.count("<tr>") == 11 and "Older entries" not in rest.text
    glass = client.get("/audit?glass=yes")
    assert "P-GLASS" in glass.text and "P-MANY" not in glass.text
    who = client.get("/audit?who=officer@pol.example")
    assert "P-GLASS" in who.text and "P-MANY" not in who.text
    today = utcnow().date()
    assert "P-MANY" in client.get(f"/audit?since={today}&until={today + dt.timedelta(days=1)}").text
    assert "P-MANY" not in client.get(f"/audit?until={today - dt.timedelta(days=2)}").text
    assert "Enter a date like" in client.get("/audit?since=yesterday").text
    assert "P-MANY" not in client.get("/audit?outcome=denied").text
    assert "P-MANY" in client.get("/audit?action=view-person").text


@pytest.mark.parametrize("email", ["hub@la.example", "admin@la.example", "analyst@pht.example"])
def test_only_the_dpo_opens_the_audit_pages(
    client: TestClient, sessions: sessionmaker[Session], world: World, email: str
) -> None:
    csrf = login_as(client, sessions, world.users[email])
    for path in ("/audit", "/audit/verify", "/audit/break-glass"):
        assert client.get(path).status_code == 403, path
    review = client.post(
        f"/audit/break-glass/{world.break_glass_report}/review", data={"csrf_token": csrf, "note": "fine by me"}
    )
    assert review.status_code == 403
    with sessions() as db:
        refusals = db.scalars(
            select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.action == "view-audit")
        ).all()
        assert refusals  # a refusal of a signed-in person is audited


def test_verify_says_intact_then_names_the_edited_entry(
    client: TestClient, sessions: sessionmaker[Session], world: World, engine: Engine
) -> None:
    _dpo(client, sessions, world)
    page = client.get("/audit/verify")
    assert page.status_code == 200
    assert re.search(r"The audit log is intact: [\d,]+ entries checked", page.text)
    with sessions() as db:
        target = db.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq).offset(3)).first()
    as_superuser(engine, f"UPDATE audit_events SET actor = 'someone else' WHERE seq = {target}")
    broken = client.get("/audit/verify")
    assert "The audit log has been tampered with" in broken.text
    assert f"Entry {target} was edited after it was written" in broken.text


def test_the_dpo_reviews_a_break_glass_access(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    _dpo(client, sessions, world)
    page = client.get("/audit/break-glass")
    assert page.status_code == 200
    assert "Waiting for review (1)" in page.text and "Child at immediate risk" in page.text
    token = form_csrf(page.text)
    url = f"/audit/break-glass/{world.break_glass_report}/review"
    empty = client.post(url, data={"csrf_token": token, "note": ""})
    assert empty.status_code == 400 and "was the access justified" in empty.text
    done = client.post(
        url, data={"csrf_token": token, "note": "Spoke to the officer: justified."}, follow_redirects=False
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "Waiting for review (0)" in after.text and "Spoke to the officer: justified." in after.text
    again = client.post(url, data={"csrf_token": token, "note": "second go"}, follow_redirects=False)
    assert again.status_code == 303 and "already-reviewed" in again.headers["location"]
    with sessions() as db:
        report = db.get_one(BreakGlassReport, world.break_glass_report)
        assert report.review_note == "Spoke to the officer: justified."
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "review-break-glass")).one()


def test_the_dpo_sees_their_review_recorded(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    _dpo(client, sessions, world)
    token = form_csrf(client.get("/audit/break-glass").text)
    done = client.post(
        f"/audit/break-glass/{world.break_glass_report}/review",
        data={"csrf_token": token, "note": "Spoke to the officer: justified."},
    )
    assert done.status_code == 200 and done.url.params["done"] == "break-glass-reviewed"
    assert "Your review of the break-glass access has been recorded." in done.text
    assert "Your review has been recorded." not in done.text  # the library's words, once shown here by mistake


def test_a_report_reviewed_already_is_refused_alike_by_the_api_and_the_page(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    """One review operation for both faces: the API answers 409 with the reason, the page says the same words."""
    csrf = _dpo(client, sessions, world)
    api = f"/api/break-glass/{world.break_glass_report}/review"
    headers = {"X-CSRF-Token": csrf}
    first = client.post(api, json={"note": "Justified: child at risk."}, headers=headers)
    assert first.status_code == 200 and first.json()["review_note"] == "Justified: child at risk."
    again = client.post(api, json={"note": "A second look."}, headers=headers)
    assert again.status_code == 409
    assert again.json() == {"detail": "that break-glass access had already been reviewed"}
    token = form_csrf(client.get("/audit/break-glass").text)
    page = client.post(
        f"/audit/break-glass/{world.break_glass_report}/review", data={"csrf_token": token, "note": "A third look."}
    )
    assert page.status_code == 200 and page.url.params["done"] == "already-reviewed"
    assert "That break-glass access had already been reviewed." in page.text
    with sessions() as db:
        assert db.get_one(BreakGlassReport, world.break_glass_report).review_note == "Justified: child at risk."
        assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "review-break-glass")).all()) == 1


def test_the_dpo_home_page_shows_what_waits(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    today = utcnow().date()
    with sessions() as db:
        spec = agreement_for("NHS", "ed_attendances", Purpose.DIRECT_CARE, about=About.EVERYONE)
        create_agreement(
            db,
            spec=spec.model_copy(update={"reference": "DSA-NHS-ENDING", "valid_until": today + dt.timedelta(days=10)}),
            by=SETUP,
        )
        create_agreement(
            db,
            spec=spec.model_copy(update={"reference": "DSA-NHS-LATER", "valid_until": today + dt.timedelta(days=90)}),
            by=SETUP,
        )
        db.commit()
    _dpo(client, sessions, world)
    home = client.get("/")
    assert home.status_code == 200
    assert re.search(r'id="break-glass-waiting">1<', home.text)
    assert re.search(r'id="agreements-ending">1<', home.text)
    assert 'href="/audit/break-glass"' in home.text
    assert 'href="/agreements"' in home.text  # the menu
    practitioner = TestClient(client.app, base_url="https://testserver")
    login_as(practitioner, sessions, world.users["hub@la.example"])
    assert "break-glass-waiting" not in practitioner.get("/").text
