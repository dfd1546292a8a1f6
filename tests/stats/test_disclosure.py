"""The small-number rules as data: each source's rule, the strictest of several, an area's own file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from commonground.errors import UserError
from commonground.stats import NHS_ENGLAND, DisclosurePolicy, SmallNumbers, load_policy, strictest


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0"), (1, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15"), (17, "15"), (18, "20"), (1234, "1,235")],
)
def test_nhs_england_counts(count: int, shown: str) -> None:
    assert NHS_ENGLAND.count(count) == shown


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (1, "c"), (5, "c"), (6, "6"), (13, "13")])
def test_dfe_counts(count: int, shown: str) -> None:
    assert load_policy().rule("dfe").count(count) == shown


def test_percentages_come_from_the_published_figures() -> None:
    assert NHS_ENGLAND.percent(12, 33) == "28.6 %"  # 10 / 35
    assert NHS_ENGLAND.percent(5, 100) == "*"
    assert NHS_ENGLAND.percent(0, 0) == "-"


def test_each_source_has_its_rule_and_several_sources_the_strictest() -> None:
    policy = load_policy()
    assert policy.rule_for(["ed_attendances"]).suppress_up_to == 7
    assert policy.rule_for(["childrens_social_care"]).symbol == "c"
    both = policy.rule_for(["childrens_social_care", "ed_attendances"])
    assert (both.suppress_up_to, both.round_to, both.symbol) == (7, 5, "*")
    assert policy.rule_for(["a_feed_nobody_named"]) == policy.rule(policy.default)
    odd = strictest([SmallNumbers(suppress_up_to=3, round_to=2), SmallNumbers(suppress_up_to=5, round_to=3)])
    assert (odd.suppress_up_to, odd.round_to) == (5, 6)


def test_the_policy_round_trips_through_yaml() -> None:
    policy = load_policy()
    assert DisclosurePolicy.model_validate(yaml.safe_load(policy.to_yaml())) == policy


def test_an_area_sets_its_own_rule_over_the_built_in_ones(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n  partnership: {suppress_up_to: 9, round_to: 10, name: 'Our agreement: 1-9 hidden, tens'}\n"
        "sources:\n  school_roll: partnership\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.rule("partnership").count(9) == "*"
    assert policy.rule("partnership").count(14) == "10"
    assert policy.rule_for(["school_roll"]).name.startswith("Our agreement")
    assert policy.rule("nhs_england") == load_policy().rule("nhs_england")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sources:\n  ed_attendances: nobody\n", "unknown rule"),
        ("rules:\n  partnership: {suppress_up_to: -1}\n", "suppress_up_to"),
        ("rules:\n  partnership: {round_to: 5, colour: red}\n", "colour"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_a_wrong_policy_file_is_refused_with_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=problem):
        load_policy(path)


def test_every_rule_says_what_it_does_in_words() -> None:
    assert NHS_ENGLAND.describe() == "counts from 1 to 7 are shown as '*'; other counts are rounded to the nearest 5"
    assert (
        load_policy().rule("dfe").describe()
        == "counts from 1 to 5 are shown as 'c'; other counts are shown as they are"
    )
