"""The area looks like a real place: its people, and how often things happen and are seen.

Bands are wide on purpose (a few thousand people) but narrow enough to catch a rate that is
off by a factor of two or more from the figures docs/synth.md cites.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pytest
from synth_support import Area

from commonground.synth.exposures import ACE_IDS

START, END = "2020-11-01", "2026-10-31"


def _age_on(dob: str, on: str) -> int:
    b, d = date.fromisoformat(dob), date.fromisoformat(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


@pytest.fixture(scope="module")
def children(people: dict) -> set[str]:
    """Everyone under 18 at some time in the window."""
    return {p for p, r in people.items() if _age_on(r["date_of_birth"], START) < 18}


def test_age_structure_and_households(area: Area, people: dict) -> None:
    at_start = [r for r in people.values() if r["born_in_window"] == "false"]
    under_18 = sum(_age_on(r["date_of_birth"], START) < 18 for r in at_start) / len(at_start)
    over_65 = sum(_age_on(r["date_of_birth"], START) >= 65 for r in at_start) / len(at_start)
    assert 0.18 < under_18 < 0.24
    assert 0.13 < over_65 < 0.23
    members = Counter(
        r["household_id"]
        for r in area.rows("truth/households")
        if r["start"] <= START and (not r["end"] or r["end"] > START)
    )
    assert 2.1 < sum(members.values()) / len(members) < 2.6
    assert 0.25 < sum(n == 1 for n in members.values()) / len(members) < 0.38
    born = len(people) - len(at_start)
    assert 0.035 < born / len(at_start) < 0.09  # about ten births a year per thousand people


def test_emergency_attendances_per_person_year(area: Area, people: dict) -> None:
    rate = area.summary.rows["ed_attendances"] / (len(people) * 6)
    assert 0.28 < rate < 0.45
    intents = Counter(r["injury_intent"] for r in area.rows("ed_attendances"))
    assert intents["none"] > intents["accident"] > intents["assault"] > 0


def test_ace_exposures_among_children(area: Area, children: set[str]) -> None:
    exposed: dict[str, set[str]] = defaultdict(set)
    for r in area.rows("truth/exposures"):
        if (r["ace"] and r["start"] >= START) or (r["ace"] and (not r["end"] or r["end"] >= START)):
            exposed[r["ace"]].add(r["person_id"])
    share = {ace: len(exposed[ace]) / len(children) for ace in ACE_IDS}
    bands = {
        "ace.physical_abuse": (0.03, 0.14),
        "ace.emotional_abuse": (0.05, 0.2),
        "ace.sexual_abuse": (0.01, 0.07),
        "ace.physical_neglect": (0.02, 0.12),
        "ace.emotional_neglect": (0.03, 0.15),
        "ace.domestic_abuse": (0.03, 0.15),
        "ace.household_substance_misuse": (0.03, 0.16),
        "ace.household_mental_illness": (0.03, 0.16),
        "ace.household_imprisonment": (0.002, 0.04),
        "ace.parental_separation": (0.04, 0.2),
    }
    for ace, (lo, hi) in bands.items():
        assert lo < share[ace] < hi, f"{ace}: {share[ace]:.3f}"
    anyone = set().union(*exposed.values())
    assert 0.2 < len(anyone) / len(children) < 0.55


def test_most_abuse_is_never_referred(area: Area, records: dict) -> None:
    harmed = {
        r["person_id"]
        for r in area.rows("truth/exposures")
        if r["kind"] in ("physical_abuse", "emotional_abuse", "sexual_abuse", "physical_neglect")
        and (not r["end"] or r["end"] >= START)
    }
    referred = {
        records[("childrens_social_care", r["record_id"])]
        for r in area.rows("childrens_social_care")
        if {"16a", "17a", "18a", "19a"} & set(r["assessment_factors"].split(";"))
    }
    assert harmed and referred
    assert 0.05 < len(harmed & referred) / len(harmed) < 0.5
    assert len(referred - harmed) < 0.1 * len(referred)  # abuse factors are not invented


def test_adults_conditions(area: Area, people: dict) -> None:
    adults = sum(_age_on(r["date_of_birth"], END) >= 18 for r in people.values())
    kinds: dict[str, set[str]] = defaultdict(set)
    for r in area.rows("truth/exposures"):
        kinds[r["kind"]].add(r["person_id"])
    assert 0.03 < len(kinds["mental_illness"]) / adults < 0.09
    assert 0.015 < len(kinds["alcohol_misuse"]) / adults < 0.06
    assert 0.004 < len(kinds["drug_misuse"]) / adults < 0.03
    assert 0.01 < len(kinds["domestic_abuse_victim"]) / adults < 0.06
    assert kinds["revolving_door"] <= kinds["mental_illness"]


def test_school_age_children_are_on_a_roll(area: Area, people: dict, records: dict, defects: dict) -> None:
    on_roll = {records[("school_roll", r["record_id"])] for r in area.rows("school_roll")}
    school_age = {p for p, r in people.items() if 6 <= _age_on(r["date_of_birth"], END) <= 15}
    assert len(school_age & on_roll) / len(school_age) > 0.95
    right = wrong = 0
    for r in area.rows("school_roll"):
        if r["left_on"] or any(("school_roll", r["record_id"], c) in defects for c in ("year_group", "left_on")):
            continue
        dob = date.fromisoformat(people[records[("school_roll", r["record_id"])]]["date_of_birth"])
        born_year = dob.year if dob.month >= 9 else dob.year - 1
        expected = 2026 - (born_year + 5)  # the school year starting in September 2026
        got = 0 if r["year_group"] == "r" else int(r["year_group"])
        right += got == expected
        wrong += got != expected
    assert right > 0 and wrong == 0


def test_flags_are_needles_in_a_haystack(area: Area) -> None:
    categories = Counter(r["category"] for r in area.rows("police_incidents"))
    assert categories["domestic"] < 0.3 * sum(categories.values())
    roles = Counter(r["role"] for r in area.rows("police_incident_persons"))
    assert roles["witness"] > 0 and roles["reporting_person"] > 0 and roles["child_present"] > 0
