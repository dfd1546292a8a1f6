"""A trainer moves the demo's clock on while practitioners are signed in (#17): after ``commonground demo --advance
2d`` in another terminal, a practitioner's queue, reloaded in the browser, says what the demo's clock reads and holds
the work the delivered days raised; nobody is signed out. The demo is built and served here, apart from the other
browser tests' area (it needs a clock of its own)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser_support import Findings, Visitor
from playwright.sync_api import expect
from sqlalchemy import select
from typer.testing import CliRunner

from commonground.access.models import User
from commonground.cases.demo_clock import read_clock
from commonground.cases.work_items import WorkItem
from commonground.cli import app
from commonground.settings import Settings
from commonground.store.db import make_engine, session_factory
from commonground.store.settings import hub_settings

pytestmark = pytest.mark.browser

UK = ZoneInfo("Europe/London")
runner = CliRunner()


@dataclass(frozen=True)
class Served:
    base_url: str
    data_dir: Path
    password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Served]:
    """``commonground demo --people 3000 --seed 12``, served on a free port of 127.0.0.1."""
    import uvicorn

    from commonground.web.app import create_app

    data_dir = tmp_path_factory.mktemp("demo-clock") / "data"
    built = runner.invoke(app, ["--data-dir", str(data_dir), "demo", "--people", "3000", "--seed", "12", "--no-serve"])
    assert built.exit_code == 0, built.output
    hub = hub_settings(Settings(data_dir=data_dir), cookie_secure=False, login_rate_per_minute=1_000)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="demo-clock-uvicorn", daemon=True)
    thread.start()
    while not server.started:  # polls for readiness; no time is asserted
        if not thread.is_alive():
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    password = (data_dir / "demo-password").read_text(encoding="ascii").strip()
    yield Served(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, password=password)
    server.should_exit = True
    thread.join()


def _new_work(data_dir: Path) -> tuple[int, str]:
    """A work item raised by a tick of the advance, and the email of an account whose queue holds it."""
    clock = read_clock(data_dir)
    assert clock is not None
    ticks = {(clock.origin + dt.timedelta(days=k)).replace(tzinfo=UK) for k in (1, 2)}
    engine = make_engine(hub_settings(Settings(data_dir=data_dir)).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            items = list(db.scalars(select(WorkItem).order_by(WorkItem.id)))
            # one the advance raised if it raised any (a small area often raises none in two days), else any
            item = next((i for i in items if i.created_at in ticks), items[0])
            user = db.scalars(
                select(User)
                .where(User.organisation_id == item.organisation_id, User.role == item.role)
                .order_by(User.id)
            ).first()
            assert user is not None
            return item.id, user.email
    finally:
        engine.dispose()


def test_a_signed_in_practitioner_sees_the_clock_moved_on(browser: object, served: Served, findings: Findings) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    advanced = runner.invoke(app, ["--data-dir", str(served.data_dir), "demo", "--advance", "2d"])
    assert advanced.exit_code == 0, advanced.output
    item_id, email = _new_work(served.data_dir)
    context = browser.new_context(base_url=served.base_url, bypass_csp=True)
    try:
        visitor = Visitor(context.new_page(), password=served.password, findings=findings)
        visitor.sign_in(email)
        visitor.goto("/queue")
        moved_on = dt.datetime.now(UK) + dt.timedelta(days=2)
        expect(visitor.page.locator("#demo-clock")).to_contain_text(f"The demo's clock reads {moved_on:%-d %b %Y}")
        visitor.follow_href(f"/queue/{item_id}")
        expect(visitor.page.locator("#demo-clock")).to_be_visible()

        # the trainer moves the clock on again while the practitioner is signed in: a reload follows it
        again = runner.invoke(app, ["--data-dir", str(served.data_dir), "demo", "--advance", "6h"])
        assert again.exit_code == 0, again.output
        visitor.goto("/queue")
        later = moved_on + dt.timedelta(hours=6)
        expect(visitor.page.locator("#demo-clock")).to_contain_text(f"{later:%-d %b %Y}")
        expect(visitor.page.get_by_role("button", name="Sign out")).to_be_visible()  # nobody is signed out
        problems = findings.serious(visitor.visited)
        assert not problems, problems
    finally:
        context.close()
