"""What works, in a real browser: a police officer writes a library entry and submits it, two reviewers of other
organisations approve it and it is published; the administrator sends a landscape survey to a partner, the partner
answers it and everyone reads the report. axe-core runs on every page reached (see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browser_support import Visitor
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

Browse = Callable[[str], Visitor]
TITLE = "Browser-test mentoring for young people after a missing episode"


def test_a_library_entry_is_written_reviewed_twice_and_published(browse: Browse) -> None:
    author = browse("officer@qxp.example")
    author.nav("What works")
    author.follow("Add an entry")
    form = author.main
    form.get_by_label("Title", exact=True).fill(TITLE)
    form.get_by_label("Summary", exact=True).fill(
        "Weekly mentoring for twelve weeks after a young person returns from missing."
    )
    for field in ("Problem", "Age", "Setting", "Level of need"):
        form.get_by_label(field, exact=True).select_option(index=1)
    form.get_by_label("Mechanism", exact=True).fill(
        "A trusted adult helps the young person plan what to do when things go wrong."
    )
    author.press("Save as a draft")
    assert "draft" in author.done().lower()
    author.press("Submit for review")
    assert "submitted" in author.done().lower()

    for reviewer in ("mash@qxla.example", "analyst@qxph.example"):
        person = browse(reviewer)
        person.nav("What works")
        person.follow("Entries waiting for review")
        person.follow(TITLE)
        person.main.get_by_label("Approve for publication").check()
        person.press("Record the review")
        assert "recorded" in person.done().lower()

    reader = browse("recovery@qxdas.example")
    reader.nav("What works")
    reader.follow(TITLE)
    assert reader.heading() == TITLE
    expect(reader.main.locator("#reviews li")).to_have_count(2)


def test_a_survey_is_sent_answered_and_reported(browse: Browse) -> None:
    admin = browse("admin@qxla.example")
    admin.nav("Landscape review")
    admin.follow("All surveys")
    admin.main.get_by_label("Title").fill("Browser-test survey of collaborations")
    admin.main.get_by_label("Introduction").fill("Which joint work you do, with whom, and what holds it back.")
    admin.press("Create the survey")
    assert "created" in admin.done().lower()
    survey = re.sub(r"\?.*$", "", admin.page.url).rstrip("/").rsplit("/", 1)[1]
    admin.main.get_by_label("Northshire Mental Health NHS Foundation Trust").check()
    admin.press("Send the survey")
    assert "sent" in admin.done().lower()

    partner = browse("crisis-team@qxmh.example")
    partner.nav("Landscape review")
    partner.follow("Answer it for your organisation")
    for group in partner.main.locator("fieldset").all():
        group.locator("input").first.check()
    for text in partner.main.locator("textarea").all():
        text.fill("A joint street-triage car on Friday and Saturday nights.")
    partner.press("Save your organisation's answers")
    assert "saved" in partner.done().lower()

    admin.goto(f"/landscape?survey={survey}")
    expect(admin.main.get_by_text(re.compile(r"1 of 1\b")).first).to_be_visible()
