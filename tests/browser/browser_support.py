"""Helpers of the browser tests: a person at a browser who signs in, follows links and presses buttons as people
do, and axe-core run on every page they land on (the findings are kept per page, by path)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, Response, expect


@dataclass(frozen=True)
class Area:
    """The served demo: its address, the demo accounts' password and what the fixture made sure is in it."""

    base_url: str
    password: str
    data_dir: Path
    mash_item_id: int
    mash_person_id: str
    notices: dict[str, int]
    """School URN -> the id of a notice about one of its pupils."""

    def school_lead(self, urn: str) -> str:
        return f"dsl@urn{urn}.example"


SERIOUS = frozenset({"serious", "critical"})


@dataclass
class Findings:
    """axe-core's violations, by page (the path with numbers replaced, so one work item stands for all)."""

    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, page: str, violations: list[dict[str, Any]]) -> None:
        self.pages.setdefault(page, [])
        known = {v["id"] for v in self.pages[page]}
        self.pages[page] += [v for v in violations if v["id"] not in known]

    def serious(self, pages: list[str] | None = None) -> str:
        """A readable list of the serious and critical violations on ``pages`` (every page when None)."""
        lines = []
        for name in sorted(set(pages) if pages is not None else self.pages):
            for v in self.pages.get(name, []):
                if v.get("impact") in SERIOUS:
                    targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
                    lines.append(f"  {name}: [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])}x: {targets})")
        return "\n".join(lines)


def page_key(url: str) -> str:
    return re.sub(r"/(P?\d+)(?=/|$)", "/{id}", urlsplit(url).path) or "/"


class Visitor:
    """One person at a browser (one context, so one session cookie)."""

    def __init__(self, page: Page, *, password: str, findings: Findings) -> None:
        self.page = page
        self.password = password
        self.findings = findings
        self.visited: list[str] = []

    # --- moving around, with axe-core on every page reached ---

    def check(self) -> None:
        """Run axe-core on the page as it is now and keep its violations."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        key = page_key(self.page.url)
        self.findings.add(key, list(results.response["violations"]))
        if key not in self.visited:
            self.visited.append(key)

    def goto(self, path: str) -> Response | None:
        """Type an address into the browser."""
        response = self.page.goto(path)
        self.check()
        return response

    def _navigate(self, target: Locator) -> None:
        with self.page.expect_navigation():
            target.click()
        self.check()

    def follow(self, name: str | re.Pattern[str], *, within: Locator | None = None, exact: bool = False) -> None:
        """Click a link by its accessible name and check the page it leads to."""
        scope = within if within is not None else self.page.locator("main")
        self._navigate(scope.get_by_role("link", name=name, exact=exact).first)

    def follow_href(self, href: str) -> None:
        """Click the link (in the page's main part) that leads to ``href``."""
        self._navigate(self.page.locator("main").locator(f'a[href="{href}"]').first)

    def press(self, name: str | re.Pattern[str], *, within: Locator | None = None) -> None:
        """Press a button by its accessible name (submitting its form) and check the page that comes back."""
        scope = within if within is not None else self.page.locator("main")
        self._navigate(scope.get_by_role("button", name=name).first)

    def nav(self, name: str) -> None:
        """Use the menu across the top."""
        self._navigate(self.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True))

    # --- signing in and out ---

    def sign_in(self, email: str) -> None:
        self.goto("/")
        expect(self.page.get_by_label("Email address")).to_be_visible()
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(self.password)
        self._navigate(self.page.get_by_role("button", name="Sign in"))
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self) -> None:
        self._navigate(self.page.get_by_role("button", name="Sign out"))

    # --- reading ---

    @property
    def main(self) -> Locator:
        return self.page.locator("main")

    def heading(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def done(self) -> str:
        """The success banner's text after a change."""
        banner = self.page.locator(".cg-notification-banner--success")
        expect(banner).to_be_visible()
        return banner.inner_text()
