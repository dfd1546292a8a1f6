"""The statistics command: ``stats``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commonground.cli.app import app, out, settings_of, user_errors


@app.command("stats")
@user_errors
def stats(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the tables (CSV) and their metadata (JSON).")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="YAML file of small-number rules and sources, laid over the built-in ones."),
    ] = None,
) -> None:
    """Pseudonymised, disclosure-controlled tables from the current build: people by area, age, sex and
    deprivation; ACEs among children; indicators and flags by rule, area and month; police contact that
    overlaps with mental-health, substance and emergency services. No person is named or identified."""
    from commonground.linkage.builds import require_current_build
    from commonground.stats import load_policy, run_stats

    build = require_current_build(settings_of(ctx).data_dir)
    result = run_stats(build_dir=build.path, out_dir=out_dir, policy=load_policy(policy))
    out.print(
        f"Wrote {result.tables} tables ({result.figures:,} figures, {result.hidden:,} hidden by the small-number "
        f"rules) for build {result.build_id} to {result.out_dir} in {result.seconds:.1f} s.",
        highlight=False,
        soft_wrap=True,
    )
