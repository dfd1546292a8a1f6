"""The demo in real time (#17): the area is moved so that its records end yesterday, the rules ran over the past
week, each work item is in the queue from the run that raised it, and no deadline in a casework queue is more than a
week past. Built once, small, through the real pipeline, and read through the pages as each demo account."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from fastapi.testclient import TestClient
from service_support import login_as
from sqlalchemy import select

from commonground.access.models import User
from commonground.cases.demo import DemoAccount
from commonground.cases.demo_clock import HELD_BACK_DAYS, read_clock
from commonground.cases.sync import ROUTES
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.cli.demo_cmd import (
    area_last_day,
    delivered,
    demo_present,
    moved_area,
    rules_moments,
    set_up_partnership,
)
from commonground.linkage.builds import require_current_build
from commonground.settings import Settings
from commonground.store.db import make_engine, session_factory
from commonground.store.models import Organisation
from commonground.store.settings import hub_settings
from commonground.web.app import create_app

pytestmark = pytest.mark.slow

UK = ZoneInfo("Europe/London")
PEOPLE = 3000
SEED = 11
TAG = re.compile(r'data-rating="(red|amber|green|none)"')  # each row's rating tag (#17), one per row


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    area: Path
    accounts: list[DemoAccount]
    now: dt.datetime


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``commonground demo --people 3000 --seed 11`` on the day the tests run, without serving."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("demo-time")
    data_dir = root / "data"
    generate(people=PEOPLE, seed=SEED, out=root / "area")
    now = dt.datetime.now(dt.UTC)
    moved = moved_area(data_dir, area=root / "area", name="area", now=now)
    ingest_directory(source=delivered(data_dir, moved, now=now), data_dir=data_dir)
    build_from_store(data_dir=data_dir)
    accounts, _ = set_up_partnership(Settings(data_dir=data_dir), moved, run_rules_again=True, now=now)
    return Demo(data_dir=data_dir, area=moved, accounts=[a for a in accounts if isinstance(a, DemoAccount)], now=now)


def _casework_accounts(demo: Demo) -> list[DemoAccount]:
    """The demo accounts whose queue the rules route flags to (organisation type and role of a route)."""
    engine = make_engine(hub_settings(Settings(data_dir=demo.data_dir)).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            kinds = {o.name: o.type for o in db.scalars(select(Organisation))}
    finally:
        engine.dispose()
    routed = set(ROUTES.values())
    return [a for a in demo.accounts if (kinds[a.organisation], a.role) in routed]


def _queues(demo: Demo) -> dict[str, list[str]]:
    """Each casework account's open queue as its page shows it: the rating tag of every row."""
    settings = hub_settings(Settings(data_dir=demo.data_dir), cookie_secure=True, login_rate_per_minute=1_000)
    engine = make_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    found: dict[str, list[str]] = {}
    try:
        with sessions() as db:
            users = {u.email: u.id for u in db.scalars(select(User))}
        for account in _casework_accounts(demo):
            client = TestClient(create_app(settings), base_url="https://testserver")
            login_as(client, sessions, users[account.email])
            page = client.get("/queue")
            assert page.status_code == 200, page.text
            table = page.text.split('id="queue"', 1)[1] if 'id="queue"' in page.text else ""
            found[account.email] = TAG.findall(table)
    finally:
        engine.dispose()
    return found


def _open_items(demo: Demo) -> list[WorkItem]:
    engine = make_engine(hub_settings(Settings(data_dir=demo.data_dir)).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            return list(db.scalars(select(WorkItem).where(WorkItem.status != WorkItemStatus.CLOSED)))
    finally:
        engine.dispose()


def test_the_demo_area_ends_yesterday(demo: Demo) -> None:
    """What the demo has delivered ends yesterday; the area's last days are held back for its clock (#17)."""
    yesterday = demo.now.astimezone(UK).date() - dt.timedelta(days=1)
    assert area_last_day(demo.area) == yesterday + dt.timedelta(days=HELD_BACK_DAYS)
    clock = read_clock(demo.data_dir)
    assert clock is not None and clock.released_through == yesterday and not clock.advanced
    con = duckdb.connect(str(require_current_build(demo.data_dir).path / "build.duckdb"), read_only=True)
    try:
        row = con.execute(
            "SELECT max(day) FROM (SELECT CAST(occurred_at AS DATE) AS day FROM feed_police_incidents "
            "UNION ALL SELECT CAST(arrived_at AS DATE) FROM feed_ed_attendances)"
        ).fetchone()
    finally:
        con.close()
    assert row is not None and row[0] == yesterday


def test_a_work_item_is_in_the_queue_from_the_run_that_raised_it(demo: Demo) -> None:
    items = _open_items(demo)
    assert items, "the demo made no work: make the area larger"
    present = demo_present(demo.data_dir, demo.area, now=demo.now)
    runs = {moment.replace(tzinfo=UK).astimezone(dt.UTC) for moment in rules_moments(present)}
    for item in items:
        assert item.created_at.astimezone(dt.UTC) in runs, (item.rule_id, item.created_at)
    assert min(item.created_at for item in items) < demo.now - dt.timedelta(days=1)  # not all "under 1 day"


def test_nothing_in_a_demo_queue_is_more_than_a_week_overdue(demo: Demo) -> None:
    items = _open_items(demo)
    assert items
    late = [(i.rule_id, demo.now - i.due_by) for i in items if demo.now - i.due_by > dt.timedelta(days=7)]
    assert late == []
    shown = _queues(demo)
    assert sum(len(tags) for tags in shown.values()) == len(items)  # every open item is in a routed queue
