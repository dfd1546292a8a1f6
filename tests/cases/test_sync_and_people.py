"""The hub over a real linked area: ``hub sync`` turns the build's flags into work items routed to the demo
partnership without duplicates, lays out the person view, and the person pages and API show each partner only the
feeds its agreements open for the purpose it gives."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_support import login_as, principal_of
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import verify_audit
from commonground.access.models import AuditEvent, User
from commonground.access.purposes import Purpose
from commonground.access.resolver import StoreFacts, feeds_open_to
from commonground.access.roles import Role
from commonground.cases.demo import seed_partnership
from commonground.cases.person_documents import DOCUMENTS_FILE, assemble_document
from commonground.cases.person_view import PersonView, view_path
from commonground.cases.sync import coverage_gaps, sync_current_build
from commonground.cases.work_items import WorkItem
from commonground.linkage.builds import require_current_build
from commonground.store.db import utcnow
from commonground.store.settings import HubSettings
from commonground.web.api.people import PersonOut
from commonground.web.app import create_app

MORNING = dt.datetime(2026, 11, 1, 7, 0)


@dataclass(frozen=True)
class LinkedArea:
    data_dir: Path


@pytest.fixture(scope="module")
def linked_area(tmp_path_factory: pytest.TempPathFactory) -> LinkedArea:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("hub-area")
    generate(people=3000, seed=11, out=root / "area")
    data_dir = root / "data"
    ingest_directory(source=root / "area", data_dir=data_dir)
    build = build_from_store(data_dir=data_dir)
    run_rules(build_dir=build.path, as_of=MORNING)
    return LinkedArea(data_dir=data_dir)


@pytest.fixture
def area(linked_area: LinkedArea, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(linked_area.data_dir, target)
    return target


@pytest.fixture
def hub_app(area: Path, engine: Engine) -> FastAPI:
    settings = HubSettings(data_dir=area, secret_key="s" * 40, cookie_secure=True)  # type: ignore[arg-type]
    return create_app(settings, engine=engine)


def _seed_and_sync(sessions: sessionmaker[Session], data_dir: Path) -> int:
    build = require_current_build(data_dir)
    with sessions() as db:
        seed_partnership(db, build_path=build.path, password="correct horse battery staple")
        result = sync_current_build(db, data_dir=data_dir)
        db.commit()
    assert not result.unmapped_routes
    assert not result.work_items.unroutable
    assert result.pupils > 0
    return result.work_items.created


def _flag_count(data_dir: Path) -> int:
    build = require_current_build(data_dir)
    con = duckdb.connect(str(build.path / "rules.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM flags").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_sync_routes_every_flag_once_and_never_twice(area: Path, sessions: sessionmaker[Session]) -> None:
    created = _seed_and_sync(sessions, area)
    assert created == _flag_count(area) > 0
    with sessions() as db:
        again = sync_current_build(db, data_dir=area)
        db.commit()
        assert again.work_items.created == 0
        assert again.work_items.already_seen == created
        assert again.pupils_added == 0
        assert len(db.scalars(select(WorkItem)).all()) == created
        assert verify_audit(db).ok


def test_the_rule_packs_in_use_are_kept_with_history(
    area: Path, hub_app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    from commonground.cases.rule_packs import RulePackVersion

    _seed_and_sync(sessions, area)
    with sessions() as db:
        rows = db.scalars(select(RulePackVersion)).all()
        assert {r.pack for r in rows} == {"ace", "adult", "notices"}
        assert all(r.rules and r.routing["version"] for r in rows)
        again = sync_current_build(db, data_dir=area)
        db.commit()
        assert again.rule_packs_changed == ()
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "rule-packs-in-use")).all()
        assert len(events) == 3
        dpo = db.scalars(select(User.id).where(User.email == "dpo@qxla.example")).one()
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, dpo)
    shown = client.get("/rule-packs", headers={"Accept": "text/html"})
    assert shown.status_code == 200 and "ace.domestic_abuse" in shown.text


def test_the_demo_partnership_can_open_every_flag_routed_to_it(area: Path, sessions: sessionmaker[Session]) -> None:
    _seed_and_sync(sessions, area)
    with sessions() as db:
        gaps = coverage_gaps(db, build_path=require_current_build(area).path, at=dt.datetime.now(dt.UTC))
    assert [str(g) for g in gaps] == []


def test_the_person_view_holds_every_linked_record(area: Path, sessions: sessionmaker[Session]) -> None:
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    con = duckdb.connect(str(build.path / "build.duckdb"), read_only=True)
    person_id, count = con.execute(
        "SELECT person_id, count(*) AS n FROM person_records GROUP BY person_id ORDER BY n DESC, person_id LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    con.close()
    view = PersonView(_view_file(build.path))
    try:
        feeds = view.feeds_of(person_id)
        records = view.records(person_id, feeds=feeds)
        assert len(records) == count
        events = view.events(person_id, feeds=feeds)
        assert len(events) == count
        moments = [e.at for e in events if e.at is not None]
        assert moments == sorted(moments, reverse=True)
        one = next(iter(feeds))
        assert {r.feed for r in view.records(person_id, feeds=frozenset({one}))} == {one}
        assert view.identity(person_id) is not None and view.identity("nobody") is None
    finally:
        view.close()


def _user(sessions: sessionmaker[Session], email: str) -> int:
    with sessions() as db:
        return db.scalars(select(User.id).where(User.email == email)).one()


def test_a_practitioner_opens_a_flag_and_the_person_with_a_purpose(
    area: Path, hub_app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    _seed_and_sync(sessions, area)
    with sessions() as db:
        item = db.scalars(select(WorkItem).where(WorkItem.rule_id != "notice.school_domestic_abuse")).first()
        assert item is not None
        user = db.scalars(
            select(User).where(User.organisation_id == item.organisation_id, User.role == item.role)
        ).first()
        assert user is not None
        item_id, person_id, user_id, purpose = item.id, item.person_id, user.id, item.purpose
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, user_id)
    html = {"Accept": "text/html"}
    queue = client.get("/queue", headers=html)
    assert queue.status_code == 200 and f"/queue/{item_id}" in queue.text
    opened = client.get(f"/queue/{item_id}", headers=html)
    assert opened.status_code == 200 and "Why this was flagged" in opened.text
    asked = client.get(f"/people/{person_id}", headers=html)
    assert asked.status_code == 200 and "Why are you opening this record?" in asked.text
    page = client.get(f"/people/{person_id}?purpose={purpose.value}", headers=html)
    assert page.status_code == 200
    for section in ("Identity as linked", "Indicators and flags", "Timeline", "Household over time", "Notes"):
        assert section in page.text
    api = client.get(f"/api/people/{person_id}?purpose={purpose.value}")
    assert api.status_code == 200
    body = api.json()
    assert body["identity"]["person_id"] == person_id and body["records"]
    with sessions() as db:
        reads = db.scalars(
            select(AuditEvent).where(AuditEvent.person_id == person_id, AuditEvent.action == "view-person")
        ).all()
        assert len(reads) == 2 and {r.purpose for r in reads} == {purpose.value}


def test_each_partner_sees_only_the_feeds_its_agreements_open(
    area: Path, hub_app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    con = duckdb.connect(str(build.path / "build.duckdb"), read_only=True)
    person_id = con.execute(
        "SELECT person_id FROM person_records GROUP BY person_id "
        "HAVING count(DISTINCT feed) FILTER (WHERE feed IN ('mental_health_contacts', 'childrens_social_care')) = 2 "
        "LIMIT 1"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, _user(sessions, "control-room@qxmh.example"))
    nhs = client.get(f"/api/people/{person_id}?purpose=mental_health_crisis_care").json()
    assert "childrens_social_care" not in nhs["feeds_shown"] and nhs["feeds_withheld"] >= 1
    assert all(r["feed"] != "childrens_social_care" for r in nhs["records"])
    login_as(client, sessions, _user(sessions, "mash@qxla.example"))
    mash = client.get(f"/api/people/{person_id}?purpose=safeguarding_children").json()
    assert {"childrens_social_care", "mental_health_contacts"} <= set(mash["feeds_shown"])
    refused = client.get(f"/api/people/{person_id}?purpose=crime_prevention")
    assert refused.status_code == 404


def test_a_school_opens_only_its_own_pupils(area: Path, hub_app: FastAPI, sessions: sessionmaker[Session]) -> None:
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    con = duckdb.connect(str(build.path / "build.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT pr.person_id, CAST(f.school_urn AS VARCHAR) FROM feed_school_roll f JOIN person_records pr "
        "ON pr.feed = 'school_roll' AND pr.record_id = f.record_id WHERE f.left_on IS NULL ORDER BY 1"
    ).fetchall()
    con.close()
    pupil, urn = rows[0]
    other = next(p for p, u in rows if u != urn)
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, _user(sessions, f"dsl@urn{urn}.example"))
    own = client.get(f"/api/people/{pupil}?purpose=operation_encompass")
    assert own.status_code == 200
    assert set(own.json()["feeds_shown"]) <= {"police_incidents", "police_incident_persons", "school_roll"}
    assert client.get(f"/api/people/{other}?purpose=operation_encompass").status_code == 404
    page = client.get(f"/people/{other}?purpose=operation_encompass", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "break glass" not in page.text.lower()


def _view_file(build_path: Path) -> Path:
    found = view_path(build_path)
    assert found is not None, "hub sync lays out a view"
    return found


def _people_to_compare(build_path: Path) -> list[str]:
    """Every person with an indicator, a flag or a household, the ten with the most records, and every tenth."""
    con = duckdb.connect(str(_view_file(build_path)), read_only=True)
    try:
        rows = con.execute(
            "SELECT person_id FROM evidence UNION SELECT person_id FROM household_periods "
            "UNION (SELECT person_id FROM identity ORDER BY record_count DESC, person_id LIMIT 10) "
            "UNION SELECT person_id FROM identity WHERE hash(person_id) % 10 = 0"
        ).fetchall()
    finally:
        con.close()
    return sorted(str(r[0]) for r in rows)


def test_each_person_document_is_what_the_detailed_queries_give(area: Path, sessions: sessionmaker[Session]) -> None:
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    assert (_view_file(build.path).parent / DOCUMENTS_FILE).exists()
    view = PersonView(_view_file(build.path))
    try:
        people = _people_to_compare(build.path)
        assert len(people) > 300
        for person_id in people:
            assert view.document(person_id) == assemble_document(view, person_id), person_id
        assert view.document("nobody") is None
    finally:
        view.close()


def _feeds_in(body: dict[str, Any]) -> dict[str, set[str]]:
    evidence = [e for section in ("indicators", "flags") for r in body[section] for e in r["evidence"]]
    return {
        "records": {r["feed"] for r in body["records"]},
        "events": {e["feed"] for e in body["events"]},
        "evidence": {e["feed"] for e in evidence},
    }


def test_the_api_answers_in_its_schema_with_only_the_feeds_the_agreements_open(
    area: Path, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """From the person documents and, with them removed, from the detailed queries: the same answer, in the shape
    of ``PersonOut``, and nothing from a feed the caller's agreements do not open for the purpose."""
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    con = duckdb.connect(str(_view_file(build.path)), read_only=True)
    people = [
        str(r[0])
        for r in con.execute(
            "SELECT person_id FROM (SELECT DISTINCT person_id FROM evidence WHERE feed IN "
            "('childrens_social_care', 'ed_attendances', 'mental_health_contacts', 'police_incident_persons')) "
            "ORDER BY person_id LIMIT 12"
        ).fetchall()
    ]
    con.close()
    callers = [("control-room@qxmh.example", Purpose.MENTAL_HEALTH_CRISIS_CARE)]
    callers += [("mash@qxla.example", Purpose.SAFEGUARDING_CHILDREN)]
    answers: dict[tuple[str, str], Any] = {}
    for layout in ("documents", "detailed queries"):
        if layout == "detailed queries":
            (_view_file(build.path).parent / DOCUMENTS_FILE).unlink()
        settings = HubSettings(data_dir=area, secret_key="s" * 40, cookie_secure=True)  # type: ignore[arg-type]
        client = TestClient(create_app(settings, engine=engine), base_url="https://testserver")
        for email, purpose in callers:
            user_id = _user(sessions, email)
            login_as(client, sessions, user_id)
            for person_id in people:
                response = client.get(f"/api/people/{person_id}?purpose={purpose.value}")
                if response.status_code == 404:
                    continue
                assert response.status_code == 200, response.text
                body = response.json()
                assert PersonOut.model_validate(body).model_dump(mode="json") == body
                with sessions() as db:
                    principal = principal_of(db.get_one(User, user_id))
                    allowed = feeds_open_to(
                        principal, person_id=person_id, purpose=purpose, facts=StoreFacts(db), at=utcnow()
                    )
                shown = set(body["feeds_shown"])
                assert shown <= allowed
                found = _feeds_in(body)
                assert found["records"] <= shown and found["events"] <= shown and found["evidence"] <= allowed
                answers.setdefault((email, person_id), body)
                assert answers[(email, person_id)] == body, layout
    assert len(answers) >= 12
    assert any(b["feeds_withheld"] for b in answers.values())  # the mental-health trust does not see everything


def test_the_person_endpoint_reads_agreements_and_relationships_once(
    area: Path, hub_app: FastAPI, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """One read of each per request (the agreements in the same statement as who is asking); relationships only
    when an agreement that could decide is about fewer people than everyone (the MASH's agreement is about
    everyone; a school's, about its own pupils): then the person's, and one statement for everyone else their
    inferences rest on (the household, #16), however many they are."""
    _seed_and_sync(sessions, area)
    build = require_current_build(area)
    con = duckdb.connect(str(build.path / "build.duckdb"), read_only=True)
    pupil, urn = con.execute(
        "SELECT pr.person_id, CAST(f.school_urn AS VARCHAR) FROM feed_school_roll f JOIN person_records pr "
        "ON pr.feed = 'school_roll' AND pr.record_id = f.record_id WHERE f.left_on IS NULL ORDER BY 1 LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    con.close()
    client = TestClient(hub_app, base_url="https://testserver")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    for email, purpose, relationships in (
        ("mash@qxla.example", "safeguarding_children", {0}),
        (f"dsl@urn{urn}.example", "operation_encompass", {1, 2}),
    ):
        login_as(client, sessions, _user(sessions, email))
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert client.get(f"/api/people/{pupil}?purpose={purpose}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        signing_in = [s for s in statements if "FROM sign_in_sessions" in s]
        assert len(signing_in) == 1 and "JOIN agreements" in signing_in[0], email  # who asks, and their agreements
        assert sum("agreements" in s for s in statements) == 1, email
        assert sum("FROM person_relationships" in s for s in statements) in relationships, email
        assert sum("INSERT INTO audit_events" in s for s in statements) == 1, email


@pytest.mark.parametrize("padding", ["." * 25, "\u200b" * 25 + "x", "a b c d e f g h i j k l"])
def test_the_person_page_refuses_a_break_glass_reason_that_is_not_words(
    area: Path, hub_app: FastAPI, sessions: sessionmaker[Session], padding: str
) -> None:
    """The page asks the same question of a reason as the resolver does (#18): dots, invisible characters or
    single letters are no reason; nothing is opened and nothing is reported to the DPO."""
    _seed_and_sync(sessions, area)
    with sessions() as db:
        user = db.scalars(select(User).where(User.role == Role.HUB_PRACTITIONER)).first()
        assert user is not None
        user_id = user.id
    person_id = _person_ids(area)[0]
    client = TestClient(hub_app, base_url="https://testserver")
    csrf = login_as(client, sessions, user_id)
    refused = client.post(
        f"/people/{person_id}/break-glass",
        data={"purpose": "crime_prevention", "reason": padding, "csrf_token": csrf},
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 400
    assert "Give a reason" in refused.text and "Identity as linked" not in refused.text
    with sessions() as db:
        assert not db.scalars(select(AuditEvent).where(AuditEvent.break_glass.is_(True))).all()


def _person_ids(data_dir: Path) -> list[str]:
    con = duckdb.connect(str(require_current_build(data_dir).path / "build.duckdb"), read_only=True)
    try:
        return [str(r[0]) for r in con.execute("SELECT person_id FROM persons ORDER BY person_id LIMIT 3").fetchall()]
    finally:
        con.close()


def test_the_analyst_reads_the_published_statistics_and_no_person(
    area: Path, hub_app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    """#19: the public-health analyst's pages show the build's disclosure-controlled tables, a chart and the rule
    applied to each, with CSV downloads; the analyst still opens no person's record."""
    _seed_and_sync(sessions, area)
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, _user(sessions, "analyst@qxph.example"))
    index = client.get("/statistics")
    assert index.status_code == 200, index.text
    names = sorted(set(re.findall(r'href="/statistics/([a-z0-9_]+)"', index.text)))
    assert "children_by_ace_count_and_deprivation" in names or len(names) >= 8, names
    for name in names:
        page = client.get(f"/statistics/{name}")
        assert page.status_code == 200 and "Small-number rule applied" in page.text, name
        assert "<svg" in page.text
        download = client.get(f"/statistics/{name}/csv")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        for person_id in _person_ids(area):
            assert person_id not in page.text and person_id not in download.text
    assert client.get("/statistics/no_such_table").status_code == 404
    person = _person_ids(area)[0]
    assert client.get(f"/people/{person}?purpose=safeguarding_children").status_code == 403
