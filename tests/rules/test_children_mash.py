"""Literal scenarios for the children's flags routed to the MASH (#17): domestic abuse, a parent's mental ill health
and substance misuse together at home, and a child living with an adult in repeated crisis or repeat custody with
multiple needs; each with the near misses at its boundaries."""

from __future__ import annotations

from datetime import datetime

import pytest

from .conftest import Outcome, run_scenario
from .literal import Cases, Expect, check, fires, silent
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)  # a Wednesday
RED = "2025-01-15T12:00:00"  # 2 hours: usually amber, raised one step (the latest record within 7 days)
GREEN = "2025-01-16T10:00:00"  # 24 hours (usually amber, lowered one step when the latest record is weeks old)
MASH = "local_authority/mash"
TRIO = "child.co_occurring_adversity"
CRISIS = "child.household_adult_in_crisis"
DOOR = "child.household_adult_revolving_door"

cases = Cases()


def family(s: Scenario, name: str, *, kid_born: str = "2012-04-01", moved_in: str = "2015-01-01") -> tuple[str, str]:
    """A mother and her child living together at their own address; returns (mother, child)."""
    mum = s.person(f"{name}_mum", born="1985-03-03")
    kid = s.person(f"{name}_kid", born=kid_born)
    s.household(f"H-{name}", uprn=f"U{name}", members=[(mum, moved_in, None), (kid, kid_born, None)])
    return mum, kid


def da_at_home(s: Scenario, name: str, at: str) -> str:
    incident = s.police_incident(at=at, uprn=f"U{name}")
    return f"PI-{incident}"


# -- co-occurring adversity -------------------------------------------------------------------------------


@cases.add
def trio_all_three_within_a_year(s: Scenario) -> list[Expect]:
    mum, kid = family(s, "trio")
    da = da_at_home(s, "trio", "2024-03-01 22:00")
    mh = s.mh_contact(mum, on="2024-09-01", service="crisis")
    tx = s.treatment(mum, start="2024-12-01", end="2025-01-05")
    return [
        fires(
            kid,
            TRIO,
            ("police_incidents", da),
            ("mental_health_contacts", mh),
            ("substance_treatment", tx),
            first="2024-03-01T22:00:00",
            route_to=MASH,
            due_by=GREEN,  # the latest record (treatment from 1 December) is 45 days old: lowered one step
        ),
        silent(mum, TRIO, "a children's flag: the adult is not in its population"),
    ]


@cases.add
def trio_from_social_care_factors(s: Scenario) -> list[Expect]:
    _, kid = family(s, "csc")
    assessment = s.social_care(kid, on="2024-12-10", factors=["3b", "4b", "2b"])
    return [fires(kid, TRIO, ("childrens_social_care", assessment), route_to=MASH, due_by=GREEN)]  # 36 days old


@cases.add
def trio_near_misses(s: Scenario) -> list[Expect]:
    mum2, two = family(s, "two")
    da_at_home(s, "two", "2024-11-01 22:00")
    s.mh_contact(mum2, on="2024-12-01", service="crisis")
    s.social_care(two, on="2024-12-05", factors=["17a", "16a", "3b"])  # more adversity, still only two of the three
    mum_far, far = family(s, "far")
    da_at_home(s, "far", "2023-12-01 22:00")  # 366 days before the crisis
    s.mh_contact(mum_far, on="2024-12-01", service="crisis")
    s.treatment(mum_far, start="2024-12-20")
    mum_old, old = family(s, "old")
    da_at_home(s, "old", "2024-01-01 22:00")
    s.mh_contact(mum_old, on="2024-03-01", service="crisis")
    s.treatment(mum_old, start="2024-06-01", end="2024-09-01")  # all of it more than 90 days ago
    mum_away, away = family(s, "away")
    da_at_home(s, "away", "2024-11-01 22:00")
    s.treatment(mum_away, start="2024-12-20")
    dad = s.person("away_dad", born="1980-01-01")
    s.household("H-dad", uprn="Udad", members=[(dad, "2020-01-01", None)])
    s.mh_contact(dad, on="2024-12-01", service="crisis")  # a father who lives elsewhere
    mum_gp, gp = family(s, "gp")
    da_at_home(s, "gp", "2024-11-01 22:00")
    s.treatment(mum_gp, start="2024-12-20")
    s.mh_contact(mum_gp, on="2024-12-01", service="community")  # routine care is not a crisis
    return [
        silent(two, TRIO, "domestic abuse and mental ill health, with other harms, but no substance misuse"),
        silent(far, TRIO, "domestic abuse more than 365 days before the other two"),
        silent(old, TRIO, "the latest record more than 90 days before as-of"),
        silent(away, TRIO, "the adult in crisis does not live with the child"),
        silent(gp, TRIO, "a community mental-health contact is not crisis care"),
    ]


# -- a household adult in repeated crisis -----------------------------------------------------------------


@cases.add
def crisis_adult_at_home(s: Scenario) -> list[Expect]:
    mum, kid = family(s, "cris")
    a = s.triage(mum, at="2024-12-20 23:00")
    b = s.mh_contact(mum, on="2025-01-02", service="crisis")
    c = s.mh_contact(mum, on="2025-01-10", service="liaison", section="136")
    return [
        fires(
            kid,
            CRISIS,
            ("street_triage", a),
            ("mental_health_contacts", b),
            ("mental_health_contacts", c),
            route_to=MASH,
            due_by=RED,  # the latest crisis was 5 days ago: raised one step
        ),
        fires(
            mum,
            "adult.repeat_mental_health_crisis",
            ("street_triage", a),
            ("mental_health_contacts", b),
            ("mental_health_contacts", c),
        ),
    ]


@cases.add
def crisis_near_misses(s: Scenario) -> list[Expect]:
    mum2, two = family(s, "cr2")
    s.triage(mum2, at="2024-12-20 23:00")
    s.triage(mum2, at="2025-01-10 23:00")
    grown = s.person("cr_adult_son", born="2004-01-01")
    mum_g = s.person("cr_g_mum", born="1975-01-01")
    s.household("H-crg", uprn="Ucrg", members=[(mum_g, "2004-01-01", None), (grown, "2004-01-01", None)])
    for day in ("2024-12-20", "2025-01-02", "2025-01-10"):
        s.triage(mum_g, at=f"{day} 23:00")
    return [
        silent(two, CRISIS, "two crises"),
        silent(grown, CRISIS, "the son is 21: not a child"),
    ]


@cases.add
def crisis_adult_moved_out_before(s: Scenario) -> list[Expect]:
    mum = s.person("crm_mum", born="1985-03-03")
    kid = s.person("crm_kid", born="2012-04-01")
    s.household("H-crm", uprn="Ucrm", members=[(mum, "2012-04-01", "2024-11-30"), (kid, "2012-04-01", None)])
    for day in ("2024-12-20", "2025-01-02", "2025-01-10"):
        s.triage(mum, at=f"{day} 23:00")
    return [silent(kid, CRISIS, "the mother moved out before the crises")]


# -- a household adult in repeat custody with multiple needs ------------------------------------------------


@cases.add
def revolving_door_adult_at_home(s: Scenario) -> list[Expect]:
    dad, kid = family(s, "door")
    c1 = s.custody(dad, at="2024-03-01 23:00")
    c2 = s.custody(dad, at="2024-07-01 23:00", vulnerabilities=["substance"])
    c3 = s.custody(dad, at="2024-12-01 23:00")
    mh = s.mh_contact(dad, on="2024-08-10", service="community")
    return [
        fires(
            kid,
            DOOR,
            ("custody_records", c1),
            ("custody_records", c2),
            ("custody_records", c3),
            ("mental_health_contacts", mh),
            route_to=MASH,
            due_by=GREEN,
        ),
        fires(
            dad,
            "adult.revolving_door",
            ("custody_records", c1),
            ("custody_records", c2),
            ("custody_records", c3),
            ("mental_health_contacts", mh),
        ),
    ]


@cases.add
def revolving_door_near_misses(s: Scenario) -> list[Expect]:
    one_need, kid1 = family(s, "door1")
    for day in ("2024-03-01", "2024-07-01", "2024-12-01"):
        s.custody(one_need, at=f"{day} 23:00", vulnerabilities=["substance"])
    s.treatment(one_need, start="2024-05-01")
    twice, kid2 = family(s, "door2")
    s.custody(twice, at="2024-07-01 23:00", vulnerabilities=["substance", "mental_health"])
    s.custody(twice, at="2024-12-01 23:00")
    old, kid3 = family(s, "door3")
    s.custody(old, at="2024-01-01 23:00", vulnerabilities=["substance", "mental_health"])
    s.custody(old, at="2024-03-01 23:00")
    s.custody(old, at="2024-06-01 23:00")
    return [
        silent(kid1, DOOR, "three custodies but one kind of need"),
        silent(kid2, DOOR, "two custodies"),
        silent(kid3, DOOR, "the latest custody more than 90 days ago"),
    ]


@pytest.fixture(scope="module")
def children_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, dict[str, list[Expect]]]:
    s = Scenario()
    expectations = {name: build(s) for name, build in cases.items()}
    outcome = run_scenario(s, tmp_path_factory.mktemp("children") / "build", as_of=AS_OF)
    return outcome, expectations


@pytest.mark.parametrize("name", list(cases))
def test_children_case(children_run: tuple[Outcome, dict[str, list[Expect]]], name: str) -> None:
    outcome, expectations = children_run
    check(outcome, name, expectations[name])


def test_the_flags_say_why_in_words(children_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = children_run
    text = outcome.explain("trio_kid")
    assert f"[flag] {TRIO} v1: Domestic abuse, mental ill health and substance misuse together at home" in text
    assert "not a count of adverse experiences" in text
    assert "Routed to local_authority/mash (green), due by 2025-01-16 10:00" in text
    door = outcome.explain("door_kid")
    assert "[record of person door_mum]" in door
    assert "Routed to local_authority/mash (green), due by 2025-01-16 10:00" in door
