"""The linkage spec: validates when built, round-trips, and compiles for more than one engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from commonground.linkage.compile import settings_dict
from commonground.linkage.spec import LinkageModelSpec, SpecError, default_spec, load_spec


def test_default_spec_loads_and_names_every_level_in_words() -> None:
    spec = default_spec()
    assert [c.name for c in spec.comparisons] == [
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "address",
        "nhs_number",
    ]
    for comp in spec.comparisons:
        assert comp.levels[0].kind == "missing" and comp.levels[-1].kind == "else"
        assert all((level.label and not level.label[0].isupper()) or comp.name == "nhs_number" for level in comp.levels)


def test_yaml_and_json_round_trip(tmp_path: Path) -> None:
    spec = default_spec()
    assert LinkageModelSpec.from_yaml(spec.to_yaml()) == spec
    assert LinkageModelSpec.from_json(spec.to_json()) == spec
    (tmp_path / "m.yaml").write_text(spec.to_yaml(), encoding="utf-8")
    (tmp_path / "m.json").write_text(spec.to_json(), encoding="utf-8")
    assert load_spec(tmp_path / "m.yaml") == load_spec(tmp_path / "m.json") == spec


Data = dict[str, Any]


def _level(data: Data, comparison: int, level: int) -> Data:
    found: Data = data["comparisons"][comparison]["levels"][level]
    return found


def _first_level_exact(d: Data) -> None:
    d["comparisons"][0]["levels"][0] = {"kind": "exact", "label": "missing, perhaps"}


def _threshold_above_one(d: Data) -> None:
    _level(d, 0, 5)["threshold"] = 1.5


def _unknown_column(d: Data) -> None:
    d["comparisons"][0]["column"] = "shoe_size"


def _repeated_label(d: Data) -> None:
    _level(d, 0, -1)["label"] = "the same"


def _unknown_kind(d: Data) -> None:
    _level(d, 1, 0)["kind"] = "sometimes"


def _block_on_unknown(d: Data) -> None:
    d["blocking_rules"].append([{"column": "nose"}])


def _threshold_below_floor(d: Data) -> None:
    d["threshold_match_probability"] = 0.0000001


def _two_thresholds(d: Data) -> None:
    d["threshold_match_weight"] = 14.5


def _tf_on_a_part(d: Data) -> None:
    _level(d, 0, 8)["term_frequency"] = True


def _alternative_on_a_text_column(d: Data) -> None:
    _level(d, 0, 2)["column"] = "given_name_key"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _first_level_exact,
            "comparisons.0: Value error, comparison 'given_name': the first level must be the missing-value level",
        ),
        (_threshold_above_one, "comparisons.0.levels.5.jaro_winkler.threshold: Input should be less than 1"),
        (_unknown_column, "unknown column 'shoe_size'"),
        (_repeated_label, "each level needs its own label; repeated: ['the same']"),
        (_unknown_kind, "does not match any of the expected tags"),
        (_block_on_unknown, "cannot block on 'nose'"),
        (_threshold_below_floor, "keep_pairs_above_match_weight must not be above the threshold"),
        (_two_thresholds, "give one threshold: threshold_match_probability or threshold_match_weight"),
        (_tf_on_a_part, "term-frequency adjustment needs the whole value"),
        (
            _alternative_on_a_text_column,
            "level 'a known nickname or short form of the other' cannot compare the columns it names",
        ),
    ],
)
def test_a_bad_spec_is_refused_with_a_clear_reason(edit: Callable[[Data], None], message: str) -> None:
    data = default_spec().model_dump(mode="json")
    edit(data)
    with pytest.raises(SpecError, match=re.escape(message)):
        LinkageModelSpec.from_data(data)


def test_every_comparison_must_be_trainable_by_some_em_rule() -> None:
    spec = default_spec()
    data = spec.model_dump(mode="json")
    data["training"]["em_blocking_rules"] = [[{"column": "date_of_birth"}]]
    with pytest.raises(SpecError, match=r"comparisons \['date_of_birth'\] use a column of every EM blocking rule"):
        LinkageModelSpec.from_data(data)


def test_not_yaml_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not valid YAML"):
        LinkageModelSpec.from_yaml("comparisons: [unclosed")


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_compiles_for_each_backend_from_one_spec(dialect: str) -> None:
    settings = settings_dict(default_spec(), dialect=dialect)
    comparisons = {c["output_column_name"]: c for c in settings["comparisons"]}
    labels = [lv["label_for_charts"] for lv in comparisons["date_of_birth"]["comparison_levels"]]
    assert "day and month swapped" in labels
    sql = " ".join(lv["sql_condition"] for c in settings["comparisons"] for lv in c["comparison_levels"])
    assert "jaro_winkler" in sql
    if dialect == "spark":
        assert "regexp_extract" in sql and "try_strptime" not in sql
    names = comparisons["given_name"]["comparison_levels"]
    assert any(lv.get("tf_adjustment_column") == "given_name_key" for lv in names)


def test_small_area_rules_apply_only_up_to_their_size() -> None:
    spec = default_spec()
    extra = spec.small_area_blocking
    assert extra is not None
    small = spec.blocking_rules_for(extra.max_records)
    large = spec.blocking_rules_for(extra.max_records + 1)
    assert large == spec.blocking_rules
    assert small[: len(spec.blocking_rules)] == spec.blocking_rules
    assert set(small) - set(large) == set(extra.rules)


def test_every_always_used_rule_keys_on_more_than_one_common_value() -> None:
    """The rules for large inputs must grow linearly: none keyed on one date of birth, one name or
    one address alone (docs/linkage.md#blocking). One identifier (NHS number, UPRN) is fine."""
    identifiers = {"nhs_number", "uprn"}
    for rule in default_spec().blocking_rules:
        assert len(rule) > 1 or rule[0].column in identifiers, rule


def test_the_rules_used_are_compiled_for_splink() -> None:
    spec = default_spec()
    rules = spec.blocking_rules_for(10)
    compiled = settings_dict(spec, dialect="duckdb")["blocking_rules_to_generate_predictions"]
    assert len(compiled) == len(spec.blocking_rules) < len(rules)
