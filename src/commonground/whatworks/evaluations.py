"""Running an evaluation of a local intervention on the current build, as a checked operation: the cohort (pairs of
pseudonymous person id and start date), the outcome and the follow-up window in; the result out, never stored.
The run is audited (the outcome, the window, the cohort's size and where it came from; no person id) and
committed. The evaluations page calls it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from commonground.access import audit
from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Subject
from commonground.evaluation import EvaluationResult, SmallNumbers, evaluate_intervention
from commonground.evaluation.cohort import Cohort, cohort_from_pairs
from commonground.evaluation.outcomes import OutcomeSpec

EVALUATIONS = Subject(kind=SubjectKind.EVALUATION)


@dataclass(frozen=True)
class Run:
    result: EvaluationResult
    cohort: Cohort


def run_evaluation(
    ctx: Context,
    *,
    build_dir: Path,
    pairs: Iterable[tuple[str, dt.date]],
    outcome: OutcomeSpec,
    window_days: int,
    rule: SmallNumbers,
    source: str,
    download: bool,
) -> Run:
    """Evaluate on the build in ``build_dir``; a cohort or build that cannot be evaluated is a
    :class:`~commonground.errors.UserError` (nothing audited)."""
    ctx.require("run-evaluation", EVALUATIONS)
    cohort = cohort_from_pairs(pairs)
    result = evaluate_intervention(
        build_dir=build_dir, cohort=cohort, outcome=outcome, window_days=window_days, rule=rule
    )
    audit.record(
        ctx.db,
        audit.Event(
            actor=ctx.me().actor,
            action="run-evaluation",
            subject_type=SubjectKind.EVALUATION.value,
            subject_id=outcome.name,
            detail={
                "outcome": outcome.name,
                "window_days": window_days,
                "cohort_size": len(cohort),
                "source": source,
                "download": download,
            },
        ),
    )
    ctx.db.commit()
    return Run(result=result, cohort=cohort)
