"""Screenshots of the main pages for the README, taken with Playwright and Debian's Chromium from a running demo.

    ./dev demo                                      # in one terminal: the demo at http://127.0.0.1:8000
    .venv/bin/python scripts/screenshots.py         # in another: PNGs into docs/screenshots/

It signs in as each role with the demo password (read from the data directory) and, like a person would, opens the
queue, a flag, the person's record, the school's notices, the triage log, the audit log and the library. To show a
referral and a triage log it makes one of each in the demo (synthetic, and recorded in the audit log like any other).
Needs the dev dependencies (``uv sync``) and ``chromium`` (``apt-get install chromium``); no browser is downloaded.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, sync_playwright

WIDTH, MAX_HEIGHT = 1280, 1800
PARTNER = "Northshire Recovery Partnership (drug and alcohol service)"


class Shooter:
    def __init__(self, browser: Browser, *, url: str, password: str, out: Path) -> None:
        self.browser, self.url, self.password, self.out = browser, url.rstrip("/"), password, out
        self.taken: list[Path] = []

    def sign_in(self, email: str) -> Page:
        context = self.browser.new_context(base_url=self.url, viewport={"width": WIDTH, "height": 900})
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(self.password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        if page.get_by_role("button", name="Sign out").count() == 0:
            sys.exit(f"could not sign in as {email}: is the demo running at {self.url} with this data directory?")
        return page

    def shoot(self, page: Page, name: str) -> None:
        height = min(int(page.evaluate("document.documentElement.scrollHeight")), MAX_HEIGHT)
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
        self.taken.append(path)
        print(f"  {path}")


def click(page: Page, target: Locator) -> None:
    with page.expect_navigation():
        target.click()


def hub_practitioner(s: Shooter) -> None:
    """The first hub practitioner (the local authority's, then the police's) with something in their queue."""
    for email in ("mash@qxla.example", "vulnerability-hub@qxp.example"):
        page = s.sign_in(email)
        page.goto("/queue")
        first = page.locator("#queue tbody a").first
        if first.count():
            break
        page.context.close()
    else:
        print("  (every hub practitioner's queue is empty: no flag, person or referral screenshot)")
        return
    s.shoot(page, "queue")
    page.goto("/")
    s.shoot(page, "home")
    page.goto("/queue")
    # a flag whose rule still holds in the current build, so that its evidence shows
    links = [a.get_attribute("href") or "" for a in page.locator("#queue tbody a").all()]
    for href in links[:10]:
        page.goto(href)
        if page.get_by_role("heading", name="Why this was flagged").count():
            break
    s.shoot(page, "work-item")
    item = page.url
    click(page, page.get_by_role("link", name="Open the person's record"))
    s.shoot(page, "person")
    page.goto(item)
    click(page, page.get_by_role("link", name="Refer to a partner"))
    # first the partner and the purpose (only those that can work are offered), then the records, one by one
    offered = page.get_by_label(re.compile(f"^{re.escape(PARTNER)}: "))
    (offered.first if offered.count() else page.locator('input[name="choice"]').first).check()
    click(page, page.get_by_role("button", name="Continue"))
    page.locator('input[name="items"]').first.check()
    page.get_by_label("Why are you referring?").fill(
        "Worried about repeated crises and heavy drinking; please offer an assessment and tell us what you can do."
    )
    page.get_by_label(re.compile("^Yes, the person")).check()
    click(page, page.get_by_role("button", name="Send the referral"))
    s.shoot(page, "referral")


def school(s: Shooter, leads: list[str]) -> None:
    for email in leads:
        page = s.sign_in(email)
        page.goto("/notices")
        waiting = page.locator("#notices-waiting tbody a")
        if waiting.count() == 0:
            page.context.close()
            continue
        s.shoot(page, "notices")
        click(page, waiting.first)
        s.shoot(page, "notice")
        return
    print("  (no school has a notice waiting: run `./dev hub send-notices` first)")


def control_room(s: Shooter) -> None:
    page = s.sign_in("control-room@qxmh.example")
    page.goto("/triage/new")
    page.get_by_label("Given name").fill("Morgan")
    page.get_by_label("Family name").fill("Example")
    page.get_by_label("Date of birth").fill("1991-06-14")
    page.get_by_label("Where the advice was given").select_option(index=1)
    page.get_by_label("The advice you gave").fill(
        "Advised officers that the person could go home with a friend; GP to follow up in the morning."
    )
    page.get_by_label("Outcome").select_option(index=1)
    page.locator("input[name=s136]").first.check()
    page.locator("input[name=conveyance]").first.check()
    page.locator("input[name=crisis_team_referral]").last.check()
    click(page, page.get_by_role("button", name="Record the contact"))
    s.shoot(page, "triage")


def data_protection(s: Shooter) -> None:
    page = s.sign_in("dpo@qxla.example")
    page.goto("/audit")
    s.shoot(page, "audit")
    page.goto("/audit/verify")
    s.shoot(page, "audit-verify")


def library(s: Shooter) -> None:
    page = s.sign_in("analyst@qxph.example")
    page.goto("/library")
    s.shoot(page, "library")
    entries = page.locator("main table tbody a")
    if entries.count():
        click(page, entries.first)
        s.shoot(page, "library-entry")
    page.goto("/landscape")
    s.shoot(page, "landscape")


def school_leads(s: Shooter) -> list[str]:
    page = s.sign_in("admin@qxla.example")
    page.goto("/accounts")
    emails = page.locator("#accounts .cg-hint-inline").all_inner_texts()
    page.context.close()
    return [e.strip() for e in emails if e.strip().startswith("dsl@")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo")
    parser.add_argument("--data-dir", type=Path, default=Path("commonground-data"), help="the demo's data directory")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    password = (args.data_dir / "demo-password").read_text(encoding="ascii").strip()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        s = Shooter(browser, url=args.url, password=password, out=args.out)
        page = s.browser.new_page(base_url=s.url, viewport={"width": WIDTH, "height": 900})
        page.goto("/sign-in")
        s.shoot(page, "sign-in")
        hub_practitioner(s)
        school(s, school_leads(s))
        control_room(s)
        data_protection(s)
        library(s)
        browser.close()
    print(f"{len(s.taken)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
