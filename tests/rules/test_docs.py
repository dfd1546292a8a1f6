"""docs/rules.md describes every rule and every route in force."""

from __future__ import annotations

from pathlib import Path

from commonground.rules import default_rules

DOC = Path(__file__).parents[2] / "docs" / "rules.md"


def test_every_rule_and_route_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    rules = default_rules()
    for rule in rules.rules:
        assert f"`{rule.id}`" in text, rule.id
    for route in rules.routing.routes:
        assert f"{route.to.organisation_type.value}" in text and route.to.role in text, route.rule
    for table in ("indicators", "flags", "evidence", "rules_run", "rule_evidence_items", "age_unknown"):
        assert f"`{table}`" in text, table
    assert "person_id, rule_id, kind, first_evidence, latest_evidence, route_to, due_by" in text
