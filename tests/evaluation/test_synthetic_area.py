"""Proven, not assumed: the planted interventions of a synthetic area, recovered through the whole chain.

The synth plants two interventions (``commonground.synth.interventions``, docs/synth.md) offered
after police-attended mental-health crises, to people with more crises in the year before and to
the revolving door more often (confounding):

- A prevents every crisis in the next 183 days for 70 % of recipients: a true risk ratio of 0.3
  on any outcome made of crises;
- B changes nothing: a true risk ratio of 1.0.

The area is synthesised, ingested and linked; the truth cohorts are mapped to build person ids
(the build person holding most of each truth person's records) and evaluated on
``mental_health_crisis`` in a 183-day follow-up, each against people who received neither (the
other's recipients excluded). The asserts: A's 95 % interval for the risk ratio covers 0.3 and
excludes 1 (and the risk difference excludes 0); B's interval covers 1 and its risk difference
covers 0. 60,000 people give about 80 recipients of A and 55 of B: enough power for A's effect
at this seed, for two to six minutes of synth, ingest and linkage on a shared two-core machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from commonground.evaluation import EvaluationResult, evaluate_intervention
from commonground.evaluation.report import render_markdown, summary, write_report

from .support import planted_cohort

PEOPLE = 60_000
SEED = 7
OUTCOME = "mental_health_crisis"


@dataclass(frozen=True)
class Area:
    root: Path
    build: Path
    results: dict[str, EvaluationResult]
    truths: dict[str, float]
    cohorts: dict[str, tuple[str, ...]]


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Area:
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import builds_dir, current_build_id
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("evaluation-area")
    generate(people=PEOPLE, seed=SEED, out=root / "area", on_progress=None)
    ingest_directory(source=root / "area", data_dir=root / "data", on_progress=None)
    build_from_store(data_dir=root / "data", on_progress=None)
    build_id = current_build_id(root / "data")
    assert build_id is not None
    build = builds_dir(root / "data") / build_id
    cohorts, truths = {}, {}
    for code in ("A", "B"):
        cohort, unseen, truth = planted_cohort(build, root / "area" / "truth", code)
        assert unseen == 0  # every recipient's index crisis is a police record, so linkage knows them all
        cohorts[code], truths[code] = cohort, truth
    # Each is compared with people who received neither: the other's recipients are excluded.
    results = {
        code: evaluate_intervention(
            build_dir=build, cohort=cohort, outcome=OUTCOME, exclude=cohorts["B" if code == "A" else "A"].person_ids
        )
        for code, cohort in cohorts.items()
    }
    return Area(
        root=root, build=build, results=results, truths=truths, cohorts={k: c.person_ids for k, c in cohorts.items()}
    )


def _describe(result: EvaluationResult) -> str:
    e = result.effects
    return (
        f"matched {result.matched_treated} of {result.cohort_size}; risks {e.risk_treated:.3f} vs {e.risk_control:.3f};"
        f" RD {e.difference}; RR {e.ratio}; unmatched RR {result.naive.ratio}; DiD {result.did}"
    )


@pytest.mark.slow
def test_intervention_a_effect_is_recovered(area: Area) -> None:
    result = area.results["A"]
    assert area.truths["A"] == pytest.approx(0.3)
    assert result.matched_treated >= 40, _describe(result)
    assert result.effects.ratio.contains(area.truths["A"]), _describe(result)
    assert result.effects.ratio.excludes(1.0), _describe(result)
    assert result.effects.difference.excludes(0.0) and result.effects.difference.value < 0, _describe(result)


@pytest.mark.slow
def test_intervention_b_shows_no_effect(area: Area) -> None:
    result = area.results["B"]
    assert area.truths["B"] == pytest.approx(1.0)
    assert result.matched_treated >= 40, _describe(result)
    assert result.effects.ratio.contains(1.0), _describe(result)
    assert result.effects.difference.contains(0.0), _describe(result)


@pytest.mark.slow
def test_matching_balances_the_groups(area: Area) -> None:
    for code, result in area.results.items():
        before = np.array([abs(b.smd_before) for b in result.balance])
        after = np.array([abs(b.smd_after) for b in result.balance])
        assert after.mean() < before.mean(), (code, [(b.covariate, b.smd_before, b.smd_after) for b in result.balance])
        assert after.max() < 0.3, (code, [(b.covariate, b.smd_after) for b in result.balance])


@pytest.mark.slow
def test_reports_hold_no_person_ids_and_suppress_small_counts(area: Area, tmp_path: Path) -> None:
    result = area.results["A"]
    paths = write_report(result, tmp_path / "report")
    text = "".join(p.read_text(encoding="utf-8") for p in paths) + render_markdown(result)
    for person_id in area.cohorts["A"]:
        assert person_id not in text
    published = summary(result)
    assert published["cohort"]["listed"] == result.rule.count(result.cohort_size)
    assert any("not a trial" in c for c in published["caveats"])
    json.loads(paths[1].read_text(encoding="utf-8"))
    small = summary(_with(result, events_treated=3))
    assert small["effect"]["risk_ratio"].startswith("withheld")
    assert small["outcome_counts"]["treated_with_outcome"] == "*"


def _with(result: EvaluationResult, **changes: int) -> EvaluationResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


@pytest.mark.slow
def test_the_command_writes_the_report(area: Area, tmp_path: Path) -> None:
    from commonground.cli import app

    cohort = tmp_path / "cohort.csv"
    rows = ["person_id,start_date"]
    result = area.results["B"]
    from .support import planted_cohort as again

    entries, _, _ = again(area.build, area.root / "area" / "truth", "B")
    rows += [f"{p},{s.isoformat()}" for p, s in entries.entries]
    cohort.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(area.root / "data"),
            "evaluate-intervention",
            "--cohort",
            str(cohort),
            "--outcome",
            OUTCOME,
            "--out",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "Risk ratio" in run.output and "not a trial" in run.output
    assert sorted(p.name for p in out.iterdir()) == ["balance.csv", "report.json", "report.md", "summary.csv"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["cohort"]["matched"] == result.rule.count(
        result.matched_treated
    )
    bad = CliRunner().invoke(
        app, ["--data-dir", str(area.root / "data"), "evaluate-intervention", "--cohort", str(cohort), "--outcome", "x"]
    )
    assert bad.exit_code == 2 and "unknown outcome" in bad.output
