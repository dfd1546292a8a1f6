"""The RAG rating in every queue, on the day a demo is built (#17). The demo is made as ``commonground demo --people
30000`` makes it (seed 1, moved in time to end yesterday, the rules run 6, 3 and 1 days before now and now) and
served; each demo account whose home shows a queue of open work signs in at Chromium, goes from its home to its
queue and reads it as a practitioner does: every item's colour is its rating (red first), the reason is one click
away, the time left is said apart in words, with an "Overdue" tag of its own, and nothing is more than a week
overdue. Every queue holds each rating its routes can give: red, amber and green where a route can give each (a
queue whose only route is rated green and raised at most one step, such as the police hub's revolving-door cases,
is never red; a school's queue holds Operation Encompass notices, which have no rating at all: due before the next
school day).

Why 30,000 people and not the demo's default 10,000: on the default area the MASH's queue is all green (the
synthetic area raises no red or amber children's flag in its last weeks; see docs/rules.md, "A flag's rating, and
why")."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_support import Findings, Visitor
from playwright.sync_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PEOPLE = 30_000  # ``commonground demo --people 30000`` (the default seed)
SEED = 1
ORDER = {"Red": 0, "Amber": 1, "Green": 2, "Not rated": 3}
DUE = re.compile(r"^(due in|overdue by) (\d+) (minute|hour|day)s?$")


@dataclass(frozen=True)
class Demo:
    base_url: str
    password: str
    casework: list[str]
    """The demo accounts whose role works a queue (their home shows it)."""
    can_give: dict[str, set[str]]
    """For each of them, the ratings the routes to their queue can give ("Red", "Amber", "Green")."""


def _ratings_routed(settings: object, accounts: list[object]) -> dict[str, set[str]]:
    """Each demo account's ratings: those of every route of the routing pack that the hub sends to its
    organisation's type and its role (:data:`commonground.cases.sync.ROUTES`)."""
    from sqlalchemy import select

    from commonground.cases.demo import DemoAccount
    from commonground.cases.sync import ROUTES
    from commonground.rules import default_rules
    from commonground.settings import Settings
    from commonground.store.db import make_engine, session_factory
    from commonground.store.models import Organisation
    from commonground.store.settings import hub_settings

    assert isinstance(settings, Settings)
    engine = make_engine(hub_settings(settings).resolved_database_url)
    try:
        with session_factory(engine)() as db:
            kinds = {o.name: o.type for o in db.scalars(select(Organisation))}
    finally:
        engine.dispose()
    found: dict[str, set[str]] = {}
    for account in accounts:
        assert isinstance(account, DemoAccount)
        found[account.email] = {
            rating.value.capitalize()
            for route in default_rules().routing.routes
            if ROUTES.get((route.to.organisation_type.value, route.to.role))
            == (kinds[account.organisation], account.role)
            for rating in route.ratings()
        }
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Demo]:
    import uvicorn

    from commonground.cases.demo import DemoAccount
    from commonground.cli.demo_cmd import build_demo
    from commonground.settings import Settings
    from commonground.store.settings import hub_settings
    from commonground.web.app import create_app
    from commonground.web.pages.home import CASEWORK

    settings = Settings(data_dir=tmp_path_factory.mktemp("demo-ratings") / "data")
    accounts, password = build_demo(settings, people=PEOPLE, seed=SEED)
    casework = [a.email for a in accounts if isinstance(a, DemoAccount) and a.role in CASEWORK]
    can_give = _ratings_routed(settings, [a for a in accounts if isinstance(a, DemoAccount) and a.email in casework])
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(hub_settings(settings, cookie_secure=False, login_rate_per_minute=1_000)),
            host="127.0.0.1",
            port=0,
            access_log=False,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="demo-ratings-uvicorn", daemon=True)
    thread.start()
    while not server.started:  # polls for readiness; no time is asserted
        if not thread.is_alive():
            pytest.fail("the web app did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Demo(base_url=f"http://127.0.0.1:{port}", password=password, casework=casework, can_give=can_give)
    server.should_exit = True
    thread.join()


@dataclass(frozen=True)
class Row:
    rating: str
    reason: str
    due: str
    overdue_tag: bool


def _visit(browser: Browser, demo: Demo, email: str, findings: Findings) -> tuple[Visitor, int]:
    """Sign in as ``email``; returns the visitor on their home page and how many open items it says they have."""
    context = browser.new_context(base_url=demo.base_url, bypass_csp=True)
    visitor = Visitor(context.new_page(), password=demo.password, findings=findings)
    visitor.sign_in(email)
    cards = visitor.main.locator(".cg-card", has_text="open in all")
    return visitor, int(cards.locator(".cg-card__number").inner_text()) if cards.count() else 0


def _rows(visitor: Visitor) -> list[Row]:
    """The queue as its reader sees it: each row's rating tag, the reason behind "Why ..." (opened by a click), the
    time left in words and whether an "Overdue" tag is shown."""
    rows = []
    for row in visitor.page.locator("#queue tbody tr").all():
        rating = row.locator("td.cg-rating .cg-tag").inner_text().strip()
        why = row.locator("td.cg-rating summary")
        reason = ""
        if why.count():
            why.click()
            reason = row.locator("td.cg-rating .cg-details__text").inner_text().strip()
        due_cell = row.locator("td.cg-due")
        due = due_cell.locator(".cg-hint-inline").first.inner_text().strip()
        rows.append(Row(rating, reason, due, due_cell.locator(".cg-tag--overdue").count() == 1))
    return rows


def _queues(browser: Browser, demo: Demo, findings: Findings) -> dict[str, list[Row]]:
    """Each casework account with open work, from its home to its queue (the "Go to your queue" button); an account
    that rated work is routed to but whose home says it has none, as an empty queue."""
    queues: dict[str, list[Row]] = {}
    for email in demo.casework:
        visitor, open_items = _visit(browser, demo, email, findings)
        try:
            if not open_items:
                if demo.can_give[email]:  # rated work is routed to this queue, and none is in it: nothing to show
                    queues[email] = []
                continue
            expect(visitor.main.get_by_role("img", name=re.compile("^Open work by rating"))).to_be_visible()
            visitor.follow("Go to your queue")
            assert visitor.heading() == "Your queue"
            queues[email] = _rows(visitor)
            assert len(queues[email]) == open_items, email
            serious = findings.serious(visitor.visited)
            assert not serious, serious
        finally:
            visitor.page.context.close()
    return queues


def test_every_queue_shows_each_items_rating_and_reason_and_the_time_left_apart(
    browser: Browser, demo: Demo, findings: Findings
) -> None:
    queues = _queues(browser, demo, findings)
    assert queues, "no demo account has open work on the day the demo is built"
    for email, rows in queues.items():
        assert [ORDER[r.rating] for r in rows] == sorted(ORDER[r.rating] for r in rows), (email, rows)  # red first
        for row in rows:
            if row.rating != "Not rated":
                assert row.reason.startswith(f"{row.rating}: "), (email, row)
            found = DUE.match(row.due)
            assert found, (email, row)
            assert row.overdue_tag == (found[1] == "overdue by"), (email, row)
            assert not (found[1] == "overdue by" and found[3] == "day" and int(found[2]) >= 7), (email, row)
    mixes = {email: {r.rating for r in rows} for email, rows in queues.items()}
    short = {email: sorted(demo.can_give[email] - mix) for email, mix in mixes.items() if demo.can_give[email] - mix}
    assert short == {}, ("ratings a queue's routes can give but it does not hold", short, mixes)
    shown = set().union(*mixes.values())
    assert {"Red", "Amber", "Green"} <= shown, mixes


def test_a_practitioner_filters_the_queue_by_rating_and_sorts_it_by_deadline(
    browser: Browser, demo: Demo, findings: Findings
) -> None:
    for email in demo.casework:
        visitor, open_items = _visit(browser, demo, email, findings)
        try:
            if not open_items:
                continue
            visitor.goto("/queue")
            rows = _rows(visitor)
            if len({r.rating for r in rows}) < 2:
                continue
            wanted = rows[-1].rating
            value = "none" if wanted == "Not rated" else wanted.lower()
            visitor.main.get_by_label("Rating", exact=True).select_option(value)
            visitor.press("Apply filters")
            filtered = _rows(visitor)
            assert filtered and {r.rating for r in filtered} == {wanted}, (email, filtered)
            visitor.main.get_by_label("Rating", exact=True).select_option("")
            visitor.main.get_by_label("Sort by", exact=True).select_option("due")
            visitor.press("Apply filters")
            assert sorted(r.due for r in _rows(visitor)) == sorted(r.due for r in rows)  # the same items
            assert not findings.serious(visitor.visited), findings.serious(visitor.visited)
            return
        finally:
            visitor.page.context.close()
    pytest.fail("no demo queue holds two ratings to filter between")
