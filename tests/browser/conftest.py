"""Fixtures of the browser tests: a small synthetic area taken through the real pipeline (synth, ingest, link, the
rules, the demonstration partnership, the hub's sync), the web app served by uvicorn on a free loopback port, and
Debian's Chromium driven by Playwright, with axe-core run on every page a test visits.

Without Chromium (``/usr/bin/chromium``) the tests are skipped, except when ``CI=true``: then they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from browser_support import Area, Findings, Visitor
from playwright.sync_api import BrowserContext

from commonground.cases.person_view import view_path

PEOPLE = 1_500
SEED = 1
CHROMIUM = os.environ.get("COMMONGROUND_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class Pupil:
    person_id: str
    urn: str
    incident_record: str
    incident_at: dt.datetime


def _chromium_missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is needed in CI and is missing: {reason}")
    pytest.skip(f"Chromium missing: {reason}")


def _build_area(root: Path) -> tuple[Path, Path]:
    """Synth, ingest and link, as ``commonground demo`` does; returns (area, data_dir). With
    ``COMMONGROUND_BROWSER_CACHE`` set (while working on these tests; never in CI), the linked area is kept in that
    folder and copied from it on the next run."""
    cache = os.environ.get("COMMONGROUND_BROWSER_CACHE")
    if cache:
        kept = Path(cache) / f"seed-{SEED}-people-{PEOPLE}"
        if not (kept / "linked").exists():
            shutil.rmtree(kept, ignore_errors=True)
            _link(kept)
            (kept / "linked").touch()
        shutil.copytree(kept / "area", root / "area")
        shutil.copytree(kept / "data", root / "data")
        return root / "area", root / "data"
    return _link(root)


def _link(root: Path) -> tuple[Path, Path]:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    area, data_dir = root / "area", root / "data"
    generate(people=PEOPLE, seed=SEED, out=area, on_progress=None)
    ingest_directory(source=area, data_dir=data_dir, on_progress=None)
    build_from_store(data_dir=data_dir, on_progress=None)
    return area, data_dir


def _pupils_at_domestic_incidents(build: Path) -> dict[str, Pupil]:
    """For each school of the area, a pupil on its roll named as present at a domestic-abuse incident."""
    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT s.school_urn, roll.person_id, pi.record_id, i.occurred_at "
            "FROM feed_school_roll s "
            "JOIN person_records roll ON roll.feed = 'school_roll' AND roll.record_id = s.record_id "
            "JOIN person_records pr ON pr.person_id = roll.person_id AND pr.feed = 'police_incident_persons' "
            "JOIN feed_police_incident_persons pi ON pi.record_id = pr.record_id "
            "JOIN feed_police_incidents i ON i.incident_id = pi.incident_id "
            "WHERE s.left_on IS NULL AND i.category = 'domestic' AND pi.role = 'child_present' "
            "ORDER BY s.school_urn, i.occurred_at DESC, roll.person_id"
        ).fetchall()
    finally:
        con.close()
    found: dict[str, Pupil] = {}
    for urn, person_id, record_id, occurred_at in rows:
        found.setdefault(str(urn), Pupil(str(person_id), str(urn), str(record_id), occurred_at))
    return found


def _another_pupil_of(build: Path, pupil: Pupil, *, avoid: set[str]) -> tuple[str, str]:
    """Another pupil on the roll of ``pupil``'s school, and the police incident row ``pupil`` is named on (the area
    is too small to be sure of siblings at one school: the second pupil is linked to the incident by its row)."""
    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT i.record_id FROM feed_police_incidents i JOIN feed_police_incident_persons pi "
            "ON pi.incident_id = i.incident_id WHERE pi.record_id = ?",
            [pupil.incident_record],
        ).fetchone()
        others = con.execute(
            "SELECT DISTINCT roll.person_id FROM feed_school_roll s "
            "JOIN person_records roll ON roll.feed = 'school_roll' AND roll.record_id = s.record_id "
            "WHERE CAST(s.school_urn AS VARCHAR) = ? AND s.left_on IS NULL ORDER BY roll.person_id",
            [pupil.urn],
        ).fetchall()
    finally:
        con.close()
    assert row is not None
    choices = [str(p) for (p,) in others if str(p) != pupil.person_id and str(p) not in avoid]
    assert choices, f"school {pupil.urn} has one pupil only: make the area larger"
    return choices[0], str(row[0])


def _flagged_child(build: Path, pupils: set[str]) -> tuple[str, list[str]]:
    """A child with the domestic-abuse indicator and its evidence records (``feed:record_id``), not one of the
    pupils whose school gets a notice (so that the tests do not share a person)."""
    con = duckdb.connect(str(view_path(build)), read_only=True)
    try:
        rows = con.execute(
            "SELECT person_id, feed, record_id FROM evidence WHERE rule_id = 'ace.domestic_abuse' "
            "ORDER BY person_id, evidence_at DESC"
        ).fetchall()
    finally:
        con.close()
    evidence: dict[str, list[str]] = {}
    for person_id, feed, record_id in rows:
        evidence.setdefault(str(person_id), []).append(f"{feed}:{record_id}")
    choices = [p for p in evidence if p not in pupils]
    assert choices, "the synthetic area has no child with the domestic-abuse indicator: make it larger"
    return choices[0], evidence[choices[0]]


def _add_work(data_dir: Path) -> tuple[int, str, dict[str, int]]:
    """Work the area is too small to be sure of: a flag for the local authority's hub and, for every school, an
    Operation Encompass work item about one of its pupils, made into notices by the notices' own code."""
    from sqlalchemy import select

    from commonground.access.audit import RULES_STAGE
    from commonground.access.purposes import Purpose
    from commonground.access.roles import Role
    from commonground.cases.notices import NOTICE_RULE, NoticeChild, notices_from_work_items
    from commonground.cases.work_items import FlagRecord, RouteTo, WorkItem, upsert_work_items
    from commonground.linkage.builds import require_current_build
    from commonground.store.db import make_engine, session_factory
    from commonground.store.organisation_types import OrganisationType as OT
    from commonground.store.settings import hub_settings
    from commonground.web.views import PersonViews

    build = require_current_build(data_dir).path
    pupils = _pupils_at_domestic_incidents(build)
    assert len(pupils) >= 2, f"need two schools with a pupil at a domestic incident, found {sorted(pupils)}"
    child, evidence = _flagged_child(build, {p.person_id for p in pupils.values()})
    now = dt.datetime.now(dt.UTC)
    flags = [
        FlagRecord(
            person_id=child,
            rule_id="ace.domestic_abuse",
            rule_version="1",
            route_to=RouteTo(organisation_type=OT.LOCAL_AUTHORITY_CHILDRENS, role=Role.HUB_PRACTITIONER),
            due_by=now + dt.timedelta(days=2),
            evidence_ids=tuple(evidence),
            purpose=Purpose.SAFEGUARDING_CHILDREN,
        )
    ]
    flags += [
        FlagRecord(
            person_id=p.person_id,
            rule_id=NOTICE_RULE,
            rule_version="1",
            route_to=RouteTo(organisation_type=OT.SCHOOL, role=Role.SCHOOL_SAFEGUARDING_LEAD, organisation=urn),
            due_by=now + dt.timedelta(hours=20),
            evidence_ids=(f"police_incident_persons:{p.incident_record}",),
            purpose=Purpose.OPERATION_ENCOMPASS,
            episode=p.incident_at.isoformat(),
        )
        for urn, p in sorted(pupils.items())
    ]
    first = pupils[min(pupils)]
    sibling, incident_row = _another_pupil_of(build, first, avoid={child})
    flags.append(  # a second pupil of the first school linked to the same incident: one notice names both (#17)
        FlagRecord(
            person_id=sibling,
            rule_id=NOTICE_RULE,
            rule_version="2",
            route_to=RouteTo(organisation_type=OT.SCHOOL, role=Role.SCHOOL_SAFEGUARDING_LEAD, organisation=first.urn),
            due_by=now + dt.timedelta(hours=20),
            evidence_ids=(f"police_incidents:{incident_row}",),
            purpose=Purpose.OPERATION_ENCOMPASS,
            episode=first.incident_at.isoformat(),
        )
    )
    engine = make_engine(hub_settings(data_dir=data_dir).resolved_database_url)
    views = PersonViews(data_dir)
    try:
        with session_factory(engine)() as session:
            result = upsert_work_items(session, flags, by=RULES_STAGE)
            assert not result.unroutable, result.unroutable
            run = notices_from_work_items(session, views.current())
            assert run.not_in_view == 0, run
            session.commit()
            item = session.scalars(
                select(WorkItem).where(WorkItem.person_id == child, WorkItem.rule_id == "ace.domestic_abuse")
            ).one()
            notices = {
                urn: session.scalars(
                    select(NoticeChild.notice_id)
                    .where(NoticeChild.person_id == p.person_id)
                    .order_by(NoticeChild.notice_id.desc())
                ).first()
                for urn, p in pupils.items()
            }
    finally:
        view = views.current()
        if view is not None:
            view.close()
        engine.dispose()
    return item.id, child, {urn: n for urn, n in notices.items() if n is not None}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        _chromium_missing(f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@pytest.fixture(scope="session")
def area(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Area]:
    """The demo, as ``commonground demo`` makes it, served on a free port of 127.0.0.1 for the session."""
    import uvicorn

    from commonground.cli.demo_cmd import set_up_partnership
    from commonground.settings import Settings
    from commonground.store.settings import hub_settings
    from commonground.web.app import create_app

    root = tmp_path_factory.mktemp("browser-area")
    area_dir, data_dir = _build_area(root)
    settings = Settings(data_dir=data_dir)
    _, password = set_up_partnership(settings, area_dir, run_rules_again=True)
    item_id, child, notices = _add_work(data_dir)
    hub = hub_settings(settings, cookie_secure=False, login_rate_per_minute=1_000)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="browser-tests-uvicorn", daemon=True)
    thread.start()
    while not server.started:  # polls for readiness; no time is asserted
        if not thread.is_alive():
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    yield Area(
        base_url=f"http://127.0.0.1:{port}",
        password=password,
        data_dir=data_dir,
        mash_item_id=item_id,
        mash_person_id=child,
        notices=notices,
    )
    server.should_exit = True
    thread.join()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[object]:
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        except Error as error:
            _chromium_missing(str(error).splitlines()[0])
        yield launched
        launched.close()


FINDINGS = Findings()


@pytest.fixture(scope="session")
def findings() -> Findings:
    """Every page's axe-core violations over the session (each test also fails on its own pages')."""
    return FINDINGS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The pages axe-core checked, and what it found below serious (kept to read, not failed on)."""
    if not FINDINGS.pages:
        return
    terminalreporter.write_sep("-", f"axe-core checked {len(FINDINGS.pages)} pages")
    for name, violations in sorted(FINDINGS.pages.items()):
        found = ", ".join(f"{v['id']} ({v.get('impact')})" for v in violations) or "no violation"
        terminalreporter.write_line(f"{name}: {found}")


@pytest.fixture
def browse(browser: object, area: Area, findings: Findings) -> Iterator[Callable[[str], Visitor]]:
    """``browse(email)``: a person signed in at a fresh browser (a context of their own). At the end, the test fails
    if any page it visited has a serious or critical accessibility violation."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    contexts: list[BrowserContext] = []
    visitors: list[Visitor] = []

    def sign_in(email: str) -> Visitor:
        context = browser.new_context(base_url=area.base_url, bypass_csp=True)  # bypass_csp: to inject axe-core
        contexts.append(context)
        visitor = Visitor(context.new_page(), password=area.password, findings=findings)
        visitors.append(visitor)
        visitor.sign_in(email)
        return visitor

    yield sign_in
    for context in contexts:
        context.close()
    problems = findings.serious([page for v in visitors for page in v.visited])
    if problems:
        pytest.fail("accessibility (axe-core), serious or critical:\n" + problems, pytrace=False)
