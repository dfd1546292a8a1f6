"""The evaluation's parts on small literal cases: the logistic fit, matching, balance, effects, small numbers,
cohorts and outcome specs."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from commonground.errors import UserError
from commonground.evaluation import (
    SmallNumbers,
    cohort_from_pairs,
    default_outcomes,
    load_outcomes,
    read_cohort_csv,
    stats,
)


def test_logistic_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20_000, 2)) * [1.0, 3.0] + [0.0, 10.0]
    logit = -1.0 + 0.8 * x[:, 0] - 0.3 * x[:, 1] + 3.0
    y = rng.random(len(x)) < 1 / (1 + np.exp(-logit))
    beta = stats.fit_logistic(x, y)
    assert beta == pytest.approx([2.0, 0.8, -0.3], abs=0.08)


def test_logistic_fit_survives_a_separating_column() -> None:
    x = np.array([[0.0], [0.0], [1.0], [1.0]])
    y = np.array([False, False, True, True])
    beta = stats.fit_logistic(x, y)
    assert np.all(np.isfinite(beta))
    assert stats.predict_logit(beta, x)[2] > stats.predict_logit(beta, x)[0]


def test_matching_takes_the_nearest_inside_the_caliper_once() -> None:
    logit = np.array([0.0, 1.0, 5.0, 0.1, 0.9, 0.95, 3.0])
    treated = np.array([True, True, True, False, False, False, False])
    m = stats.match(logit, treated, caliper=0.2)  # 0.2 SD of the logit = about 0.37
    pairs = dict(zip(m.treated.tolist(), m.control.tolist(), strict=True))
    assert pairs == {1: 5, 0: 3}  # highest score first; 1 takes 0.95, 0 takes 0.1
    assert m.unmatched.tolist() == [2]  # nothing near 5.0
    w = m.control_weights(len(logit))
    assert w.tolist() == [0, 0, 0, 1, 0, 1, 0]


def test_matching_with_replacement_reuses_a_comparison() -> None:
    logit = np.array([1.0, 1.05, 1.02, 4.0])
    treated = np.array([True, True, False, False])
    m = stats.match(logit, treated, caliper=None, replace=True)
    assert m.control.tolist() == [2, 2]
    assert m.control_weights(4).tolist() == [0, 0, 2, 0]


def test_smd_before_and_after() -> None:
    x = np.array([[1.0], [3.0], [1.0], [3.0], [10.0]])
    treated = np.array([True, True, False, False, False])
    before = stats.smd(x, treated)
    assert before[0] < -0.5
    after = stats.smd(x, treated, np.array([0, 0, 1.0, 1.0, 0]), np.array([0, 1]))
    assert after[0] == pytest.approx(0.0)


def test_risk_effects_literal() -> None:
    # 10 of 100 treated, 20 of 100 comparison: RD -0.10, RR 0.5
    yt = np.array([1.0] * 10 + [0.0] * 90)
    yc = np.array([1.0] * 20 + [0.0] * 80)
    e = stats.risk_effects(yt, yc)
    assert e.difference.value == pytest.approx(-0.10)
    se = math.sqrt(0.1 * 0.9 / 99 + 0.2 * 0.8 / 99)
    assert e.difference.low == pytest.approx(-0.10 - stats.Z95 * se)
    assert e.ratio.value == pytest.approx(0.5)
    log_se = math.sqrt((0.1 * 0.9 / 99) / 0.01 + (0.2 * 0.8 / 99) / 0.04)
    assert e.ratio.high == pytest.approx(0.5 * math.exp(stats.Z95 * log_se))
    assert e.difference.excludes(0.0) and e.ratio.contains(1.0)  # the ratio is the less certain of the two here


def test_risk_ratio_without_events_has_no_interval() -> None:
    e = stats.risk_effects(np.zeros(20), np.array([1.0] * 5 + [0.0] * 15))
    assert e.ratio.low is None and not e.ratio.contains(0.0)


def test_difference_in_differences() -> None:
    est = stats.difference_in_differences(
        np.array([1.0, 1.0, 0.0, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.0]),
        np.array([1.0, 1.0, 0.0, 0.0]),
        np.array([1.0, 1.0, 0.0, 0.0]),
    )
    assert est.value == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0"), (1, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15"), (1234, "1,235")],
)
def test_nhs_england_small_numbers(count: int, shown: str) -> None:
    assert SmallNumbers().count(count) == shown


def test_small_number_percentages_use_rounded_counts() -> None:
    rule = SmallNumbers()
    assert rule.percent(12, 48) == "20.0 %"  # 10 of 50
    assert rule.percent(3, 48) == "*"
    dfe = SmallNumbers(suppress_up_to=5, round_to=1, name="DfE")
    assert dfe.count(6) == "6" and dfe.count(5) == "*"


def test_cohort_from_pairs_keeps_the_earliest_start() -> None:
    c = cohort_from_pairs([("P2", date(2024, 5, 1)), ("P1", date(2024, 1, 1)), ("P2", date(2024, 2, 1))])
    assert c.entries == (("P1", date(2024, 1, 1)), ("P2", date(2024, 2, 1)))
    assert c.duplicates == 1
    with pytest.raises(UserError, match="empty"):
        cohort_from_pairs([])


def test_cohort_csv(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("person_id,start_date\nP1,2024-01-02\nP2,2024-03-04\n", encoding="utf-8")
    assert read_cohort_csv(path).person_ids == ("P1", "P2")
    path.write_text("person_id,start_date\nP1,02/01/2024\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"line 2: start_date is not a date") as error:
        read_cohort_csv(path)
    assert "02/01/2024" not in str(error.value)  # values never in messages
    path.write_text("id,when\nP1,2024-01-02\n", encoding="utf-8")
    with pytest.raises(UserError, match="needs the columns"):
        read_cohort_csv(path)


def test_default_outcomes_load() -> None:
    outcomes = default_outcomes()
    assert set(outcomes) >= {"mental_health_crisis_police", "mental_health_crisis", "ed_assault", "missing_episode"}
    assert "street-triage" in outcomes["mental_health_crisis_police"].explain()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{source: nowhere, label: something}", "unknown source 'nowhere'"),
        ("{source: ed_attendances, label: something, where: [{column: colour, in: [red]}]}", "has no column 'colour'"),
        ("{source: ed_attendances, label: something, where: [{column: injury_intent, in: [stabbing]}]}", "not codes"),
    ],
)
def test_outcome_file_errors_name_the_problem(tmp_path: Path, event: str, message: str) -> None:
    path = tmp_path / "outcomes.yaml"
    path.write_text(
        f"version: 1\noutcomes:\n  - name: x\n    title: An outcome\n    description: A test outcome here.\n"
        f"    events:\n      - {event}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match=message):
        load_outcomes(path)
