"""The evaluation command: ``evaluate-intervention``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commonground.cli.app import app, out, settings_of, user_errors


@app.command("evaluate-intervention")
@user_errors
def evaluate_intervention(
    ctx: typer.Context,
    cohort: Annotated[
        Path, typer.Option("--cohort", help="CSV of the people who received it: person_id, start_date (YYYY-MM-DD).")
    ],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="What to measure: mental_health_crisis_police, mental_health_crisis, ed_assault or missing_episode.",
        ),
    ],
    window_days: Annotated[int, typer.Option("--window-days", help="Follow-up after each start, in days.")] = 183,
    ratio: Annotated[
        int, typer.Option("--ratio", help="Comparison people matched to each person who received it.")
    ] = 1,
    caliper: Annotated[
        float, typer.Option("--caliper", help="Widest match, in standard deviations of the propensity logit.")
    ] = 0.2,
    exclude: Annotated[
        Path | None,
        typer.Option(
            "--exclude",
            help="CSV with a person_id column: people never to use for comparison (they received something else).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for report.md, report.json, summary.csv and balance.csv.")
    ] = None,
) -> None:
    """Compare people who received an intervention with matched people who did not, on an outcome from the
    linked records of the current build; small numbers suppressed."""
    from commonground.evaluation import evaluate_intervention as evaluate
    from commonground.evaluation import read_cohort_csv, read_person_ids
    from commonground.evaluation.report import render_markdown, write_report
    from commonground.linkage.builds import require_current_build

    build = require_current_build(settings_of(ctx).data_dir)
    result = evaluate(
        build_dir=build.path,
        cohort=read_cohort_csv(cohort),
        outcome=outcome,
        window_days=window_days,
        ratio=ratio,
        caliper=caliper,
        exclude=read_person_ids(exclude) if exclude is not None else (),
    )
    typer.echo(render_markdown(result))
    if out_dir is not None:
        for path in write_report(result, out_dir):
            out.print(f"wrote {path}", highlight=False, soft_wrap=True)
