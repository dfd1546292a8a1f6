"""The errors real extracts have are really injected, at about the rates docs/synth.md gives."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from synth_support import Area

from commonground.synth.identity import PROFILES
from commonground.synth.namedata import NICKNAMES
from commonground.synth.names import ascii_fold

IDENTITY = ("given_name", "family_name", "date_of_birth", "sex", "postcode", "address", "nhs_number", "uprn")


@dataclass
class Seen:
    rows: int
    counts: Counter[str]


def _compare(area: Area, feed: str, people: dict, records: dict, defects: dict) -> Seen:
    counts: Counter[str] = Counter()
    n = 0
    for r in area.rows(feed):
        if any((feed, r["record_id"], c) in defects for c in IDENTITY):
            continue
        n += 1
        true = people[records[(feed, r["record_id"])]]
        given, family = r["given_name"], r["family_name"]
        t_given = true["given_name"]
        t_families = {true["family_name"], true["later_family_name"]} - {""}
        if ascii_fold(given) != ascii_fold(t_given) and ascii_fold(given) in {
            ascii_fold(v) for v in NICKNAMES.get(t_given, ())
        }:
            counts["nickname"] += 1
        if given == true["family_name"] and family.lower() == t_given.lower():
            counts["swapped"] += 1
        if family.isupper() and len(family) > 1:
            counts["upper_family"] += 1
        if true["later_family_name"] and family.lower() == true["family_name"].lower():
            counts["old_family_name"] += 1
        if true["later_family_name"] and family.lower() == true["later_family_name"].lower():
            counts["new_family_name"] += 1
        if (
            given.lower() not in {t_given.lower(), ascii_fold(t_given).lower()}
            and family.lower() in {f.lower() for f in t_families} | {ascii_fold(f).lower() for f in t_families}
            and abs(len(given) - len(t_given)) <= 1
            and given[0] == t_given[0]
        ):
            counts["given_typo_or_variant"] += 1
        dob, t_dob = r["date_of_birth"], true["date_of_birth"]
        if dob != t_dob and dob[:4] == t_dob[:4] and dob[5:7] == t_dob[8:10] and dob[8:10] == t_dob[5:7]:
            counts["dob_transposed"] += 1
        if dob[4:] == t_dob[4:] and abs(int(dob[:4]) - int(t_dob[:4])) == 1:
            counts["dob_year"] += 1
        counts["sex_unknown"] += r["sex"] == "U"
        counts["nhs_blank"] += r["nhs_number"] == ""
        counts["nhs_other_person"] += r["nhs_number"] not in ("", true["nhs_number"])
        counts["no_fixed_abode"] += r["postcode"] == "" and r["address"].lower() in ("no fixed abode", "nfa")
        counts["uprn_present"] += r["uprn"] != ""
    return Seen(rows=n, counts=counts)


@pytest.fixture(scope="module")
def police(area: Area, people: dict, records: dict, defects: dict) -> Seen:
    return _compare(area, "police_incident_persons", people, records, defects)


@pytest.fixture(scope="module")
def ed(area: Area, people: dict, records: dict, defects: dict) -> Seen:
    return _compare(area, "ed_attendances", people, records, defects)


def _rate(seen: Seen, what: str) -> float:
    return seen.counts[what] / seen.rows


def test_nhs_numbers_mostly_missing_from_police_and_present_in_health(police: Seen, ed: Seen) -> None:
    assert _rate(police, "nhs_blank") > 0.9
    assert _rate(ed, "nhs_blank") < 0.1
    assert ed.counts["nhs_other_person"] >= 1  # a family member's number on someone's record


def test_nicknames_and_alternative_spellings(police: Seen, ed: Seen) -> None:
    # A nickname needs a name that has one (about a third of given names do).
    assert (
        0.2 * PROFILES["police_incident_persons"].nickname
        < _rate(police, "nickname")
        < PROFILES["police_incident_persons"].nickname
    )
    assert 0 < _rate(ed, "nickname") < _rate(police, "nickname")


def test_dates_of_birth_transposed_and_off_by_a_year(police: Seen, ed: Seen) -> None:
    both = Seen(rows=police.rows + ed.rows, counts=police.counts + ed.counts)
    expected = (
        (
            PROFILES["police_incident_persons"].dob_transposed * police.rows
            + PROFILES["ed_attendances"].dob_transposed * ed.rows
        )
        / both.rows
        * 0.37
    )  # day <= 12, day != month
    assert 0.3 * expected < _rate(both, "dob_transposed") < 3 * expected
    assert both.counts["dob_year"] > 0


def test_swapped_names_unknown_sex_and_shouting_surnames(police: Seen, area: Area) -> None:
    assert police.counts["swapped"] > 0
    assert 0.005 < _rate(police, "sex_unknown") < 0.05
    assert 0.4 < _rate(police, "upper_family") < 0.8
    custody = area.rows("custody_records")
    assert sum(r["family_name"].isupper() for r in custody) > 0.95 * len(custody)


def test_typos_and_variants_of_given_names(police: Seen) -> None:
    assert police.counts["given_typo_or_variant"] > 0


def test_names_after_marriage_are_sometimes_stale(area: Area, people: dict, records: dict, defects: dict) -> None:
    old = new = 0
    for feed in ("police_incident_persons", "ed_attendances", "mental_health_contacts", "school_roll"):
        seen = _compare(area, feed, people, records, defects)
        old += seen.counts["old_family_name"]
        new += seen.counts["new_family_name"]
    assert old > 0 and new > 0


def test_no_fixed_abode_and_uprns(area: Area, people: dict, records: dict, defects: dict, ed: Seen) -> None:
    custody = _compare(area, "custody_records", people, records, defects)
    assert custody.counts["no_fixed_abode"] > 0
    assert ed.counts["uprn_present"] == 0  # emergency departments do not hold UPRNs
    roll = _compare(area, "school_roll", people, records, defects)
    assert 0.4 < _rate(roll, "uprn_present") < 0.8
