"""The evaluations page over a small real linked area: a cohort uploaded as CSV (or taken from closed referrals) is
evaluated on the current build and the result shown with its figures, balance, chart and caveats; bad rows are
refused with the row and the field named and nothing lost; the run is audited without person ids; roles without
the action are refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_support import SETUP, form_csrf, login_as
from service_world import World, build_world
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import verify_audit
from commonground.access.models import AuditEvent
from commonground.access.purposes import Purpose
from commonground.access.roles import Role
from commonground.cases.referrals import Consent, Referral, ReferralStatus
from commonground.engine import create_engine
from commonground.evaluation import SmallNumbers, records
from commonground.evaluation.outcomes import outcome_named
from commonground.store.settings import HubSettings
from commonground.web.app import create_app
from commonground.whatworks.seed import seed_library

OUTCOME = "ed_assault"  # the commonest outcome in a small area
NO_SUPPRESSION = SmallNumbers(suppress_up_to=0, round_to=1, name="none (test)")


@dataclass(frozen=True)
class Area:
    data_dir: Path
    cohort: list[tuple[str, dt.date]]


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Area:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("evaluation-area")
    generate(people=2500, seed=11, out=root / "area", on_progress=None)
    data_dir = root / "data"
    ingest_directory(source=root / "area", data_dir=data_dir)
    build = build_from_store(data_dir=data_dir)
    spec = outcome_named(OUTCOME)
    with create_engine("duckdb") as db:
        schema = db.attach_build(build.path)
        available = set(records.CONTACT_SOURCES) - set(records.stage_sources(db, schema))
        records.stage_outcome(db, spec, available)
        end = records.data_end(db)
        assert end is not None
        pool = records.comparison_candidates(db, first=dt.date(2015, 1, 1), last=end)
    people = list(zip(pool.column("person_id").to_pylist(), pool.column("index_date").to_pylist(), strict=True))
    cohort = [(str(p), d) for i, (p, d) in enumerate(people) if i % 2 == 0]
    assert len(cohort) >= 40
    return Area(data_dir=data_dir, cohort=cohort)


@pytest.fixture
def hub_app(area: Area, engine: Engine) -> FastAPI:
    settings = HubSettings(data_dir=area.data_dir, secret_key="s" * 40, cookie_secure=True)
    return create_app(settings, engine=engine)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions, with_agreements=False)


def _user(world: World, role: Role) -> int:
    return next(world.users[email] for email, r in world.roles.items() if r == role)


def _client(hub_app: FastAPI, sessions: sessionmaker[Session], user_id: int) -> tuple[TestClient, str]:
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, user_id)
    page = client.get("/evaluations")
    assert page.status_code == 200, page.text
    return client, form_csrf(page.text)


def _csv(rows: list[tuple[str, str]]) -> bytes:
    return ("person_id,start_date\n" + "".join(f"{p},{d}\n" for p, d in rows)).encode()


def _run(client: TestClient, token: str, data: bytes, **fields: str) -> httpx.Response:
    form = {"csrf_token": token, "source": "file", "outcome": OUTCOME, "window_days": "183", **fields}
    response: httpx.Response = client.post(
        "/evaluations", data=form, files={"cohort_file": ("cohort.csv", data, "text/csv")}
    )
    return response


def test_the_page_explains_and_lists_the_outcomes(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World
) -> None:
    client = TestClient(hub_app, base_url="https://testserver")
    login_as(client, sessions, _user(world, Role.PUBLIC_HEALTH_ANALYST))
    html = client.get("/evaluations").text
    assert "observational comparison, not a trial" in html
    assert "An emergency-department attendance for assault" in html
    assert "Another mental-health crisis known to any agency" in html
    assert 'enctype="multipart/form-data"' in html
    assert 'id="no-build"' not in html


def test_an_uploaded_cohort_gives_the_figures_and_is_audited(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    hub_app.state.evaluation_rule = NO_SUPPRESSION  # an area's own rule; none here, so the figures show
    client, token = _client(hub_app, sessions, _user(world, Role.HUB_PRACTITIONER))
    rows = [(p, d.isoformat()) for p, d in area.cohort]
    response = _run(client, token, _csv(rows))
    assert response.status_code == 200, response.text
    html: str = response.text
    assert f"Rows read from the file: <strong>{len(rows)}</strong> = used {len(rows)} + refused 0" in html
    assert 'id="risks"' in html and 'id="estimates"' in html
    assert "Risk ratio" in html and "95 % CI" in html
    assert 'id="risk-chart"' in html and "<svg" in html and "cg-chart__whisker" in html
    assert 'id="balance"' in html and "Before matching" in html
    assert "observational comparison, not a trial" in html
    assert 'id="did"' in html
    assert not any(p in html for p, _ in area.cohort), "no person id comes out"

    with sessions() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "run-evaluation")).all()
        assert len(events) == 1
        detail = events[0].detail
        assert detail["outcome"] == OUTCOME and detail["cohort_size"] == len(rows)
        assert events[0].person_id is None
        assert not any(p in str(detail) for p, _ in area.cohort)
        assert verify_audit(db).ok

    download = _run(client, token, _csv(rows), format="csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    text: str = download.text
    rows_back = [tuple(r[:2]) for r in csv.reader(io.StringIO(text))]  # read as a spreadsheet would
    assert ("effect", "risk_ratio") in rows_back and ("balance_smd_after", "age") in rows_back
    assert not any(p in text for p, _ in area.cohort)


def test_small_numbers_withhold_the_estimate_by_default(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    client, token = _client(hub_app, sessions, _user(world, Role.PUBLIC_HEALTH_ANALYST))
    few = [(p, d.isoformat()) for p, d in area.cohort[:12]]
    html: str = _run(client, token, _csv(few)).text
    assert 'id="withheld"' in html and "withheld (small numbers)" in html
    assert 'id="risk-chart"' not in html
    assert 'id="balance"' in html


def test_a_bad_row_is_named_and_nothing_is_lost(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    client, token = _client(hub_app, sessions, _user(world, Role.HUB_PRACTITIONER))
    good = [(p, d.isoformat()) for p, d in area.cohort]
    rows = [good[0], (good[1][0], "31/12/2024"), ("", "2024-01-01"), *good[2:]]
    response = _run(client, token, _csv(rows))
    assert response.status_code == 400
    html: str = response.text
    assert "Row 2 (line 3 of the file), start_date: not a date in the form YYYY-MM-DD" in html
    assert "Row 3 (line 4 of the file), person_id: it is blank" in html
    assert f"Rows read: <strong>{len(rows)}</strong> = used {len(rows) - 2} + refused 2" in html
    assert "31/12/2024" not in html, "a refused value is never echoed"
    with sessions() as db:
        assert db.scalars(select(AuditEvent).where(AuditEvent.action == "run-evaluation")).all() == []

    hub_app.state.evaluation_rule = NO_SUPPRESSION
    response = _run(client, token, _csv(rows), skip_refused="yes")
    assert response.status_code == 200
    assert f"<strong>{len(rows)}</strong> = used {len(rows) - 2} + refused 2" in response.text


def test_a_file_without_the_columns_is_refused(hub_app: FastAPI, sessions: sessionmaker[Session], world: World) -> None:
    client, token = _client(hub_app, sessions, _user(world, Role.HUB_PRACTITIONER))
    response = _run(client, token, b"id,when\nP1,2024-01-01\n")
    assert response.status_code == 400
    assert "needs a first row naming the columns person_id and start_date" in response.text


def test_a_cohort_from_closed_referrals(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    hub_app.state.evaluation_rule = NO_SUPPRESSION
    sender = _user(world, Role.HUB_PRACTITIONER)
    partner = world.organisations["DAS"]
    with sessions() as db:
        for person_id, start in area.cohort:
            sent = dt.datetime.combine(start, dt.time(10), tzinfo=dt.UTC)
            db.add(
                Referral(
                    person_id=person_id,
                    from_organisation_id=world.organisations["LA"],
                    from_user_id=sender,
                    to_organisation_id=partner,
                    summary="synthetic",
                    consent=Consent.GIVEN,
                    lawful_basis="synthetic",
                    purpose=Purpose.SAFEGUARDING_ADULTS,
                    status=ReferralStatus.CLOSED,
                    outcome="seen and supported",
                    created_at=sent,
                    updated_at=sent,
                    closed_at=sent + dt.timedelta(days=30),
                )
            )
        db.commit()
    client, token = _client(hub_app, sessions, sender)
    form = {
        "csrf_token": token,
        "source": "referrals",
        "organisation_id": str(partner),
        "closed_from": "2000-01-01",
        "closed_to": "2030-12-31",
        "outcome": OUTCOME,
        "window_days": "183",
    }
    response = client.post("/evaluations", data=form, files={"cohort_file": ("", b"", "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert 'id="estimates"' in response.text
    with sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "run-evaluation")).one()
        assert event.detail["source"] == "referrals" and event.detail["cohort_size"] == len(area.cohort)

    empty = client.post("/evaluations", data={**form, "closed_to": "2000-01-02"})
    assert empty.status_code == 400
    assert "No referral to that partner was closed with an outcome in those dates" in empty.text


@pytest.mark.parametrize("role", [Role.POLICE_OFFICER, Role.SCHOOL_SAFEGUARDING_LEAD, Role.DATA_PROTECTION_OFFICER])
def test_roles_without_the_action_are_refused(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area, role: Role
) -> None:
    client = TestClient(hub_app, base_url="https://testserver")
    token = login_as(client, sessions, _user(world, role))
    assert client.get("/evaluations").status_code == 403
    rows = [(p, d.isoformat()) for p, d in area.cohort[:5]]
    assert _run(client, token, _csv(rows)).status_code == 403
    with sessions() as db:
        runs = db.scalars(select(AuditEvent).where(AuditEvent.action == "run-evaluation")).all()
        assert runs and all(e.outcome == "denied" for e in runs)


def test_a_result_is_linked_to_a_library_entry_as_local(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    with sessions() as db:
        entry_id = seed_library(db, SETUP)[0].id
        db.commit()
    hub_app.state.evaluation_rule = NO_SUPPRESSION
    client, token = _client(hub_app, sessions, _user(world, Role.PUBLIC_HEALTH_ANALYST))
    html = _run(client, token, _csv([(p, d.isoformat()) for p, d in area.cohort])).text
    assert 'action="/evaluations/link"' in html
    figures = re.search(r'<textarea[^>]*name="figures"[^>]*>([^<]*)</textarea>', html)
    assert figures is not None and "risk ratio: " in figures.group(1)
    linked = client.post(
        "/evaluations/link",
        data={
            "csrf_token": token,
            "entry_id": str(entry_id),
            "title": "Local evaluation: assaults",
            "evaluated_on": "2026-11-01",
            "summary": "Observational.",
            "figures": unescape(figures.group(1)),
        },
        follow_redirects=False,
    )
    assert linked.status_code == 303
    assert linked.headers["location"].startswith(f"/library/{entry_id}")
    entry_page = client.get(f"/library/{entry_id}").text
    assert "Local evaluation: assaults" in entry_page and "LOCAL" in entry_page


def test_a_cohort_the_build_does_not_know_is_said_so(
    hub_app: FastAPI, sessions: sessionmaker[Session], world: World, area: Area
) -> None:
    """#17: ids from another area (or a typo in every one) were answered "no member with a whole follow-up
    window", which sent people looking at dates."""
    client, token = _client(hub_app, sessions, _user(world, Role.HUB_PRACTITIONER))
    response = _run(client, token, _csv([("P9999999990", "2024-01-01"), ("P9999999991", "2024-02-01")]))
    assert response.status_code == 400
    assert "none of the cohort&#39;s 2 person ids is in the current build" in response.text.replace("'", "&#39;")
    late = [(p, "2099-01-01") for p, _ in area.cohort[:3]]
    response = _run(client, token, _csv(late))
    assert response.status_code == 400 and "none started the intervention at least" in response.text
