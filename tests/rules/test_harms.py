"""Literal scenarios for the harms of #20: repeat victims of domestic abuse (for a MARAC referral), injured infants
(a rule's ``max_age``) and children's self-harm or mental-health crisis; each with its near misses."""

from __future__ import annotations

from datetime import datetime

import pytest

from .conftest import Outcome, run_scenario
from .literal import Cases, Expect, check, fires, silent
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)  # a Wednesday
RED = "2025-01-15T12:00:00"  # 2 hours: usually amber, raised one step (the latest record within 7 days)
MASH = "local_authority/mash"
MARAC = "marac/coordinator"
REPEAT_DA = "adult.repeat_domestic_abuse_victim"
INFANT = "child.infant_injury"
SELF_HARM = "child.self_harm"

cases = Cases()


def da(s: Scenario, at: str, **persons: str) -> str:
    return s.police_incident(at=at, persons=persons)


# -- repeat victims of domestic abuse -----------------------------------------------------------------------


@cases.add
def repeat_victim(s: Scenario) -> list[Expect]:
    v = s.person("dav", born="1990-01-01")
    a = da(s, "2024-02-01 22:00", dav="victim")
    b = da(s, "2024-09-01 22:00", dav="victim")
    c = da(s, "2025-01-10 22:00", dav="victim")
    return [
        fires(
            v,
            REPEAT_DA,
            ("police_incident_persons", s.named[(a, v)]),
            ("police_incident_persons", s.named[(b, v)]),
            ("police_incident_persons", s.named[(c, v)]),
            first="2024-02-01T22:00:00",
            route_to=MARAC,
            due_by=RED,
        )
    ]


@cases.add
def repeat_victim_near_misses(s: Scenario) -> list[Expect]:
    two = s.person("da2", born="1990-01-01")
    da(s, "2024-09-01 22:00", da2="victim")
    da(s, "2025-01-10 22:00", da2="victim")
    same_day = s.person("daday", born="1990-01-01")
    da(s, "2024-09-01 22:00", daday="victim")
    da(s, "2025-01-10 01:00", daday="victim")
    da(s, "2025-01-10 23:00", daday="victim")
    spread = s.person("dafar", born="1990-01-01")
    da(s, "2024-01-10 22:00", dafar="victim")  # 366 days before the last
    da(s, "2024-09-01 22:00", dafar="victim")
    da(s, "2025-01-10 22:00", dafar="victim")
    suspect = s.person("dasus", born="1990-01-01")
    for day in ("2024-09-01", "2024-11-01", "2025-01-10"):
        da(s, f"{day} 22:00", dasus="suspect")
    other = s.person("daoth", born="1990-01-01")
    for day in ("2024-09-01", "2024-11-01", "2025-01-10"):
        s.police_incident(at=f"{day} 22:00", category="violence", qualifiers=["violence"], persons={other: "victim"})
    old = s.person("daold", born="1990-01-01")
    for day in ("2024-06-01", "2024-09-01", "2024-12-01"):  # the latest 45 days before as-of
        da(s, f"{day} 22:00", daold="victim")
    teen = s.person("dateen", born="2008-01-01")
    for day in ("2024-09-01", "2024-11-01", "2025-01-10"):
        da(s, f"{day} 22:00", dateen="victim")
    return [
        silent(two, REPEAT_DA, "two incidents"),
        silent(same_day, REPEAT_DA, "three incidents on two days"),
        silent(spread, REPEAT_DA, "three incidents over more than 12 months"),
        silent(suspect, REPEAT_DA, "the suspect, not the victim"),
        silent(other, REPEAT_DA, "violence that is not domestic abuse"),
        silent(old, REPEAT_DA, "the latest incident more than 28 days ago"),
        silent(teen, REPEAT_DA, "a 16-year-old: the children's rules are their concern"),
    ]


# -- infant injury (max_age) ---------------------------------------------------------------------------------


@cases.add
def infant_injured(s: Scenario) -> list[Expect]:
    baby = s.person("inf", born="2024-03-01")
    ed = s.ed(baby, at="2025-01-10 14:00", injury_intent="accident")
    assaulted = s.person("infa", born="2024-06-01")
    hit = s.ed(assaulted, at="2025-01-12 03:00", injury_intent="assault")
    return [
        fires(baby, INFANT, ("ed_attendances", ed), route_to=MASH, due_by=RED),
        fires(assaulted, INFANT, ("ed_attendances", hit)),
    ]


@cases.add
def infant_near_misses(s: Scenario) -> list[Expect]:
    birthday = s.person("inf1", born="2024-01-10")
    s.ed(birthday, at="2025-01-10 09:00", injury_intent="accident")  # on the first birthday
    ill = s.person("infill", born="2024-06-01")
    s.ed(ill, at="2025-01-10 09:00", injury_intent="none")  # ill, not injured
    toddler = s.person("inf2", born="2023-06-01")
    s.ed(toddler, at="2025-01-10 09:00", injury_intent="accident")
    unknown = s.person("infunk", born=None)
    s.ed(unknown, at="2025-01-10 09:00", injury_intent="accident")
    old = s.person("infold", born="2024-06-01")
    s.ed(old, at="2024-12-30 09:00", injury_intent="accident")  # 16 days before as-of
    return [
        silent(birthday, INFANT, "injured on the first birthday: one year old"),
        silent(ill, INFANT, "an attendance without an injury"),
        silent(toddler, INFANT, "nineteen months old"),
        silent(unknown, INFANT, "no record gives a date of birth"),
        silent(old, INFANT, "more than 14 days ago"),
    ]


# -- children's self-harm or mental-health crisis ---------------------------------------------------------------


@cases.add
def child_self_harm(s: Scenario) -> list[Expect]:
    kid = s.person("csh", born="2010-05-01")
    ed = s.ed(kid, at="2025-01-08 23:00", injury_intent="self_harm")
    crisis = s.person("cmh", born="2009-05-01")
    camhs = s.mh_contact(crisis, on="2025-01-05", service="crisis")
    factor = s.person("c15", born="2011-05-01")
    referral = s.social_care(factor, on="2025-01-02", factors=["15a"])
    return [
        fires(kid, SELF_HARM, ("ed_attendances", ed), route_to=MASH, due_by=RED),
        fires(crisis, SELF_HARM, ("mental_health_contacts", camhs)),
        fires(factor, SELF_HARM, ("childrens_social_care", referral)),
    ]


@cases.add
def child_self_harm_near_misses(s: Scenario) -> list[Expect]:
    adult = s.person("ash", born="2005-01-01")
    s.ed(adult, at="2025-01-08 23:00", injury_intent="self_harm")
    routine = s.person("ccamhs", born="2010-05-01")
    s.mh_contact(routine, on="2025-01-05", service="camhs")
    accident = s.person("cacc", born="2010-05-01")
    s.ed(accident, at="2025-01-08 23:00", injury_intent="accident")
    old = s.person("cold", born="2010-05-01")
    s.ed(old, at="2024-12-10 23:00", injury_intent="self_harm")
    return [
        silent(adult, SELF_HARM, "twenty: an adult (their flag is adult.self_harm_multi_agency)"),
        silent(routine, SELF_HARM, "a routine CAMHS appointment is not a crisis"),
        silent(accident, SELF_HARM, "an accidental injury"),
        silent(old, SELF_HARM, "more than 28 days ago"),
    ]


@pytest.fixture(scope="module")
def harms_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, dict[str, list[Expect]]]:
    s = Scenario()
    expectations = {name: build(s) for name, build in cases.items()}
    outcome = run_scenario(s, tmp_path_factory.mktemp("harms") / "build", as_of=AS_OF)
    return outcome, expectations


@pytest.mark.parametrize("name", list(cases))
def test_harms_case(harms_run: tuple[Outcome, dict[str, list[Expect]]], name: str) -> None:
    outcome, expectations = harms_run
    check(outcome, name, expectations[name])


def test_max_age_in_words() -> None:
    from commonground.rules import default_rules

    assert "(child under 1, flag)" in default_rules().rule(INFANT).explain()
