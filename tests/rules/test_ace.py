"""Literal scenarios for the ten ACE rules: a tiny household each, the indicators expected with their
evidence, and the near-misses that must not fire.

Every case adds its own people (ids prefixed by the case) to one shared build, run once; each case
is then checked on its own. A case returns its expectations: ``fires`` with the exact evidence
records (and, where it matters, the first evidence date), or ``silent`` for a rule that must not fire.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from commonground.rules import default_rules

from .conftest import Outcome, run_scenario
from .literal import Cases, Expect, check, fires, silent
from .scenario import Scenario

AS_OF = datetime(2025, 1, 15, 10, 0)
ACE_IDS = (
    "ace.physical_abuse",
    "ace.emotional_abuse",
    "ace.sexual_abuse",
    "ace.physical_neglect",
    "ace.emotional_neglect",
    "ace.domestic_abuse",
    "ace.household_substance_misuse",
    "ace.household_mental_illness",
    "ace.parental_separation",
    "ace.household_imprisonment",
)


cases = Cases()
case = cases.add
CASES = cases


def family(s: Scenario, tag: str, *, child_born: str = "2015-06-01", since: str = "2014-01-01") -> tuple[str, str, str]:
    """A mother, a father and a child living together at UPRN-<tag> since ``since``."""
    mum = s.person(f"{tag}_mum", born="1988-03-01")
    dad = s.person(f"{tag}_dad", born="1986-07-01", sex="M")
    kid = s.person(f"{tag}_kid", born=child_born)
    kid_start = max(since, child_born)
    s.household(f"H_{tag}", uprn=f"U{tag}", members=[(mum, since, None), (dad, since, None), (kid, kid_start, None)])
    return mum, dad, kid


# -- abuse and neglect: children's social care (and the emergency department) -------------------


@case
def physical_abuse(s: Scenario) -> list[Expect]:
    _, _, kid = family(s, "pa")
    plan = s.social_care(kid, on="2023-04-01", plan="physical")
    ed_kid = s.person("pa_ed", born="2012-01-01")
    ed = s.ed(ed_kid, at="2024-02-02 19:00", injury_intent="assault", location_type="home")
    street_kid = s.person("pa_street", born="2012-01-01")
    s.ed(street_kid, at="2024-02-02 19:00", injury_intent="assault", location_type="street")
    adult = s.person("pa_19", born="2005-01-01")
    s.ed(adult, at="2024-02-02 19:00", injury_intent="assault", location_type="home")
    multiple = s.person("pa_multi", born="2012-01-01")
    s.social_care(multiple, on="2023-04-01", plan="multiple")
    return [
        fires(kid, "ace.physical_abuse", ("childrens_social_care", plan), first="2023-04-01"),
        fires(ed_kid, "ace.physical_abuse", ("ed_attendances", ed)),
        silent(street_kid, "ace.physical_abuse", "an assault in the street is not abuse at home"),
        silent(adult, "ace.physical_abuse", "19 at the assault: not a child"),
        silent(multiple, "ace.physical_abuse", "a 'multiple' plan does not say which abuse"),
    ]


@case
def emotional_abuse(s: Scenario) -> list[Expect]:
    kid = s.person("ea_kid", born="2013-01-01")
    record = s.social_care(kid, on="2022-09-01", factors=["17a", "21"])
    other = s.person("ea_other", born="2013-01-01")
    s.social_care(other, on="2022-09-01", factors=["4a"])
    return [
        fires(kid, "ace.emotional_abuse", ("childrens_social_care", record)),
        silent(other, "ace.emotional_abuse", "4A is the child's own mental health"),
    ]


@case
def sexual_abuse(s: Scenario) -> list[Expect]:
    kid = s.person("sa_kid", born="2010-01-01")
    factor = s.social_care(kid, on="2022-09-01", factors=["19a"])
    cse = s.person("sa_cse", born="2008-01-01")
    exploited = s.social_care(cse, on="2023-09-01", factors=["11a"])
    other = s.person("sa_other", born="2010-01-01")
    s.social_care(other, on="2022-09-01", plan="physical")
    return [
        fires(kid, "ace.sexual_abuse", ("childrens_social_care", factor)),
        fires(cse, "ace.sexual_abuse", ("childrens_social_care", exploited)),
        silent(other, "ace.sexual_abuse", "a physical-abuse plan"),
    ]


@case
def neglect(s: Scenario) -> list[Expect]:
    kid = s.person("ne_kid", born="2016-01-01")
    plan = s.social_care(kid, on="2021-03-01", plan="neglect", factors=["16a", "17a"])
    split = s.person("ne_split", born="2016-01-01")
    first = s.social_care(split, on="2021-03-01", factors=["16a"])
    s.social_care(split, on="2022-03-01", factors=["17a"])
    multiple = s.person("ne_multi", born="2016-01-01")
    s.social_care(multiple, on="2021-03-01", plan="multiple")
    return [
        fires(kid, "ace.physical_neglect", ("childrens_social_care", plan)),
        fires(kid, "ace.emotional_neglect", ("childrens_social_care", plan)),
        fires(split, "ace.physical_neglect", ("childrens_social_care", first)),
        silent(split, "ace.emotional_neglect", "neglect and emotional abuse found at different referrals"),
        silent(multiple, "ace.physical_neglect", "a 'multiple' plan with no neglect found at assessment"),
        silent(multiple, "ace.emotional_neglect", "a 'multiple' plan with no neglect found at assessment"),
    ]


# -- domestic abuse --------------------------------------------------------------------------------


@case
def domestic_abuse_at_home(s: Scenario) -> list[Expect]:
    mum, dad, kid = family(s, "dah")
    incident = s.police_incident(at="2024-11-02 23:10", uprn="Udah", persons={mum: "victim", dad: "suspect"})
    return [
        fires(kid, "ace.domestic_abuse", ("police_incidents", f"PI-{incident}"), first="2024-11-02T23:10:00"),
        silent(mum, "ace.domestic_abuse", "the adults are not children"),
    ]


@case
def domestic_abuse_child_named(s: Scenario) -> list[Expect]:
    kid = s.person("dan_kid", born="2014-01-01")
    s.household("H_dan", uprn="Udan", members=[(kid, "2014-01-01", None)])
    incident = s.police_incident(at="2024-08-10 20:00", uprn="Uelsewhere-dan", persons={kid: "child_present"})
    return [fires(kid, "ace.domestic_abuse", ("police_incident_persons", s.named[(incident, kid)]))]


@case
def domestic_abuse_near_misses(s: Scenario) -> list[Expect]:
    mum, _, kid = family(s, "dam")
    # An incident at another address where the mother is the victim and the child is not named.
    s.police_incident(at="2024-05-01 21:00", uprn="Uother-dam", persons={mum: "victim"})
    # The family's former home, after they had moved away from it.
    moved = s.person("dam_moved", born="2012-01-01")
    s.household("H_dam_old", uprn="Udam_old", members=[(moved, "2012-01-01", "2020-12-31")])
    s.household("H_dam_new", uprn="Udam_new", members=[(moved, "2021-01-01", None)])
    s.police_incident(at="2023-05-01 21:00", uprn="Udam_old")
    # An incident at the home before the child was born.
    baby = s.person("dam_baby", born="2022-06-01")
    s.household("H_dam_baby", uprn="Udam_baby", members=[(baby, "2022-06-01", None)])
    s.police_incident(at="2022-01-10 21:00", uprn="Udam_baby")
    # An incident that is not domestic.
    s.police_incident(at="2024-03-01 12:00", uprn="Udam", category="theft", qualifiers=())
    return [
        silent(kid, "ace.domestic_abuse", "another address, child not named; a theft at home"),
        silent(moved, "ace.domestic_abuse", "the incident came after the child moved out"),
        silent(baby, "ace.domestic_abuse", "the incident came before the child was born"),
    ]


@case
def domestic_abuse_address_without_uprn(s: Scenario) -> list[Expect]:
    kid = s.person("dau_kid", born="2013-01-01")
    s.household("H_dau", address_key="ZZ9 9ZZ | 7 ACACIA AVENUE", members=[(kid, "2013-01-01", None)])
    incident = s.police_incident(at="2024-02-01 22:00", postcode="ZZ9 9ZZ", address="7, Acacia Avenue")
    # a home seen with its UPRN on a person's record: an incident there without the UPRN is matched to it
    other = s.person("dau_other", born="2013-01-01", postcode="ZZ9 9ZY", address="9 Acacia Avenue")
    s.household("H_dau2", uprn="900009", members=[(other, "2013-01-01", None)])
    s.record("school_roll", person=other, school_urn="100001", uprn="900009")
    mapped = s.police_incident(at="2024-02-01 23:00", postcode="ZZ9 9ZY", address="9 ACACIA AVENUE")
    return [
        fires(kid, "ace.domestic_abuse", ("police_incidents", f"PI-{incident}")),
        fires(other, "ace.domestic_abuse", ("police_incidents", f"PI-{mapped}")),
    ]


@case
def domestic_abuse_social_care(s: Scenario) -> list[Expect]:
    kid = s.person("das_kid", born="2013-01-01")
    record = s.social_care(kid, on="2023-01-01", factors=["3b"])
    return [fires(kid, "ace.domestic_abuse", ("childrens_social_care", record))]


# -- household adults --------------------------------------------------------------------------------


@case
def substance_misuse(s: Scenario) -> list[Expect]:
    mum, dad, kid = family(s, "sm")
    treatment = s.treatment(mum, start="2023-02-01", end="2023-08-01")
    custody = s.custody(dad, at="2024-01-05 02:00", vulnerabilities=["substance"])
    s.custody(dad, at="2024-03-05 02:00", vulnerabilities=["mental_health"])
    return [
        fires(
            kid,
            "ace.household_substance_misuse",
            ("substance_treatment", treatment),
            ("custody_records", custody),
            first="2023-02-01",
        )
    ]


@case
def substance_misuse_near_misses(s: Scenario) -> list[Expect]:
    mum = s.person("smn_mum", born="1985-01-01")
    kid = s.person("smn_kid", born="2012-01-01")
    sibling = s.person("smn_sib", born="2007-06-01")
    s.household(
        "H_smn",
        uprn="Usmn",
        members=[(mum, "2012-01-01", "2021-12-31"), (kid, "2012-01-01", None), (sibling, "2012-01-01", None)],
    )
    s.treatment(mum, start="2022-03-01")  # after she moved out
    s.treatment(sibling, start="2024-01-01", substance="cannabis")  # the sibling is 16
    return [silent(kid, "ace.household_substance_misuse", "the adult moved out before; the sibling is a child")]


@case
def substance_misuse_before_birth(s: Scenario) -> list[Expect]:
    mum = s.person("smb_mum", born="1990-01-01")
    baby = s.person("smb_kid", born="2021-05-10")
    s.household("H_smb", uprn="Usmb", members=[(mum, "2015-01-01", None), (baby, "2021-05-10", None)])
    treatment = s.treatment(mum, start="2020-01-01")  # ongoing when the baby was born
    return [fires(baby, "ace.household_substance_misuse", ("substance_treatment", treatment), first="2021-05-10")]


@case
def substance_misuse_social_care(s: Scenario) -> list[Expect]:
    kid = s.person("sms_kid", born="2011-01-01")
    record = s.social_care(kid, on="2020-01-01", factors=["2b"])
    own = s.person("sms_own", born="2009-01-01")
    s.social_care(own, on="2024-01-01", factors=["1a", "2a"])
    return [
        fires(kid, "ace.household_substance_misuse", ("childrens_social_care", record)),
        silent(own, "ace.household_substance_misuse", "1A/2A are the child's own misuse"),
    ]


@case
def mental_illness(s: Scenario) -> list[Expect]:
    mum, dad, kid = family(s, "mi")
    s136 = s.mh_contact(mum, on="2022-07-01", service="liaison", section="136")
    s.mh_contact(mum, on="2022-08-01", service="community")
    triage = s.triage(dad, at="2023-03-03 01:00", outcome="s136_detention")
    s.triage(dad, at="2023-04-03 01:00", outcome="no_further_action")
    social = s.person("mis_kid", born="2012-01-01")
    factor = s.social_care(social, on="2021-01-01", factors=["4c"])
    return [
        fires(kid, "ace.household_mental_illness", ("mental_health_contacts", s136), ("street_triage", triage)),
        fires(social, "ace.household_mental_illness", ("childrens_social_care", factor)),
    ]


@case
def mental_illness_nineteen(s: Scenario) -> list[Expect]:
    mum = s.person("mi19_mum", born="1980-01-01")
    young = s.person("mi19_kid", born="2005-01-01")
    s.household("H_mi19", uprn="Umi19", members=[(mum, "2005-01-01", None), (young, "2005-01-01", None)])
    s.mh_contact(mum, on="2024-02-01", service="crisis")  # the "child" is 19
    return [silent(young, "ace.household_mental_illness", "19 at the time: not a child")]


@case
def separation(s: Scenario) -> list[Expect]:
    mum = s.person("sep_mum", born="1985-01-01")
    dad = s.person("sep_dad", born="1984-01-01", sex="M")
    kid = s.person("sep_kid", born="2012-01-01")
    s.household(
        "H_sep",
        uprn="Usep",
        members=[(mum, "2010-01-01", None), (dad, "2010-01-01", "2019-09-30"), (kid, "2012-01-01", None)],
    )
    return [fires(kid, "ace.parental_separation", ("households", "H_sep/sep_dad/2010-01-01"), first="2019-09-30")]


@case
def separation_near_misses(s: Scenario) -> list[Expect]:
    mum = s.person("sepn_mum", born="1980-01-01")
    dad = s.person("sepn_dad", born="1979-01-01", sex="M")
    brother = s.person("sepn_bro", born="2001-01-01", sex="M")
    kid = s.person("sepn_kid", born="2006-06-01")
    s.household(
        "H_sepn",
        uprn="Usepn",
        members=[
            (mum, "2000-01-01", None),
            (brother, "2001-01-01", "2021-08-31"),  # an older brother leaves home: 5 years older
            (kid, "2006-06-01", None),
        ],
    )
    # the father leaves after the child turned 18
    s.lives(dad, household="H_sepn", start="2000-01-01", end="2024-08-01")
    # another family: the father works away for a year and comes back
    mum2 = s.person("sepb_mum", born="1980-01-01")
    dad2 = s.person("sepb_dad", born="1979-01-01", sex="M")
    kid2 = s.person("sepb_kid", born="2010-01-01")
    s.household("H_sepb", uprn="Usepb", members=[(mum2, "2009-01-01", None), (kid2, "2010-01-01", None)])
    s.lives(dad2, household="H_sepb", start="2009-01-01", end="2018-12-31")
    s.lives(dad2, household="H_sepb", start="2020-01-01")
    return [
        silent(kid, "ace.parental_separation", "a brother leaving home is not separation; the father left after 18"),
        silent(kid2, "ace.parental_separation", "the father came back to the household"),
    ]


@case
def imprisonment(s: Scenario) -> list[Expect]:
    _, dad, kid = family(s, "im")
    prison = s.prison(dad, received="2023-05-02", released="2024-01-10")
    s.custody(dad, at="2023-04-30 22:00", offence_group="violence")  # police custody alone does not count
    return [fires(kid, "ace.household_imprisonment", ("custodial_sentences", prison), first="2023-05-02")]


@case
def imprisonment_near_misses(s: Scenario) -> list[Expect]:
    dad = s.person("imn_dad", born="1980-01-01", sex="M")
    kid = s.person("imn_kid", born="2010-01-01")
    s.household("H_imn", uprn="Uimn", members=[(dad, "2009-01-01", "2019-12-31"), (kid, "2010-01-01", None)])
    s.prison(dad, received="2020-06-01")  # moved out before
    mum = s.person("imo_mum", born="1980-01-01")
    old = s.person("imo_kid", born="2004-01-01")
    s.household("H_imo", uprn="Uimo", members=[(mum, "2004-01-01", None), (old, "2004-01-01", None)])
    s.prison(mum, received="2023-01-01")  # the child was 19
    return [
        silent(kid, "ace.household_imprisonment", "the father moved out before he went to prison"),
        silent(old, "ace.household_imprisonment", "19 at the time"),
    ]


@case
def future_records_ignored(s: Scenario) -> list[Expect]:
    kid = s.person("fut_kid", born="2015-01-01")
    s.social_care(kid, on="2025-02-01", plan="neglect")  # after the run's as-of date
    return [silent(kid, "ace.physical_neglect", "recorded after the as-of date")]


@pytest.fixture(scope="module")
def ace_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, dict[str, list[Expect]]]:
    s = Scenario()
    expectations = {name: build(s) for name, build in CASES.items()}
    outcome = run_scenario(s, tmp_path_factory.mktemp("ace") / "build", as_of=AS_OF)
    return outcome, expectations


@pytest.mark.parametrize("name", list(CASES))
def test_ace_case(ace_run: tuple[Outcome, dict[str, list[Expect]]], name: str) -> None:
    outcome, expectations = ace_run
    check(outcome, name, expectations[name])


def test_every_ace_rule_has_a_firing_case_and_a_near_miss(ace_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    _, expectations = ace_run
    all_expectations = [e for es in expectations.values() for e in es]
    for rule_id in ACE_IDS:
        assert any(e.rule == rule_id and e.evidence for e in all_expectations), rule_id
        assert any(e.rule == rule_id and e.evidence is None for e in all_expectations), rule_id


def test_ace_pack_has_exactly_the_ten_ids() -> None:
    ace = next(p for p in default_rules().packs if p.pack == "ace")
    assert tuple(r.id for r in ace.rules) == ACE_IDS
    assert all(r.produces.value == "indicator" and r.population.value == "child" for r in ace.rules)


def test_household_evidence_names_the_adult(ace_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = ace_run
    text = outcome.explain("mi_kid")
    assert "[indicator] ace.household_mental_illness v1: Mental illness in the household" in text
    assert "Why: An adult of the child's household" in text
    assert "2022-07-01  mental_health_contacts/" in text
    assert "[record of person mi_mum]" in text
    assert "[record of person mi_dad]" in text
    assert "Shared under: Children Act 2004 s11" in text


def test_indicators_carry_first_and_latest_evidence(ace_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = ace_run
    row = outcome.row("sm_kid", "ace.household_substance_misuse")
    assert row["first_evidence"] == datetime(2023, 2, 1)
    assert row["latest_evidence"] == datetime(2024, 1, 5, 2, 0)
    assert row["evidence_count"] == 2
    assert row["rule_version"] == 1


def test_build_dir_is_left_as_it_was(ace_run: tuple[Outcome, dict[str, list[Expect]]]) -> None:
    outcome, _ = ace_run
    assert sorted(p.name for p in Path(outcome.build_dir).iterdir()) == ["build.duckdb", "build.json", "rules.duckdb"]
