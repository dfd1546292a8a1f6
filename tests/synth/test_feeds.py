"""Every feed keeps its contract: right header, and every cell valid except the listed defects."""

from __future__ import annotations

from collections import Counter

import pytest
from synth_support import Area, cell_ok

from commonground.contracts import FEEDS


@pytest.mark.parametrize("feed", list(FEEDS))
def test_header_is_the_contract(area: Area, feed: str) -> None:
    header = next(area.raw(feed))
    assert tuple(header) == FEEDS[feed].column_names


@pytest.mark.parametrize("feed", list(FEEDS))
def test_only_listed_defects_are_invalid(area: Area, feed: str, defects: dict) -> None:
    contract = FEEDS[feed]
    rows = area.raw(feed)
    next(rows)
    unlisted: Counter[str] = Counter()
    listed_but_valid = []
    n = 0
    for row in rows:
        n += 1
        assert len(row) == len(contract.columns)
        for column, raw in zip(contract.columns, row, strict=True):
            key = (feed, row[0], column.name)
            ok = cell_ok(raw, column)
            if key in defects:
                if ok:
                    listed_but_valid.append(key)
            elif not ok:
                unlisted[column.name] += 1
    assert n == area.summary.rows[feed]
    assert not unlisted, f"invalid cells not listed in defects.csv: {dict(unlisted)}"
    assert not listed_but_valid


def test_defects_are_few_one_per_row_and_correctly_graded(area: Area, defects: dict) -> None:
    rows_with_defect = Counter((feed, rid) for feed, rid, _ in defects)
    assert max(rows_with_defect.values()) == 1
    total = sum(area.summary.rows.values())
    assert 0 < len(defects) < total * 0.003
    kinds = Counter()
    for (feed, _, column), d in defects.items():
        col = FEEDS[feed].column(column)
        assert column != "record_id" and column not in FEEDS[feed].unique
        assert d["kind"] == ("warning" if col.blank_keeps_row else "quarantine")
        kinds[d["defect"]] += 1
    assert len(kinds) >= 5  # a variety of breakage, not one trick


def test_defect_rows_are_still_in_the_truth(area: Area, defects: dict, records: dict) -> None:
    for feed, rid, _ in defects:
        if FEEDS[feed].person_level:
            assert (feed, rid) in records


@pytest.mark.parametrize("feed", [f for f, c in FEEDS.items() if c.person_level])
def test_every_person_row_is_in_records(area: Area, feed: str, records: dict) -> None:
    ids = [r["record_id"] for r in area.rows(feed)]
    assert len(ids) == len(set(ids)), "record ids are unique"
    assert {rid for f, rid in records if f == feed} == set(ids)


def test_record_ids_look_like_partner_ids(area: Area) -> None:
    assert area.rows("police_incidents")[0]["record_id"] == "PI-00000001"
    assert area.rows("police_incidents")[0]["incident_id"].startswith("QXP-2020")
    assert area.rows("ed_attendances")[0]["record_id"].startswith("ED2020-")
    assert area.rows("custody_records")[0]["record_id"].startswith("CR/20/")


def test_cross_references_hold(area: Area, defects: dict) -> None:
    incidents = {r["incident_id"] for r in area.rows("police_incidents")}
    for r in area.rows("police_incident_persons"):
        if ("police_incident_persons", r["record_id"], "incident_id") not in defects:
            assert r["incident_id"] in incidents
    linked = [r["incident_id"] for r in area.rows("street_triage") if r["incident_id"]]
    assert linked and all(i in incidents for i in linked if " " not in i)
    urns = {r["school_urn"] for r in area.rows("schools")}
    assert all(
        r["school_urn"] in urns
        for r in area.rows("school_roll")
        if ("school_roll", r["record_id"], "school_urn") not in defects
    )
    postcodes = {r["postcode"] for r in area.rows("postcode_areas")}
    for feed in ("ed_attendances", "police_incidents", "schools"):
        for r in area.rows(feed):
            if r["postcode"] and (feed, r["record_id"], "postcode") not in defects:
                assert r["postcode"] in postcodes


def test_domestic_incidents_name_victim_suspect_and_children(area: Area, defects: dict) -> None:
    domestic = {r["incident_id"]: r for r in area.rows("police_incidents") if r["category"] == "domestic"}
    assert domestic
    roles: dict[str, set[str]] = {i: set() for i in domestic}
    for r in area.rows("police_incident_persons"):
        if r["incident_id"] in domestic:
            roles[r["incident_id"]].add(r["role"])
    incomplete = [i for i, got in roles.items() if not {"victim", "suspect"} <= got]
    # only a deliberately broken person row (its role or incident reference) may leave one short
    broken = [k for k in defects if k[0] == "police_incident_persons" and k[2] in ("role", "incident_id")]
    assert len(incomplete) <= len(broken)
    with_child = [i for i, r in domestic.items() if "child_present" in r["qualifiers"].split(";")]
    assert with_child and all("domestic_abuse" in r["qualifiers"] for r in domestic.values())
    assert sum("child_present" in roles[i] for i in with_child) >= 0.7 * len(with_child)


def test_assault_items_only_on_assaults(area: Area, defects: dict) -> None:
    istv = ("assault_at", "assault_location_type", "weapon")
    assaults = 0
    for r in area.rows("ed_attendances"):
        if any(("ed_attendances", r["record_id"], c) in defects for c in (*istv, "injury_intent")):
            continue
        if r["injury_intent"] == "assault":
            assaults += 1
            assert r["assault_at"] and r["assault_at"] <= r["arrived_at"]
        else:
            assert not any(r[c] for c in istv)
    assert assaults > 0


def test_reference_feeds(area: Area) -> None:
    schools = area.rows("schools")
    phases = Counter(s["phase"] for s in schools)
    assert phases["primary"] >= 1 and phases["secondary"] >= 1
    assert all(s["dsl_email"].endswith(".school.example.org") for s in schools)
    postcodes = area.rows("postcode_areas")
    assert all(p["postcode"].startswith("Q") for p in postcodes)
    assert {p["deprivation_decile"] for p in postcodes} <= {str(d) for d in range(1, 11)}


ORDERED = {
    "custody_records": ("arrested_at", "released_at"),
    "missing_episodes": ("reported_at", "returned_at"),
    "substance_treatment": ("start_date", "end_date"),
    "childrens_social_care": ("referral_date", "closure_date"),
    "custodial_sentences": ("received_at", "released_at"),
    "school_roll": ("enrolled_on", "left_on"),
    "ed_attendances": ("assault_at", "arrived_at"),
}


@pytest.mark.parametrize("feed", list(ORDERED))
def test_nothing_ends_before_it_starts(area: Area, feed: str, defects: dict) -> None:
    earlier, later = ORDERED[feed]
    checked = 0
    for r in area.rows(feed):
        if any((feed, r["record_id"], c) in defects for c in (earlier, later)) or not (r[earlier] and r[later]):
            continue
        checked += 1
        assert r[earlier] <= r[later], (feed, r["record_id"])
    assert checked > 0
