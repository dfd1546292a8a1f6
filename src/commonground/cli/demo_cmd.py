"""``commonground demo``: a synthetic area built and loaded, ready to explore."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.data_cmd import print_ingest_summary, print_synth_summary
from commonground.cli.link_cmd import print_build_summary
from commonground.cli.progress import progress_bars
from commonground.cli.rules_cmd import print_rules_summary


@app.command()
@user_errors
def demo(
    ctx: typer.Context,
    people: Annotated[int, typer.Option("--people", min=100, help="Size of the synthetic area.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic area.")] = 1,
) -> None:
    """Build a synthetic area, ingest every feed, link people and households, run the rules, and say what was done."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.builds import current_build_id
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    data_dir = settings_of(ctx).data_dir
    area = data_dir / "synthetic-area" / f"seed-{seed}-people-{people}"
    started = time.perf_counter()
    out.print(f"[bold]commonground demo[/]: a synthetic area of {people:,} people (seed {seed}) in {data_dir}")
    if (area / "truth" / "manifest.json").exists():
        out.print(f"Reusing the synthetic area already at {area}.")
    else:
        with progress_bars(err) as on_progress:
            summary = generate(people=people, seed=seed, out=area, on_progress=on_progress)
        print_synth_summary(summary)
    with progress_bars(err) as on_progress:
        result = ingest_directory(source=area, data_dir=data_dir, on_progress=on_progress)
    print_ingest_summary(json.loads(result.to_json()), data_dir=data_dir)
    if result.totals()["loaded"] or current_build_id(data_dir) is None:
        with progress_bars(err) as on_progress:
            build = build_from_store(data_dir=data_dir, on_progress=on_progress)
        print_build_summary(build)
        print_rules_summary(run_rules(build_dir=build.path))
    else:
        out.print(f"Nothing new was loaded: build {current_build_id(data_dir)} stays current.")
    out.print(
        f"Done in {time.perf_counter() - started:.0f} s. Next: `commonground --data-dir {data_dir} ingest-report`."
    )
