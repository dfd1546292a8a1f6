"""The truth files agree with the feeds and with themselves."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import date, timedelta

from synth_support import PEOPLE, SEED, Area

from commonground.contracts.values import nhs_number_is_valid
from commonground.synth.exposures import ACE_IDS

WINDOW_START, WINDOW_END = date(2020, 11, 1), date(2026, 10, 31)


def test_every_record_names_a_real_person(records: dict, people: dict) -> None:
    assert records
    assert set(records.values()) <= set(people)


def test_people(area: Area, people: dict) -> None:
    assert len(people) == area.summary.people >= PEOPLE
    born = [p for p in people.values() if p["born_in_window"] == "true"]
    assert len(people) - len(born) == PEOPLE
    assert all(WINDOW_START.isoformat() <= p["date_of_birth"] <= WINDOW_END.isoformat() for p in born)
    numbers = [p["nhs_number"] for p in people.values()]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("999") and nhs_number_is_valid(n) for n in numbers)
    for p in people.values():
        for parent, oldest in ((p["mother_id"], 50), (p["father_id"], 70)):
            if parent:
                gap = date.fromisoformat(p["date_of_birth"]) - date.fromisoformat(people[parent]["date_of_birth"])
                assert timedelta(days=15 * 365) < gap < timedelta(days=oldest * 365)
    changed = [p for p in people.values() if p["later_family_name"]]
    assert changed and all(p["later_family_name"] != p["family_name"] for p in changed)


def test_households_cover_everyone_without_gaps(area: Area, people: dict) -> None:
    stays = defaultdict(list)
    for r in area.rows("truth/households"):
        stays[r["person_id"]].append((r["start"], r["end"] or "9999-12-31", r["household_id"], r["uprn"]))
        assert len(r["uprn"]) == 12 and r["postcode"].startswith("Q")
    assert set(stays) == set(people)
    for pid, rows in stays.items():
        rows.sort()
        assert rows[0][0] <= max(WINDOW_START.isoformat(), people[pid]["date_of_birth"])
        assert rows[0][0] >= people[pid]["date_of_birth"]
        for (_, end, *_), (start, *_) in itertools.pairwise(rows):
            assert end == start, f"{pid} has a gap or an overlap"
        assert rows[-1][1] == "9999-12-31"


def test_households_share_addresses_only_with_their_own(area: Area) -> None:
    """Two households never live at the same address at the same time."""
    by_uprn = defaultdict(list)
    for r in area.rows("truth/households"):
        by_uprn[r["uprn"]].append((r["start"], r["end"] or "9999-12-31", r["household_id"]))
    for spells in by_uprn.values():
        spells.sort()
        for a, b in itertools.pairwise(spells):
            assert a[2] == b[2] or a[1] <= b[0]


def test_exposures(area: Area, people: dict) -> None:
    rows = area.rows("truth/exposures")
    assert rows
    assert {r["ace"] for r in rows} - {""} <= set(ACE_IDS)
    assert {r["ace"] for r in rows} >= {"", *ACE_IDS[:9]}
    for r in rows:
        assert r["person_id"] in people
        assert not r["end"] or r["start"] <= r["end"]
        if r["ace"]:
            dob = date.fromisoformat(people[r["person_id"]]["date_of_birth"])
            assert date.fromisoformat(r["start"]) < dob + timedelta(days=18 * 366), "ACEs happen in childhood"
        if r["other_person_id"]:
            assert r["other_person_id"] in people


def test_manifest(area: Area) -> None:
    manifest = json.loads((area.out / "truth" / "manifest.json").read_text())
    assert manifest["seed"] == SEED and manifest["people"] == PEOPLE
    assert manifest["window"] == {"start": "2020-11-01", "end": "2026-10-31"}
    assert manifest["rows"] == area.summary.rows
    assert manifest["generator_version"]
