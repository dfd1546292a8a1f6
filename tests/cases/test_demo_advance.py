"""A trainer moves the demo's clock on (#17): ``commonground demo --advance 1d`` delivers the held-back records of
the days the clock reaches, links and flags them, and brings the hub up to date; the pages show deadlines by the
moved clock. One small demo is built through the command line, copied, and moved on in two ways: a day twice, and
two days at once, which must leave the same work and the same notices."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from service_support import login_as
from sqlalchemy import func, select
from typer.testing import CliRunner

from commonground.access.models import User
from commonground.cases.demo_clock import read_clock
from commonground.cases.notices import Notice
from commonground.cases.outbox import OutboxMessage
from commonground.cases.work_items import WorkItem, WorkItemStatus
from commonground.cli import app
from commonground.settings import Settings
from commonground.store.db import make_engine, session_factory
from commonground.store.models import Organisation
from commonground.store.settings import hub_settings
from commonground.web.app import create_app

pytestmark = pytest.mark.slow

UK = ZoneInfo("Europe/London")
PEOPLE = 3000
SEED = 12
runner = CliRunner()


@dataclass(frozen=True)
class Moved:
    data_dir: Path
    outputs: tuple[str, ...]


def _cli(data_dir: Path, *args: str) -> str:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``commonground demo --people 3000 --seed 12 --no-serve``: a new demo, its last 14 days held back."""
    data_dir = tmp_path_factory.mktemp("demo-advance") / "built"
    _cli(data_dir, "--people", str(PEOPLE), "--seed", str(SEED), "--no-serve")
    return data_dir


def _moved(built: Path, name: str, steps: list[str]) -> Moved:
    data_dir = built.parent / name
    shutil.copytree(built, data_dir)  # the store, the builds and the operational store are all in it
    return Moved(data_dir, tuple(_cli(data_dir, "--advance", step) for step in steps))


@pytest.fixture(scope="module")
def in_steps(built: Path) -> Moved:
    return _moved(built, "in-steps", ["1d", "1d"])


@pytest.fixture(scope="module")
def at_once(built: Path) -> Moved:
    return _moved(built, "at-once", ["2d"])


def _store(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """The hub's work, notices and outbox, as comparable rows (without the ids and real-clock stamps)."""
    engine = make_engine(hub_settings(Settings(data_dir=data_dir)).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            codes = {o.id: o.code for o in db.scalars(select(Organisation))}
            items = [
                (
                    *(i.person_id, i.rule_id, i.rule_version, i.episode, codes[i.organisation_id], i.role),
                    *(i.purpose, i.due_by, tuple(i.evidence), i.status, i.created_at),
                )
                for i in db.scalars(select(WorkItem))
            ]
            notices = [
                (
                    *(codes[n.organisation_id], n.incident_reference, n.incident_at, n.police_contact, n.due_by),
                    tuple((c.person_id, c.child_name, c.involvement) for c in n.children),
                )
                for n in db.scalars(select(Notice))
            ]
            emails = [(m.to_address, m.subject, m.body) for m in db.scalars(select(OutboxMessage))]
    finally:
        engine.dispose()
    return {"work items": sorted(items, key=repr), "notices": sorted(notices, key=repr), "emails": sorted(emails)}


def _open_items(data_dir: Path) -> int:
    engine = make_engine(hub_settings(Settings(data_dir=data_dir)).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            return int(db.scalar(select(func.count(WorkItem.id)).where(WorkItem.status != WorkItemStatus.CLOSED)) or 0)
    finally:
        engine.dispose()


def test_the_demo_holds_its_last_days_back_and_starts_now(built: Path) -> None:
    clock = read_clock(built)
    assert clock is not None and not clock.advanced
    today = dt.datetime.now(UK).date()
    assert clock.origin.date() == today and clock.released_through == today - dt.timedelta(days=1)
    assert clock.last_day == clock.released_through + dt.timedelta(days=14)
    assert _open_items(built) > 0  # the first day's queues are not emptied by holding days back


def test_advancing_twice_by_a_day_equals_advancing_once_by_two_days(in_steps: Moved, at_once: Moved) -> None:
    before, steps, once = (
        _store(in_steps.data_dir.parent / "built"),
        _store(in_steps.data_dir),
        _store(at_once.data_dir),
    )
    assert steps == once
    assert read_clock(in_steps.data_dir) == read_clock(at_once.data_dir)
    built, moved = read_clock(in_steps.data_dir.parent / "built"), read_clock(at_once.data_dir)
    assert built is not None and moved is not None
    assert moved.released_through == built.released_through + dt.timedelta(days=2)  # two days delivered
    # New work from two days is not asserted: a 3,000-person area rarely raises any in two days (seeds 1, 3 and 5:
    # none; seed 1: one in twelve days), so a test of it would test the seed, not the clock.
    assert len(once["work items"]) >= len(before["work items"])


def test_the_command_says_what_happened(at_once: Moved) -> None:
    said = " ".join(at_once.outputs[0].split())
    clock = read_clock(at_once.data_dir)
    assert clock is not None and clock.advanced == dt.timedelta(days=2)
    assert f"The demo's clock reads {clock.now:%H:%M on %A %-d %B %Y}: 2 days of records delivered." in said
    found = re.search(
        r"(\d+) new incidents?, (\d+) new work items?, (\d+) notices? to schools, (\d+) deadlines? passed", said
    )
    assert found is not None, said
    assert "the clock can move on by 12 days more" in said


def test_the_queue_shows_the_moved_clock_and_the_new_work(in_steps: Moved) -> None:
    """Signed in after the advance, a practitioner's queue says what the demo's clock reads and holds its open
    items (those the delivered days raised, if any, in the queue from the tick that raised them)."""
    data_dir = in_steps.data_dir
    clock = read_clock(data_dir)
    assert clock is not None
    ticks = {(clock.origin + dt.timedelta(days=k)).replace(tzinfo=UK) for k in (1, 2)}
    settings = hub_settings(Settings(data_dir=data_dir), cookie_secure=True, login_rate_per_minute=1_000)
    engine = make_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    try:
        with sessions() as db:
            open_items = [i for i in db.scalars(select(WorkItem)) if i.status != WorkItemStatus.CLOSED]
            new = [i for i in open_items if i.created_at in ticks]
            item = (new or open_items)[0]
            user = db.scalars(
                select(User).where(User.organisation_id == item.organisation_id, User.role == item.role)
            ).first()
            assert user is not None
            user_id = user.id
        client = TestClient(create_app(settings), base_url="https://testserver")
        login_as(client, sessions, user_id)
        page = client.get("/queue")
    finally:
        engine.dispose()
    assert page.status_code == 200, page.text
    shown = re.search(r'id="demo-clock">The demo\'s clock reads <strong>([^<]+)</strong>', page.text)
    assert shown is not None
    moved_on = dt.datetime.now(UK) + dt.timedelta(days=2)
    assert shown[1].startswith(f"{moved_on:%-d %b %Y}")
    assert f'href="/queue/{item.id}"' in page.text


def test_advancing_beyond_the_area_says_so_and_changes_nothing(in_steps: Moved) -> None:
    data_dir = in_steps.data_dir
    kept = (data_dir / "demo-clock.json").read_bytes()
    result = runner.invoke(app, ["--data-dir", str(data_dir), "demo", "--advance", "13d"])
    assert result.exit_code != 0
    said = " ".join(result.output.split())
    assert "The demo's clock can move on by 12 days at most" in said and "Nothing was changed." in said
    assert "Traceback" not in result.output
    assert (data_dir / "demo-clock.json").read_bytes() == kept
