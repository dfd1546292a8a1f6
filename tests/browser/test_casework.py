"""Each role does its main job in a real browser, by following links, filling forms and pressing buttons: the hub
practitioner reads a flag and refers it, the partner accepts and closes the referral, a school acknowledges a
notice and cannot open another school's, the control room logs a street triage, the data protection officer checks
the audit log and the administrator adds an account. axe-core runs on every page reached (see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import duckdb
import pytest
from browser_support import Area, Visitor
from playwright.sync_api import expect

from commonground.linkage.builds import require_current_build

pytestmark = pytest.mark.browser

Browse = Callable[[str], Visitor]
PARTNER = "Northshire Police"  # its agreement covers safeguarding children; its hub handles referrals
PARTNER_ACCOUNT = "vulnerability-hub@qxp.example"


def test_a_flag_is_read_referred_accepted_and_closed(browse: Browse, area: Area) -> None:
    mash = browse("mash@qxla.example")
    expect(mash.page.locator("h1")).to_be_visible()

    mash.nav("Queue")
    assert mash.heading() == "Your queue"
    mash.follow_href(f"/queue/{area.mash_item_id}")
    expect(mash.main.get_by_role("heading", name="Why this was flagged")).to_be_visible()
    evidence = mash.main.locator("table", has=mash.page.locator("caption", has_text="The evidence"))
    assert evidence.locator("tbody tr").count() >= 1
    mash.press("Claim it")
    assert "claimed" in mash.done().lower() or "yours" in mash.done().lower()

    # the person's id, as written in a case note: the record asks the purpose first
    mash.goto(f"/people/{area.mash_person_id}")
    assert mash.heading() == "Why are you opening this record?"
    mash.main.get_by_label(re.compile("^Safeguarding children", re.I)).check()
    mash.press("Open the record")
    expect(mash.main.get_by_text(area.mash_person_id).first).to_be_visible()
    assert mash.heading() != "Why are you opening this record?"

    # the person's page offers a referral too (#17); this one is made from the flag
    expect(mash.main.get_by_role("link", name="Refer to a partner")).to_have_attribute(
        "href", f"/referrals/new?person={area.mash_person_id}"
    )

    mash.goto(f"/queue/{area.mash_item_id}")
    mash.follow("Refer to a partner")
    assert mash.heading() == "Refer to a partner"
    # only the partners and purposes that can work are offered (#17): first the partner and the purpose
    mash.main.get_by_label(f"{PARTNER}: safeguarding children").check()
    mash.press("Continue")
    assert mash.heading() == f"Refer to {PARTNER}"
    mash.press("Send the referral")  # nothing chosen to share: refused, in words, on the records
    expect(mash.main.locator("#items-error")).to_contain_text("Choose at least one record to share")
    # then the records, one by one: the first record behind the flag only (the minimum necessary)
    mash.main.locator('input[name="items"]').first.check()
    mash.main.get_by_label("Why are you referring?").fill(
        "Domestic abuse at home, police called twice this year; please check the adults' history and advise."
    )
    mash.main.get_by_label(re.compile("^Yes, the person")).check()
    mash.press("Send the referral")
    assert "sent" in mash.done().lower()
    referral = re.sub(r"\?.*$", "", mash.page.url).rsplit("/", 1)[1]
    expect(mash.main.locator("#shared-items li")).to_have_count(1)

    partner = browse(PARTNER_ACCOUNT)
    partner.nav("Referrals")
    partner.follow_href(f"/referrals/{referral}")
    expect(partner.main.get_by_role("heading", name="What the referral shares")).to_be_visible()
    expect(partner.main.locator("#shared-items li")).to_have_count(1)
    expect(partner.main.get_by_text("Respond by")).to_be_visible()
    partner.press("Accept the referral")
    assert "accepted" in partner.done().lower()
    partner.main.get_by_label("Record an action").fill("Checked the adults' history; joint visit arranged.")
    partner.press("Record the action")
    partner.main.get_by_label("Close with an outcome").fill("Joint visit done; safety plan agreed with the family.")
    partner.press("Close the referral")
    assert "closed" in partner.done().lower()
    # Closing it ends the partner's access through it (#16): back on the list, which no longer shows it.
    assert "can no longer open" in partner.done().lower()
    expect(partner.main.locator(f'a[href="/referrals/{referral}"]')).to_have_count(0)

    mash.goto(f"/referrals/{referral}")
    expect(mash.main.get_by_text("safety plan agreed").first).to_be_visible()


def test_a_school_acknowledges_its_notice_and_cannot_open_another_schools(browse: Browse, area: Area) -> None:
    mine, other = sorted(area.notices)[:2]
    lead = browse(area.school_lead(mine))
    lead.nav("Notices")
    lead.follow_href(f"/notices/{area.notices[mine]}")
    assert lead.heading() == "The police attended a domestic-abuse incident"
    # siblings at one school are one notice, each pupil named, with how they are linked to the incident (#17)
    pupils = re.compile(r"^Your \d+ pupils linked to this incident$")
    expect(lead.main.get_by_role("heading", name=pupils)).to_be_visible()
    assert lead.main.locator("#notice-pupils tbody tr").count() >= 2
    expect(lead.main.get_by_text("Present: named on the incident as present, a victim or a witness")).to_be_visible()
    expect(lead.main.get_by_text("Date and time of the incident")).to_be_visible()
    expect(lead.main.get_by_text(re.compile(r"notice \d+", re.IGNORECASE))).to_have_count(0)  # no internal number
    lead.press("Acknowledge: I have read this notice")
    assert "acknowledged" in lead.done().lower()
    expect(lead.main.locator(".cg-tag").first).to_have_text("Acknowledged")

    response = lead.goto(f"/notices/{area.notices[other]}")  # the other school's notice, by changing the URL
    assert response is not None and response.status == 404
    expect(lead.page.locator("h1")).to_have_text(re.compile("not found", re.I))
    assert "Operation Encompass" not in lead.main.inner_text()


def test_the_control_room_logs_a_street_triage(browse: Browse) -> None:
    control = browse("control-room@qxmh.example")
    control.nav("Street triage")
    control.follow("Record a triage contact")
    form = control.main
    form.get_by_label("Given name").fill("Morgan")
    form.get_by_label("Family name").fill("Testwell")
    form.get_by_label("Date of birth").fill("1991-06-14")
    form.get_by_label("Where the advice was given").select_option(index=1)
    form.get_by_label("The advice you gave").fill("Advised officers the person could go home with a friend.")
    form.get_by_label("Outcome").select_option(index=1)
    form.locator("input[name=s136]").first.check()
    form.locator("input[name=conveyance]").first.check()
    form.get_by_label("No").last.check()
    control.press("Record the contact")
    assert "recorded" in control.done().lower()
    expect(control.main.locator("#triage-log")).to_contain_text("Testwell")


def test_the_dpo_verifies_the_audit_log(browse: Browse) -> None:
    dpo = browse("dpo@qxla.example")
    dpo.nav("Audit log")
    assert dpo.heading() == "Audit log"
    dpo.main.get_by_label("Outcome").select_option("allowed")
    dpo.press("Apply filters")
    expect(dpo.main.locator("#audit")).to_be_visible()
    dpo.follow("Check that no entry was edited or deleted")
    expect(dpo.main.locator("#verdict")).to_contain_text("The audit log is intact")
    dpo.goto("/audit")
    dpo.follow("Break-glass reports")
    dpo.nav("Agreements")


def test_the_dpo_finds_a_person_and_starts_a_subject_access_request(browse: Browse, area: Area) -> None:
    """By name, never by an internal id (#17); the "Choose" buttons must be readable (they were white on white, the
    header's link-button style, which axe-core did not flag)."""
    dpo = browse("dpo@qxla.example")
    dpo.nav("Subject access")
    con = duckdb.connect(str(require_current_build(area.data_dir).path / "build.duckdb"), read_only=True)
    try:
        (family,) = con.execute(
            "SELECT family_name FROM persons WHERE family_name IS NOT NULL ORDER BY person_id LIMIT 1"
        ).fetchone() or ("",)
    finally:
        con.close()
    dpo.main.get_by_label("Family name").fill(family)
    dpo.press("Search")
    first = dpo.main.locator("#people-found button").first
    expect(first).to_be_visible()
    colour = first.evaluate("b => getComputedStyle(b).color")
    assert colour != "rgb(255, 255, 255)", "the Choose buttons are white on the white page"
    first.click()
    expect(dpo.main.get_by_role("button", name=re.compile("download|export", re.I)).first).to_be_visible()


def test_the_administrator_adds_an_account(browse: Browse) -> None:
    admin = browse("admin@qxla.example")
    admin.nav("Accounts")
    form = admin.main
    form.get_by_label("Work email address").fill("new-colleague@qxla.example")
    form.get_by_label("Name", exact=True).fill("Dana New")
    form.get_by_label("Organisation").select_option(label="Northshire Council Children's Services")
    form.get_by_label("Role").select_option(label="Hub practitioner")
    admin.press("Add the account")
    assert admin.heading() == "Account added"
    expect(admin.main.locator("#one-time-password")).not_to_be_empty()
    admin.nav("Organisations")
