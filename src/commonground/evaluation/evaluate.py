"""``evaluate_intervention``: a cohort and an outcome in, a matched comparison and its effect out.

1. The cohort's people are found in the build; each one's index date is their start date. People
   whose follow-up would run past the end of the build's records are left out (and counted).
2. Comparison candidates are everyone else (less any ``exclude``d) with an index event of the
   outcome (by default the outcome's own events) in the period the start dates span; each one's
   index date is their first such event in it, and they too need a whole follow-up.
3. Covariates at the index date: age, sex, the deprivation decile of the usual postcode, and
   contacts with each kind of partner in the year before.
4. A logistic propensity score; greedy 1:``ratio`` nearest-neighbour matching on its logit
   within a caliper; standardised mean differences before and after (above 0.1 is flagged).
5. The outcome in the ``window_days`` after the index episode: risks, risk difference and risk
   ratio with 95 % intervals; the same in the window before, and the difference in differences.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from commonground.engine import create_engine
from commonground.errors import UserError
from commonground.evaluation import records, stats
from commonground.evaluation.cohort import Cohort
from commonground.evaluation.outcomes import OutcomeSpec, Population, outcome_named
from commonground.evaluation.records import AGENCIES, EPISODE_DAYS, Covariates
from commonground.stats.disclosure import NHS_ENGLAND, SmallNumbers

SMD_FLAG = 0.1
AGENCY_WORDS = {
    "police": "the police",
    "mental_health_trust": "mental-health services",
    "acute_trust": "the emergency department",
    "drug_alcohol_service": "drug and alcohol services",
    "childrens_social_care": "children's social care",
    "prisons_probation": "prisons",
}
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Balance:
    covariate: str
    label: str
    mean_treated: float
    mean_comparison_before: float
    mean_comparison_after: float
    smd_before: float
    smd_after: float

    @property
    def flagged(self) -> bool:
        return abs(self.smd_after) > SMD_FLAG


@dataclass(frozen=True)
class EvaluationResult:
    """Everything an evaluation found. Figures here are exact: publish them through
    :mod:`commonground.evaluation.report`, which applies the small-number rule."""

    outcome: OutcomeSpec
    window_days: int
    build_id: str
    data_end: date
    cohort_size: int
    not_in_build: int
    too_late: int
    """Cohort members whose follow-up would end after the build's last record."""
    wrong_population: int
    candidates: int
    """Comparison candidates (with an index event in the period, a whole follow-up, in the population)."""
    matched_treated: int
    unmatched_treated: int
    comparison_people: int
    """Distinct comparison people used."""
    events_treated: int
    """Matched treated people with the outcome in the follow-up."""
    events_comparison: float
    """Comparison people with the outcome, weighted (each treated person's comparisons weigh 1 together)."""
    comparison_events: int
    """Comparison people used who had the outcome (a count of people)."""
    effects: stats.RiskEffects
    naive: stats.RiskEffects
    """Treated vs every candidate, before matching: how much matching changed the picture."""
    did: stats.Estimate | None
    before_treated: int
    before_comparison: float
    comparison_before_events: int
    balance: tuple[Balance, ...]
    caliper: float
    ratio: int
    period: tuple[date, date]
    notes: tuple[str, ...] = field(default_factory=tuple)
    rule: SmallNumbers = NHS_ENGLAND

    @property
    def flagged_covariates(self) -> tuple[str, ...]:
        return tuple(b.label for b in self.balance if b.flagged)


def evaluate_intervention(
    *,
    build_dir: Path,
    cohort: Cohort,
    outcome: str | OutcomeSpec,
    window_days: int = 183,
    caliper: float = 0.2,
    ratio: int = 1,
    engine: str = "duckdb",
    engine_options: Mapping[str, object] | None = None,
    outcomes: Mapping[str, OutcomeSpec] | None = None,
    rule: SmallNumbers = NHS_ENGLAND,
    exclude: Collection[str] = (),
) -> EvaluationResult:
    """Evaluate an intervention given to ``cohort`` on ``outcome`` (a name from ``outcomes.yaml``).

    ``exclude``: person ids never to use as comparison people (those known to have received
    another intervention that may change the outcome)."""
    spec = outcome if isinstance(outcome, OutcomeSpec) else outcome_named(outcome, dict(outcomes or {}) or None)
    if window_days < 7:
        raise UserError("the follow-up window must be at least 7 days")
    if ratio < 1:
        raise UserError("ratio must be at least 1")
    if not (build_dir / "build.duckdb").exists() and not any(build_dir.glob("*/*.parquet")):
        raise UserError(f"{build_dir}: not a build")
    with create_engine(engine, **dict(engine_options or {})) as db:
        schema = db.attach_build(build_dir)
        if "persons" not in schema:
            raise UserError(f"{build_dir}: not a complete build (no persons table)")
        unavailable = records.stage_sources(db, schema)
        available = set(records.CONTACT_SOURCES) - set(unavailable)
        if not any(e.source in available for e in spec.events):
            raise UserError(f"the build has none of the records outcome {spec.name!r} is measured from")
        records.stage_outcome(db, spec, available)
        end = records.data_end(db)
        if end is None:
            raise UserError(f"{build_dir}: the build has no person-level records")
        known = records.known_persons(db, list(cohort.person_ids))
        last_start = end - timedelta(days=window_days)
        treated = [(p, s) for p, s in cohort.entries if p in known and s <= last_start]
        too_late = sum(1 for p, s in cohort.entries if p in known and s > last_start)
        if not known:
            raise UserError(
                f"none of the cohort's {len(set(cohort.person_ids)):,} person ids is in the current build: check "
                "that they are the build's pseudonymous person ids (P followed by ten digits), from this build's area",
                field="cohort",
            )
        if not treated:
            raise UserError(
                f"{len(known):,} of the cohort's people are in the build, but none started the intervention at least "
                f"{window_days} days before the build's last records ({end:%d %B %Y}), so no one has a whole "
                f"follow-up window: {too_late:,} started too late",
                field="cohort",
            )
        period = (min(s for _, s in treated), max(s for _, s in treated))
        pool = records.comparison_candidates(db, first=period[0], last=min(period[1], last_start))
        in_cohort = set(cohort.person_ids) | {str(p) for p in exclude}
        pool_rows = [
            (str(p), d)
            for p, d in zip(pool.column("person_id").to_pylist(), pool.column("index_date").to_pylist(), strict=True)
            if str(p) not in in_cohort
        ]
        people = pa.table(
            {
                "person_id": pa.array([p for p, _ in treated] + [p for p, _ in pool_rows], pa.string()),
                "index_date": pa.array([s for _, s in treated] + [d for _, d in pool_rows], pa.date32()),
                "treated": pa.array([True] * len(treated) + [False] * len(pool_rows), pa.bool_()),
            }
        )
        data = records.covariates(db, schema, people, window_days=window_days)
    keep = _in_population(data, spec.population)
    return _estimate(
        data,
        keep,
        spec=spec,
        window_days=window_days,
        caliper=caliper,
        ratio=ratio,
        build_id=build_dir.name,
        end=end,
        counts=(len(cohort), len(cohort) - len(known), too_late),
        period=period,
        rule=rule,
    )


def _in_population(data: Covariates, population: Population) -> np.ndarray:
    if population is Population.ADULT:
        return np.asarray(~(data.age < 18), dtype=bool)
    if population is Population.CHILD:
        return np.asarray(~(data.age >= 18), dtype=bool)
    return np.ones(len(data.person_id), dtype=bool)


def design(data: Covariates) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The propensity model's columns and (name, label) of each."""
    age = np.where(np.isnan(data.age), np.nanmedian(data.age) if np.isfinite(data.age).any() else 0.0, data.age)
    decile_known = np.isfinite(data.decile)
    decile = np.where(decile_known, data.decile, 5.5)
    columns = [
        ("age", "age at the index date (years)", age),
        ("age_squared", "age squared", (age - 40.0) ** 2 / 100.0),
        ("female", "female", data.female),
        ("sex_unknown", "sex not recorded", data.sex_unknown),
        ("deprivation_decile", "deprivation decile of the usual postcode (1 = most deprived)", decile),
        ("deprivation_unknown", "no known postcode", (~decile_known).astype(np.float64)),
    ]
    for agency in AGENCIES:
        counts = np.minimum(data.prior[agency], 50.0)
        words = AGENCY_WORDS.get(agency, agency.replace("_", " "))
        columns.append((f"prior_{agency}", f"records from {words} in the year before", counts))
    x = np.column_stack([c[2] for c in columns]).astype(np.float64)
    return x, [(c[0], c[1]) for c in columns]


def _estimate(
    data: Covariates,
    keep: np.ndarray,
    *,
    spec: OutcomeSpec,
    window_days: int,
    caliper: float,
    ratio: int,
    build_id: str,
    end: date,
    counts: tuple[int, int, int],
    period: tuple[date, date],
    rule: SmallNumbers,
) -> EvaluationResult:
    cohort_size, not_in_build, too_late = counts
    treated_all = data.treated
    wrong_population = int((treated_all & ~keep).sum())
    x_all, names = design(data)
    x, t = x_all[keep], treated_all[keep]
    after = (data.after[keep] > 0).astype(np.float64)
    before = (data.before[keep] > 0).astype(np.float64)
    if t.sum() == 0 or (~t).sum() == 0:
        raise UserError("no cohort member or no comparison candidate left to compare")
    usable = x.std(axis=0) > 0
    logit = stats.propensity_logit(x[:, usable], t)
    matches = stats.match(logit, t, caliper=caliper, ratio=ratio)
    if len(matches.treated) == 0:
        raise UserError("no cohort member has a comparison person within the caliper")
    weights = matches.control_weights(len(t))
    rows = matches.matched_treated
    effects = stats.risk_effects(after[rows], after, weights)
    naive = stats.risk_effects(after[t], after[~t])
    smd_before = stats.smd(x, t)
    smd_after = stats.smd(x, t, weights, rows)
    total_w = float(weights.sum())
    balance = tuple(
        Balance(
            covariate=name,
            label=label,
            mean_treated=float(x[rows, i].mean()),
            mean_comparison_before=float(x[~t, i].mean()),
            mean_comparison_after=float((weights * x[:, i]).sum() / total_w),
            smd_before=float(smd_before[i]),
            smd_after=float(smd_after[i]),
        )
        for i, (name, label) in enumerate(names)
    )
    did = stats.difference_in_differences(before[rows], after[rows], before, after, weights)
    notes = []
    if not usable.all():
        dropped = [names[i][1] for i in np.flatnonzero(~usable)]
        notes.append(f"Left out of the propensity model (the same for everyone): {', '.join(dropped)}.")
    return EvaluationResult(
        outcome=spec,
        window_days=window_days,
        build_id=build_id,
        data_end=end,
        cohort_size=cohort_size,
        not_in_build=not_in_build,
        too_late=too_late,
        wrong_population=wrong_population,
        candidates=int((~t).sum()),
        matched_treated=len(rows),
        unmatched_treated=len(matches.unmatched),
        comparison_people=int((weights > 0).sum()),
        events_treated=int(after[rows].sum()),
        events_comparison=float((weights * after).sum()),
        comparison_events=int(((weights > 0) & (after > 0)).sum()),
        effects=effects,
        naive=naive,
        did=did,
        before_treated=int(before[rows].sum()),
        before_comparison=float((weights * before).sum()),
        comparison_before_events=int(((weights > 0) & (before > 0)).sum()),
        balance=balance,
        caliper=caliper,
        ratio=ratio,
        period=period,
        notes=tuple(notes),
        rule=rule,
    )


__all__ = ["EPISODE_DAYS", "SMD_FLAG", "Balance", "EvaluationResult", "design", "evaluate_intervention"]
