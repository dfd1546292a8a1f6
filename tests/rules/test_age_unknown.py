"""A person with no date of birth on any record is "age unknown" (#15): literal cases.

The rules treat such a person as an adult, never as a child unless a record says so (a children's social care
referral, or being named as a child present on a police incident: a child up to the day of that record), and never
as old enough for a rule's ``min_age``. The run counts them, per feed, and every report says so in words.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from commonground.rules import fairness_report

from .conftest import Outcome, run_scenario
from .literal import Cases, Expect, check, fires, silent
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)

cases = Cases()
case = cases.add


@case
def unknown_age_in_crisis_is_an_adult(s: Scenario) -> list[Expect]:
    who = s.person("au_crisis", born=None)
    a = s.triage(who, at="2025-01-01 10:00")
    b = s.triage(who, at="2025-01-05 10:00")
    c = s.triage(who, at="2025-01-10 10:00")
    return [
        fires(
            who, "adult.repeat_mental_health_crisis", ("street_triage", a), ("street_triage", b), ("street_triage", c)
        )
    ]


@case
def unknown_age_missing_and_in_custody_is_no_child(s: Scenario) -> list[Expect]:
    who = s.person("au_missing", born=None)
    for day in ("2025-01-01", "2025-01-04", "2025-01-08"):
        s.missing(who, at=f"{day} 22:00")
    s.custody(who, at="2025-01-10 01:00")
    known = s.person("au_missing_kid", born="2010-05-01")  # the same records with a date of birth: a child
    first = s.missing(known, at="2025-01-01 22:00")
    second = s.missing(known, at="2025-01-04 22:00")
    third = s.missing(known, at="2025-01-08 22:00")
    held = s.custody(known, at="2025-01-10 01:00")
    missing = (("missing_episodes", first), ("missing_episodes", second), ("missing_episodes", third))
    return [
        silent(who, "child.repeat_missing", "age unknown: not a child"),
        silent(who, "child.exploitation_risk", "age unknown: not a child"),
        fires(known, "child.repeat_missing", *missing),
        fires(known, "child.exploitation_risk", *missing, ("custody_records", held)),
    ]


@case
def unknown_age_victim_at_home_gets_no_child_indicator(s: Scenario) -> list[Expect]:
    mum = s.person("au_home_mum", born="1985-02-01")
    other = s.person("au_home_other", born=None)
    s.household("H_au_home", uprn="Uauhome", members=[(mum, "2020-01-01", None), (other, "2020-01-01", None)])
    s.police_incident(at="2025-01-10 21:00", uprn="Uauhome", persons={mum: "victim", other: "victim"})
    return [
        silent(other, "ace.domestic_abuse", "age unknown, and no record says a child"),
        silent(other, "notice.school_domestic_abuse", "age unknown, and no record says a child"),
    ]


@case
def unknown_age_named_as_a_child_present(s: Scenario) -> list[Expect]:
    who = s.person("au_present", born=None)
    incident = s.police_incident(at="2025-01-10 21:00", uprn="Uauelsewhere", persons={who: "child_present"})
    return [
        fires(who, "ace.domestic_abuse", ("police_incident_persons", s.named[(incident, who)])),
        silent(who, "notice.school_domestic_abuse", "a child, but of school age? no record says"),
    ]


@case
def unknown_age_is_a_child_only_up_to_the_record_that_says_so(s: Scenario) -> list[Expect]:
    before = s.person("au_before", born=None)
    seen = s.police_incident(at="2025-01-12 21:00", uprn="Uaub", persons={before: "child_present"})
    missing = [s.missing(before, at=f"{day} 22:00") for day in ("2024-12-20", "2025-01-02", "2025-01-09")]
    after = s.person("au_after", born=None)
    s.police_incident(at="2024-11-01 21:00", uprn="Uaua", persons={after: "child_present"})
    for day in ("2024-12-20", "2025-01-02", "2025-01-09"):
        s.missing(after, at=f"{day} 22:00")
    return [
        fires(before, "child.repeat_missing", *(("missing_episodes", m) for m in missing)),
        fires(before, "ace.domestic_abuse", ("police_incident_persons", s.named[(seen, before)])),
        silent(after, "child.repeat_missing", "missing only after the last record that said a child"),
    ]


@case
def unknown_age_household_member_is_an_adult_of_the_household(s: Scenario) -> list[Expect]:
    kid = s.person("au_hh_kid", born="2015-06-01")
    adult = s.person("au_hh_adult", born=None, sex="M")
    s.household("H_au_hh", uprn="Uauhh", members=[(kid, "2015-06-01", None), (adult, "2014-01-01", None)])
    held = s.custody(adult, at="2024-11-01 01:00", vulnerabilities=["substance"])
    return [
        fires(kid, "ace.household_substance_misuse", ("custody_records", held)),
        silent(adult, "ace.household_substance_misuse", "age unknown: not a child of the household"),
    ]


@case
def unknown_age_adult_leaving_is_no_parental_separation(s: Scenario) -> list[Expect]:
    kid = s.person("au_sep_kid", born="2012-06-01")
    mum = s.person("au_sep_mum", born="1984-01-01")
    other = s.person("au_sep_other", born=None, sex="M")
    s.household(
        "H_au_sep",
        uprn="Uausep",
        members=[(kid, "2012-06-01", None), (mum, "2010-01-01", None), (other, "2010-01-01", "2024-06-01")],
    )
    return [silent(kid, "ace.parental_separation", "the one who left is of unknown age: 15 years older? unknown")]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, dict[str, list[Expect]]]:
    s = Scenario()
    expectations = {name: fn(s) for name, fn in cases.items()}
    return run_scenario(s, tmp_path_factory.mktemp("age-unknown") / "build", as_of=AS_OF), expectations


@pytest.mark.parametrize("name", sorted(cases))
def test_case(outcome: tuple[Outcome, dict[str, list[Expect]]], name: str) -> None:
    result, expectations = outcome
    check(result, name, expectations[name])


UNKNOWN = {
    "au_crisis",
    "au_missing",
    "au_home_other",
    "au_present",
    "au_before",
    "au_after",
    "au_hh_adult",
    "au_sep_other",
}


def test_the_run_counts_the_people_of_unknown_age(outcome: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    result = outcome[0].result
    assert result.age_unknown == len(UNKNOWN)
    assert result.age_unknown_said_child == 3  # au_present, au_before, au_after
    assert result.age_unknown_by_feed == {
        "street_triage": 1,
        "missing_episodes": 3,
        "custody_records": 2,
        "police_incident_persons": 4,
    }
    summary = result.summary()
    assert "age unknown: 8 people have no date of birth on any record. The rules count them as adults" in summary
    assert "never as children unless a record says so: 3 of them were said to be a child by a record" in summary
    assert "with a record in custody_records: 2" in summary


def test_the_explanation_says_the_age_is_unknown(outcome: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    result = outcome[0]
    text = result.explain("au_crisis")
    assert "Age unknown: no record gives a date of birth, so the rules count this person as an adult." in text
    assert "a record says this person was a child on 2025-01-10" in result.explain("au_present")
    assert "Age unknown" not in result.explain("au_missing_kid")


def test_the_rules_report_lists_age_unknown(outcome: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    report = fairness_report(outcome[0].build_dir, min_group=1)
    assert (report.age_unknown, report.age_unknown_said_child) == (8, 3)
    assert report.age_unknown_by_feed["custody_records"] == 2
    bands = report.rates("adult.repeat_mental_health_crisis", "age_band")
    assert bands["unknown"].persons == 5 and bands["unknown"].flagged == 1  # 3 said a child: the child population
    assert report.rates("ace.domestic_abuse", "age_band")["unknown"].persons == 3
    text = report.to_markdown()
    assert text.startswith("## Age unknown\n\n8 people have no date of birth on any record.")
    assert 'In the rates below they are in the age band "unknown".' in text
    assert "| custody_records | 2 |" in text


def test_age_unknown_means_the_same_on_spark(tmp_path: Path, spark: object) -> None:
    """The child-said stage and the placeholder moments of a person of unknown age run the same on both engines."""
    s = Scenario()
    who = s.person("au_spark", born=None)
    incident = s.police_incident(at="2025-01-10 21:00", uprn="Uspark", persons={who: "child_present"})
    missing = {
        ("missing_episodes", s.missing(who, at=f"{day} 22:00")) for day in ("2025-01-01", "2025-01-04", "2025-01-08")
    }
    never = s.person("au_spark_adult", born=None)
    for day in ("2025-01-01", "2025-01-04", "2025-01-08"):
        s.missing(never, at=f"{day} 22:00")
    duck = run_scenario(s, tmp_path / "duck", as_of=AS_OF)
    on_spark = run_scenario(s, tmp_path / "spark", as_of=AS_OF, engine="spark")
    for result in (duck, on_spark):
        assert result.fired("au_spark") == {"ace.domestic_abuse", "child.repeat_missing"}
        assert result.evidence_of("au_spark", "ace.domestic_abuse") == {
            ("police_incident_persons", s.named[(incident, who)])
        }
        assert result.evidence_of("au_spark", "child.repeat_missing") == missing
        assert result.fired("au_spark_adult") == set()
        assert (result.result.age_unknown, result.result.age_unknown_said_child) == (2, 1)
