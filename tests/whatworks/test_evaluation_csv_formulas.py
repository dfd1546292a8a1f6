"""The evaluation report's CSV files are opened in a spreadsheet (#18): a label that begins like a formula is written
with a leading quote and every field is quoted; negative figures stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from commonground.evaluation import stats
from commonground.evaluation.evaluate import Balance, EvaluationResult
from commonground.evaluation.outcomes import outcome_named
from commonground.evaluation.report import write_report

LABEL = '=HYPERLINK("http://x","click")'


def _result() -> EvaluationResult:
    effects = stats.RiskEffects(
        risk_treated=0.2,
        risk_control=0.3,
        difference=stats.Estimate(-0.1, -0.2, -0.01),
        ratio=stats.Estimate(0.67, 0.5, 0.9),
    )
    return EvaluationResult(
        outcome=outcome_named("mental_health_crisis"),
        window_days=183,
        build_id="B-TEST",
        data_end=dt.date(2026, 6, 30),
        cohort_size=400,
        not_in_build=10,
        too_late=10,
        wrong_population=10,
        candidates=5000,
        matched_treated=370,
        unmatched_treated=0,
        comparison_people=370,
        events_treated=74,
        events_comparison=111.0,
        comparison_events=111,
        effects=effects,
        naive=effects,
        did=stats.Estimate(-0.05, -0.1, -0.001),
        before_treated=370,
        before_comparison=370.0,
        comparison_before_events=80,
        balance=(
            Balance(LABEL.lower(), LABEL, 0.5, 0.4, 0.5, -0.31, 0.02),
            Balance("age", "Age at the start", 30.0, 31.0, 30.1, -0.08, -0.01),
        ),
        caliper=0.2,
        ratio=1,
        period=(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    )


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_a_formula_like_label_is_neutralised_and_numbers_stay_numbers(tmp_path: Path) -> None:
    paths = {p.name: p for p in write_report(_result(), tmp_path)}
    balance = _rows(paths["balance.csv"])
    assert balance[1][:4] == ["'" + LABEL.lower(), "'" + LABEL, "-0.31", "0.02"]
    assert balance[2][3] == "-0.01"
    summary = _rows(paths["summary.csv"])
    assert ["risk_difference", "-0.1", "-0.2", "-0.01"] in summary
    for name in ("balance.csv", "summary.csv"):
        text = paths[name].read_text(encoding="utf-8")
        assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines()), name
