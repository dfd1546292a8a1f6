"""Literal scenarios for the adult pack (and the children's exploitation flags): counting within a
window, by day, across agencies and needs, and the near-misses at each boundary."""

from __future__ import annotations

from datetime import datetime

import pytest

from commonground.rules import default_rules

from .conftest import Outcome, run_scenario
from .literal import Cases, Expect, check, fires, silent
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)  # a Wednesday
AMBER = "2025-01-15T16:00:00"  # 6 hours
RED = "2025-01-15T12:00:00"  # 2 hours
GREEN = "2025-01-16T10:00:00"  # 24 hours
CRISIS_TEAM = "mental_health_trust/crisis_team"
MASH = "local_authority/mash"

cases = Cases()


def adult(s: Scenario, pid: str, *, born: str = "1990-05-05") -> str:
    return s.person(pid, born=born)


def mh_incident(s: Scenario, person: str, at: str, *, role: str = "subject") -> str:
    incident = s.police_incident(at=at, category="mental_health", qualifiers=["mental_health"], persons={person: role})
    return s.named[(incident, person)]


# -- repeated mental-health crises -----------------------------------------------------------------


@cases.add
def crises_three_in_a_month(s: Scenario) -> list[Expect]:
    p = adult(s, "mh3")
    mh_incident(s, p, "2024-10-01 03:00")  # months before: outside the qualifying window, so not evidence
    police = mh_incident(s, p, "2025-01-01 03:00")
    triage = s.triage(p, at="2025-01-05 23:00")
    s136 = s.mh_contact(p, on="2025-01-10", service="liaison", section="136")
    return [
        fires(
            p,
            "adult.repeat_mental_health_crisis",
            ("police_incident_persons", police),
            ("street_triage", triage),
            ("mental_health_contacts", s136),
            first="2025-01-01T03:00:00",
            route_to=CRISIS_TEAM,
            due_by=RED,  # usually amber: the latest record is within 7 days
        )
    ]


@cases.add
def crises_same_day_count_once(s: Scenario) -> list[Expect]:
    p = adult(s, "mhday")
    mh_incident(s, p, "2025-01-05 01:00")
    s.triage(p, at="2025-01-05 01:30")
    s.mh_contact(p, on="2025-01-05", service="crisis")
    s.triage(p, at="2025-01-08 22:00")
    return [silent(p, "adult.repeat_mental_health_crisis", "four records on two days")]


@cases.add
def crises_window_boundary(s: Scenario) -> list[Expect]:
    inside = adult(s, "mh30")
    a = s.triage(inside, at="2024-12-11 10:00")
    b = s.triage(inside, at="2024-12-25 10:00")
    c = s.triage(inside, at="2025-01-10 10:00")  # 30 days after the first
    outside = adult(s, "mh31")
    s.triage(outside, at="2024-12-10 10:00")
    s.triage(outside, at="2024-12-25 10:00")
    s.triage(outside, at="2025-01-10 10:00")  # 31 days after the first
    return [
        fires(
            inside,
            "adult.repeat_mental_health_crisis",
            ("street_triage", a),
            ("street_triage", b),
            ("street_triage", c),
        ),
        silent(outside, "adult.repeat_mental_health_crisis", "31 days from first to last"),
    ]


@cases.add
def crises_near_misses(s: Scenario) -> list[Expect]:
    old = adult(s, "mhold")
    for day in ("2024-03-01", "2024-03-05", "2024-03-09"):
        s.triage(old, at=f"{day} 12:00")  # long ago: not new work
    young = s.person("mh17", born="2007-06-01")
    for day in ("2025-01-01", "2025-01-05", "2025-01-09"):
        s.triage(young, at=f"{day} 12:00")
    witness = adult(s, "mhwit")
    for day in ("2025-01-01", "2025-01-05", "2025-01-09"):
        mh_incident(s, witness, f"{day} 12:00", role="witness")
    community = adult(s, "mhcom")
    for day in ("2025-01-01", "2025-01-05", "2025-01-09"):
        s.mh_contact(community, on=day, service="community")
    return [
        silent(old, "adult.repeat_mental_health_crisis", "latest crisis more than 28 days ago"),
        silent(young, "adult.repeat_mental_health_crisis", "17: not in the adult population"),
        silent(witness, "adult.repeat_mental_health_crisis", "a witness, not the person in crisis"),
        silent(community, "adult.repeat_mental_health_crisis", "routine community contacts are not crises"),
    ]


# -- self-harm across agencies ----------------------------------------------------------------------


@cases.add
def self_harm_two_agencies(s: Scenario) -> list[Expect]:
    p = adult(s, "sh2")
    ed = s.ed(p, at="2024-11-01 22:00", injury_intent="self_harm")
    custody = s.custody(p, at="2024-12-20 01:00", vulnerabilities=["self_harm"])
    return [
        fires(
            p,
            "adult.self_harm_multi_agency",
            ("ed_attendances", ed),
            ("custody_records", custody),
            route_to="mental_health_trust/liaison_psychiatry",
            due_by=AMBER,
        )
    ]


@cases.add
def self_harm_near_misses(s: Scenario) -> list[Expect]:
    one_agency = adult(s, "sh1")
    s.ed(one_agency, at="2024-11-01 22:00", injury_intent="self_harm")
    s.ed(one_agency, at="2024-12-01 22:00", injury_intent="self_harm")
    police_only = adult(s, "shpol")
    incident = s.police_incident(at="2024-11-01 22:00", category="concern_for_welfare", qualifiers=["self_harm"])
    s.person_on_incident(incident, person=police_only, role="subject")
    s.custody(police_only, at="2024-12-20 01:00", vulnerabilities=["self_harm"])
    apart = adult(s, "shfar")
    s.ed(apart, at="2023-06-01 22:00", injury_intent="self_harm")
    s.custody(apart, at="2024-12-20 01:00", vulnerabilities=["self_harm"])
    return [
        silent(one_agency, "adult.self_harm_multi_agency", "one agency twice"),
        silent(police_only, "adult.self_harm_multi_agency", "police incident and custody are one agency"),
        silent(apart, "adult.self_harm_multi_agency", "more than 12 months apart"),
    ]


# -- revolving door -----------------------------------------------------------------------------------


@cases.add
def revolving_door(s: Scenario) -> list[Expect]:
    p = adult(s, "rd", born="1975-01-01")
    c1 = s.custody(p, at="2024-03-01 23:00", offence_group="theft")
    c2 = s.custody(p, at="2024-07-01 23:00", offence_group="theft", vulnerabilities=["substance"])
    c3 = s.custody(p, at="2024-12-01 23:00", offence_group="public_order")
    mh = s.mh_contact(p, on="2024-08-10", service="community")
    return [
        fires(
            p,
            "adult.revolving_door",
            ("custody_records", c1),
            ("custody_records", c2),
            ("custody_records", c3),
            ("mental_health_contacts", mh),
            route_to="vulnerability_hub/hub_practitioner",
            due_by=GREEN,
        )
    ]


@cases.add
def revolving_door_near_misses(s: Scenario) -> list[Expect]:
    one_need = adult(s, "rd1", born="1975-01-01")
    for day in ("2024-03-01", "2024-07-01", "2024-12-01"):
        s.custody(one_need, at=f"{day} 23:00", vulnerabilities=["substance"])
    s.treatment(one_need, start="2024-05-01")
    twice = adult(s, "rd2", born="1975-01-01")
    s.custody(twice, at="2024-07-01 23:00", vulnerabilities=["substance", "mental_health"])
    s.custody(twice, at="2024-12-01 23:00")
    return [
        silent(one_need, "adult.revolving_door", "three custodies but only one kind of need"),
        silent(twice, "adult.revolving_door", "two custodies"),
    ]


# -- children: missing and exploitation -----------------------------------------------------------------


@cases.add
def repeat_missing(s: Scenario) -> list[Expect]:
    kid = s.person("rm", born="2009-02-01")
    a = s.missing(kid, at="2024-10-20 21:00")
    b = s.missing(kid, at="2024-12-01 21:00")
    c = s.missing(kid, at="2025-01-10 21:00")
    return [
        fires(
            kid,
            "child.repeat_missing",
            ("missing_episodes", a),
            ("missing_episodes", b),
            ("missing_episodes", c),
            route_to=MASH,
            due_by=RED,  # usually amber: the latest record is within 7 days
        )
    ]


@cases.add
def repeat_missing_near_misses(s: Scenario) -> list[Expect]:
    spread = s.person("rmfar", born="2009-02-01")
    for day in ("2024-10-01", "2024-12-01", "2025-01-10"):  # 101 days
        s.missing(spread, at=f"{day} 21:00")
    nineteen = s.person("rm19", born="2005-06-01")
    for day in ("2024-12-01", "2024-12-20", "2025-01-10"):
        s.missing(nineteen, at=f"{day} 21:00")
    turned = s.person("rm18", born="2006-12-05")  # 18 on 2024-12-05
    for day in ("2024-11-01", "2024-12-20", "2025-01-10"):
        s.missing(turned, at=f"{day} 21:00")
    return [
        silent(spread, "child.repeat_missing", "three episodes over 101 days"),
        silent(nineteen, "child.repeat_missing", "an adult"),
        silent(turned, "child.repeat_missing", "only one episode while a child"),
    ]


@cases.add
def exploitation(s: Scenario) -> list[Expect]:
    kid = s.person("ex", born="2008-09-01", sex="M")
    missing = s.missing(kid, at="2024-12-01 21:00")
    custody = s.custody(kid, at="2025-01-05 16:00", offence_group="drugs_supply")
    drugs = s.person("exd", born="2008-09-01", sex="M")
    missed = s.missing(drugs, at="2024-12-01 21:00")
    incident = s.police_incident(
        at="2025-01-02 16:00", category="drugs", qualifiers=["drugs"], persons={drugs: "suspect"}
    )
    return [
        fires(
            kid,
            "child.exploitation_risk",
            ("missing_episodes", missing),
            ("custody_records", custody),
            route_to=MASH,
            due_by=RED,
        ),
        fires(
            drugs,
            "child.exploitation_risk",
            ("missing_episodes", missed),
            ("police_incident_persons", s.named[(incident, drugs)]),
        ),
    ]


@cases.add
def exploitation_near_misses(s: Scenario) -> list[Expect]:
    far = s.person("exfar", born="2008-09-01")
    s.missing(far, at="2024-06-01 21:00")
    s.custody(far, at="2025-01-05 16:00")  # 218 days later
    custody_only = s.person("excust", born="2008-09-01")
    s.custody(custody_only, at="2025-01-05 16:00")
    s.custody(custody_only, at="2025-01-07 16:00")
    witness = s.person("exwit", born="2008-09-01")
    s.missing(witness, at="2024-12-01 21:00")
    s.police_incident(at="2025-01-02 16:00", category="drugs", qualifiers=["drugs"], persons={witness: "witness"})
    return [
        silent(far, "child.exploitation_risk", "missing and custody more than 90 days apart"),
        silent(custody_only, "child.exploitation_risk", "never missing"),
        silent(witness, "child.exploitation_risk", "a witness to a drugs incident"),
    ]


@pytest.fixture(scope="module")
def adult_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, dict[str, list[Expect]]]:
    s = Scenario()
    expectations = {name: build(s) for name, build in cases.items()}
    outcome = run_scenario(s, tmp_path_factory.mktemp("adult") / "build", as_of=AS_OF)
    return outcome, expectations


@pytest.mark.parametrize("name", list(cases))
def test_adult_case(adult_run: tuple[Outcome, dict[str, list[Expect]]], name: str) -> None:
    outcome, expectations = adult_run
    check(outcome, name, expectations[name])


def test_every_flag_records_its_rule_version_and_raise_time(adult_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = adult_run
    assert outcome.flags
    versions = {rule.id: rule.version for rule in default_rules().rules}
    for flag in outcome.flags:
        assert flag["rule_version"] == versions[flag["rule_id"]]
        assert flag["raised_at"] == AS_OF
        assert flag["rag"] in ("red", "amber", "green")


def test_flag_explanation(adult_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = adult_run
    text = outcome.explain("mh3")
    assert "[flag] adult.repeat_mental_health_crisis v1: Repeated mental-health crises" in text
    assert "One crisis seen by the police, the triage nurse and the crisis team on the same day counts once" in text
    assert "2025-01-05 23:00  street_triage/" in text
    assert "Routed to mental_health_trust/crisis_team (red), due by 2025-01-15 12:00" in text
    assert "2024-10-01" not in text  # the crisis outside the qualifying window is not evidence
