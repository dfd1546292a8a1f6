"""Rule packs as data: the packs in the repository load, round-trip, never use deprivation, and a bad
pack is refused with a message that says where and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from commonground.cli.rules_cmd import review_markdown
from commonground.rules import RulePackError, RuleSet, default_rules
from commonground.rules.packs import dump_pack, iter_conditions, load_pack, parse_pack, parse_routing
from commonground.rules.sources import FORBIDDEN_WORDS, SOURCES
from commonground.rules.spec import Kind

PACKS = Path(__file__).parents[2] / "src" / "commonground" / "rules" / "packs"


def test_the_repository_packs_load_and_every_flag_is_routed() -> None:
    rules = default_rules()
    assert {p.pack for p in rules.packs} == {"ace", "adult", "notices"}
    flags = {r.id for r in rules.rules if r.produces is Kind.FLAG}
    assert flags == {r.rule for r in rules.routing.routes}
    assert rules.routing.rag_hours == {"red": 2, "amber": 6, "green": 24}


@pytest.mark.parametrize("rule_id", [r.id for r in default_rules().rules])
def test_every_rule_says_what_it_is_and_why_it_may_share(rule_id: str) -> None:
    rule = default_rules().rule(rule_id)
    assert len(rule.description) > 80
    assert rule.legal_basis and rule.purpose in ("safeguarding_children", "safeguarding_adults")
    assert all(len(item.label) > 10 for item in rule.evidence)
    assert rule.explain().startswith(f"{rule.id} v{rule.version}: ")


def test_no_rule_in_any_pack_uses_deprivation() -> None:
    for path in sorted(PACKS.glob("*.yaml")):
        if path.name == "routing.yaml":
            continue
        pack = load_pack(path)
        for rule in pack.rules:
            for _, column in iter_conditions(rule):
                assert not any(word in column for word in FORBIDDEN_WORDS), (path.name, rule.id, column)
            assert "postcode_areas" not in rule.feeds
    for source in SOURCES.values():
        assert not any(word in c for c in source.columns for word in FORBIDDEN_WORDS), source.name


def test_packs_round_trip_through_yaml() -> None:
    for pack in default_rules().packs:
        assert parse_pack(dump_pack(pack)) == pack


RULE = """
pack: test
version: 1
title: Test
description: A pack for tests.
rules:
  - id: test.rule
    version: 1
    title: A test rule
    description: A rule written for a test; it fires on any custody record of an adult.
    population: adult
    produces: indicator
    evidence:
      - source: custody_records
        label: a custody record
{where}
    citation: A made-up study written for a test (2026)
    owner: The test suite
    review_by: 2027-01-01
    legal_basis: Crime and Disorder Act 1998 s115
    purpose: safeguarding_adults
"""


def _pack(where: str = "") -> str:
    return RULE.format(where=where)


def test_a_minimal_pack_is_accepted() -> None:
    assert parse_pack(_pack()).rules[0].id == "test.rule"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "        where:\n          - {column: deprivation_decile, in: ['1']}",
            "no rule may use deprivation or area as a condition",
        ),
        (
            "        where:\n          - {column: vulnerability, contains_any: [substance]}",
            "'vulnerability' is not a column a rule can test in custody_records; those are: offence_group, "
            "vulnerabilities",
        ),
        (
            "        where:\n          - {column: vulnerabilities, contains_any: [substances]}",
            "['substances'] not codes of custody_records.vulnerabilities (allowed: mental_health, substance, "
            "self_harm, learning_disability)",
        ),
        (
            "        where:\n          - {column: vulnerabilities, in: [substance]}",
            "column 'vulnerabilities' is a code_list column: test it with contains_any",
        ),
        (
            "        where:\n          - {column: offence_group, equals: theft}",
            "a condition is {column: NAME, in: [codes]}",
        ),
        (
            "        relation: household_adult",
            "relation household_adult links a record to a child; the population is adult",
        ),
        ("        signal: Custody", "String should match pattern"),
    ],
)
def test_bad_rules_are_refused_with_the_place_and_the_reason(where: str, message: str) -> None:
    with pytest.raises(RulePackError) as refused:
        parse_pack(_pack(where), name="area.yaml")
    text = str(refused.value)
    assert text.startswith("area.yaml: rule 'test.rule'"), text
    assert message in text, text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pack: test\nversion: 1\n  title: [", "area.yaml: not valid YAML at line"),
        ("- just a list", "a pack is a YAML mapping"),
        (
            _pack().replace("population: adult", "population: teenager"),
            "rule 'test.rule' > population: Input should be",
        ),
        (
            _pack().replace("    version: 1\n    title: A test rule", "    title: A test rule"),
            "rule 'test.rule' > version: Field required",
        ),
        (_pack().replace("source: custody_records", "source: custody"), "unknown source; the sources are:"),
        (
            _pack().replace("produces: indicator", "produces: indicator\n    raise_within_days: 3"),
            "raise_within_days applies to flags only",
        ),
        (_pack() + _pack().split("rules:\n")[1], "rule ids used twice: ['test.rule']"),
        (
            _pack().replace("produces: indicator", "produces: indicator\n    min_age: 12"),
            "min_age for an adults' rule must be over 18",
        ),
        (
            _pack().replace("produces: indicator", "produces: indicator\n    max_age: 18"),
            "max_age for an adults' rule must be over 18",
        ),
        (
            _pack().replace("population: adult", "population: child\n    max_age: 19"),
            "max_age for a children's rule must be 18 or under",
        ),
        (
            _pack().replace("population: adult", "population: child\n    min_age: 4\n    max_age: 4"),
            "max_age must be greater than min_age",
        ),
        (
            _pack().replace("population: adult", "population: child\n    max_age: 0"),
            "max_age: Input should be greater than or equal to 1",
        ),
    ],
)
def test_pack_level_errors(text: str, message: str) -> None:
    with pytest.raises(RulePackError) as refused:
        parse_pack(text, name="area.yaml")
    assert message in str(refused.value), str(refused.value)


def test_requirements_must_name_signals_of_the_rule() -> None:
    text = _pack().replace(
        "    legal_basis:",
        "    window_days: 30\n    require:\n      - {at_least: 2, signals: [custody]}\n    legal_basis:",
    )
    with pytest.raises(RulePackError, match=r"require\[0\]: signals \['custody'\] are not signals"):
        parse_pack(text)


def test_routing_errors() -> None:
    base = default_rules()
    routing = (PACKS / "routing.yaml").read_text(encoding="utf-8")
    with pytest.raises(RulePackError, match="rag_hours needs a number of hours for each of red, amber, green"):
        parse_routing(routing.replace("  green: 24\n", ""))
    with pytest.raises(RulePackError, match="a deadline is either"):
        parse_routing(routing.replace("deadline: {rag: green}", "deadline: {}"))
    with pytest.raises(RulePackError, match="resolve: child_school needs `otherwise`"):
        parse_routing(
            routing.replace(
                "    otherwise: {organisation_type: local_authority, role: elective_home_education_officer}\n", ""
            )
        )
    unrouted = parse_routing(routing.replace("  - rule: adult.revolving_door\n", "  - rule: adult.elsewhere\n"))
    with pytest.raises(RulePackError, match=r"no route for the flags \['adult.revolving_door'\]"):
        RuleSet(packs=base.packs, routing=unrouted)


@pytest.mark.parametrize("field", ["citation", "owner", "review_by"])
def test_a_rule_without_a_citation_an_owner_or_a_review_date_is_refused(field: str) -> None:
    """#16: every rule carries the study or guidance it rests on, who answers for it, and when it is reviewed."""
    text = "\n".join(line for line in _pack().split("\n") if not line.strip().startswith(f"{field}:"))
    with pytest.raises(RulePackError, match=field):
        parse_pack(text)


def test_every_shipped_rule_is_owned_cited_and_reviewed() -> None:
    for rule in default_rules().rules:
        assert len(rule.citation) > 20 and rule.owner and rule.review_by


def test_a_rule_past_its_review_date_is_reported_not_refused() -> None:
    rules = default_rules()
    latest = max(r.review_by for r in rules.rules)
    assert rules.due_for_review(latest) == tuple(r for r in rules.rules if r.review_by < latest)
    after = latest + dt.timedelta(days=1)
    assert len(rules.due_for_review(after)) == len(rules.rules)
    report = review_markdown(rules, today=after)
    assert f"{len(rules.rules)} rules are past their review date" in report
    assert "(past)**" in report and "Felitti" in report
    assert "No rule is past its review date" in review_markdown(rules, today=min(r.review_by for r in rules.rules))
