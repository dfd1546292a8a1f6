"""The quality report against a hand-made truth (with and without linkage) and the fairness report."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from commonground.errors import UserError
from commonground.rules import fairness_report, run_rules, sensitivity_report

from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Four families and their truth. Build persons are ``B*``; truth persons are ``T*``."""
    s = Scenario()
    # A: a mother's crisis (mental-health trust) and the child's neglect (social care): linkage joins them.
    mum_a = s.person("Ba_mum", born="1985-01-01")
    kid_a = s.person("Ba_kid", born="2013-01-01")
    s.household("HA", uprn="UA", members=[(mum_a, "2012-01-01", None), (kid_a, "2013-01-01", None)])
    s.mh_contact(mum_a, on="2022-03-01", service="crisis")
    s.social_care(kid_a, on="2022-05-01", factors=["16a"])
    s.social_care(kid_a, on="2023-05-01", factors=["16a"])
    # B: a child named on a domestic-abuse incident: police alone can see it.
    kid_b = s.person("Bb_kid", born="2012-01-01")
    s.police_incident(at="2024-06-01 22:00", uprn="UB-elsewhere", persons={kid_b: "child_present"})
    # C: exposed to a parent's drug use that no agency recorded.
    kid_c = s.person("Bc_kid", born="2014-01-01")
    s.enrol(kid_c, urn="100001")
    # D: social care found neglect; the truth says otherwise (a false positive). One of D's records
    # really belongs to C (a linkage error); D's own records are the majority.
    kid_d = s.person("Bd_kid", born="2011-01-01")
    s.social_care(kid_d, on="2021-01-01", factors=["16a"])
    s.enrol(kid_d, urn="100001")
    s.enrol(kid_d, urn="100002")
    build = s.write(tmp_path_factory.mktemp("quality") / "build")

    truth_of = {mum_a: "Ta_mum", kid_a: "Ta_kid", kid_b: "Tb_kid", kid_c: "Tc_kid", kid_d: "Td_kid"}
    records = []
    with duckdb.connect(str(build / "build.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT feed, record_id, person_id FROM person_records ORDER BY feed, record_id").fetchall()
    d_enrolments = [r for r in rows if r[2] == kid_d and r[0] == "school_roll"]
    for feed, record_id, person_id in rows:
        owner = "Tc_kid" if (feed, record_id, person_id) == d_enrolments[-1] else truth_of[person_id]
        records.append([feed, record_id, owner])
    truth = build.parent / "area" / "truth"
    _write_csv(truth / "records.csv", ["feed", "record_id", "person_id"], records)
    _write_csv(
        truth / "exposures.csv",
        ["person_id", "kind", "start", "end", "ace"],
        [
            ["Ta_kid", "household", "2022-03-01", "", "household_mental_illness"],
            ["Ta_kid", "self", "2022-01-01", "2023-12-31", "physical_neglect"],
            ["Tb_kid", "household", "2024-06-01", "", "domestic_abuse"],
            ["Tc_kid", "household", "2019-01-01", "", "household_substance_misuse"],
            ["Tc_kid", "self", "2020-01-01", "", "physical_neglect"],  # D's majority is Td, not Tc
            ["Td_kid", "household", "2025-06-01", "", "household_imprisonment"],  # after the as-of date
            ["Ta_mum", "", "", "", ""],  # not an ACE
        ],
    )
    return build, truth.parent


def test_sensitivity_and_ppv_with_and_without_linkage(area: tuple[Path, Path]) -> None:
    build, truth_dir = area
    report = sensitivity_report(build, truth_dir, as_of=AS_OF)
    assert report.as_of == AS_OF
    assert [r.ace for r in report.rows][:2] == ["ace.physical_abuse", "ace.emotional_abuse"] and len(report.rows) == 10

    neglect = report.row("ace.physical_neglect")
    assert (neglect.exposed, neglect.linked.indicated, neglect.linked.true_positives) == (2, 2, 1)
    assert neglect.linked.sensitivity == 0.5 and neglect.linked.ppv == 0.5
    assert (neglect.single_agency.indicated, neglect.single_agency.true_positives) == (
        2,
        1,
    )  # two records of A: one truth person

    household = report.row("ace.household_mental_illness")
    assert household.linked.sensitivity == 1.0 and household.linked.ppv == 1.0
    assert household.single_agency.indicated == 0 and household.single_agency.sensitivity == 0.0
    assert household.single_agency.ppv is None

    abuse = report.row("ace.domestic_abuse")
    assert abuse.linked.sensitivity == abuse.single_agency.sensitivity == 1.0

    substance = report.row("ace.household_substance_misuse")
    assert substance.exposed == 1 and substance.linked.sensitivity == 0.0

    prison = report.row("ace.household_imprisonment")
    assert prison.exposed == 0 and prison.linked.sensitivity is None  # the exposure starts after as-of

    text = report.to_markdown()
    assert "| ace.household_mental_illness | 1 | 1 of 1 | 100.0 % | 100.0 % | 0 of 0 | 0.0 % | - |" in text


def test_the_truth_folder_must_exist(tmp_path: Path, area: tuple[Path, Path]) -> None:
    with pytest.raises(UserError, match=r"no truth/exposures\.csv"):
        sensitivity_report(area[0], tmp_path)


@pytest.fixture(scope="module")
def fair_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    s = Scenario()
    s.postcode_area(postcode="AB1 2CD", decile=2)
    s.postcode_area(postcode="ZZ1 1ZZ", decile=9)
    for n in range(4):
        girl = s.person(f"girl{n}", born="2012-03-01", sex="F", postcode="AB1 2CD")
        boy = s.person(f"boy{n}", born="2008-03-01", sex="M", postcode="ZZ1 1ZZ")
        s.enrol(girl, urn="100001")
        s.enrol(boy, urn="100002")
        if n < 2:
            s.social_care(girl, on="2023-01-01", factors=["16a"])
        if n < 1:
            s.social_care(boy, on="2023-01-01", factors=["16a"])
    adult = s.person("adult0", born="1980-01-01", postcode="AB1 2CD")
    s.custody(adult, at="2024-01-01 10:00")
    build = s.write(tmp_path_factory.mktemp("fair") / "build")
    run_rules(build_dir=build, as_of=AS_OF)
    return build


def test_fairness_rates_and_ratios(fair_build: Path) -> None:
    report = fairness_report(fair_build, min_group=1)
    by_sex = report.rates("ace.physical_neglect", "sex")
    assert (by_sex["F"].persons, by_sex["F"].flagged, by_sex["F"].rate) == (4, 2, 0.5)
    assert (by_sex["M"].persons, by_sex["M"].flagged, by_sex["M"].rate) == (4, 1, 0.25)
    assert by_sex["F"].ratio == pytest.approx(0.5 / 0.375)
    assert report.disparity("ace.physical_neglect", "sex") == pytest.approx(2.0)
    deciles = report.rates("ace.physical_neglect", "deprivation_decile")
    assert set(deciles) == {"2", "9"}  # the adult is not in a children's rule's population
    ages = report.rates("ace.physical_neglect", "age_band")
    assert set(ages) == {"10-15", "16-17"}
    crisis = report.rates("adult.repeat_mental_health_crisis", "deprivation_decile")
    assert crisis["2"].persons == 1 and crisis["2"].flagged == 0
    assert "### ace.physical_neglect" in report.to_markdown()


def test_small_groups_stay_out_of_the_disparity(fair_build: Path) -> None:
    assert fairness_report(fair_build, min_group=5).disparity("ace.physical_neglect", "sex") is None
