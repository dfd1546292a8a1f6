"""Commands of the linkage stage: ``link``, ``export persons|households``, ``explain-link``, ``match``, ``evaluate``,
``link-report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.progress import progress_bars

if TYPE_CHECKING:
    from commonground.linkage.pipeline import BuildSummary

export_app = typer.Typer(help="Write what the current build holds as CSV.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@app.command()
@user_errors
def link(
    ctx: typer.Context,
    train: Annotated[bool, typer.Option("--train", help="Train the model again before linking.")] = False,
    engine: Annotated[
        str, typer.Option("--engine", help="Analytical engine for prediction and clustering: duckdb or spark.")
    ] = "duckdb",
) -> None:
    """Link everything ingested into people and households, and publish it as a new build."""
    from commonground.linkage.pipeline import build_from_store

    with progress_bars(err) as on_progress:
        summary = build_from_store(
            data_dir=settings_of(ctx).data_dir, train=train, engine=engine, on_progress=on_progress
        )
    print_build_summary(summary)


def print_build_summary(summary: BuildSummary) -> None:
    ids = summary.person_ids
    out.print(f"Build {summary.build_id} published ({summary.engine}).", highlight=False)
    out.print(
        f"records {summary.records:,}  persons {summary.persons:,}  links {summary.links:,}  "
        f"households {summary.households:,}  seconds {summary.seconds:.1f}",
        highlight=False,
    )
    out.print(
        f"model {summary.model_version}{' (trained now)' if summary.trained else ''}, threshold "
        f"{summary.threshold_match_weight:+.1f}; person ids kept {ids['kept']:,}, new {ids['fresh']:,}, "
        f"retired {ids['retired']:,}",
        highlight=False,
    )


@export_app.command("persons")
@user_errors
def export_persons(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write (feed, record_id, person_id).")],
) -> None:
    """Every person-level record of the current build with its person id."""
    from commonground.linkage.reports import export_persons as export

    rows = export(data_dir=settings_of(ctx).data_dir, out=out_file)
    out.print(f"Wrote {rows:,} records to {out_file}.", highlight=False)


@export_app.command("households")
@user_errors
def export_households(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write (person_id, household_id, start, end).")],
) -> None:
    """Who lived with whom, when: one row per person-period in a household."""
    from commonground.linkage.reports import export_households as export

    rows = export(data_dir=settings_of(ctx).data_dir, out=out_file)
    out.print(f"Wrote {rows:,} person-periods to {out_file}.", highlight=False)


@app.command("explain-link")
@user_errors
def explain_link(
    ctx: typer.Context,
    left: Annotated[str, typer.Argument(help="One record, FEED:RECORD_ID.")],
    right: Annotated[str, typer.Argument(help="The other record, FEED:RECORD_ID.")],
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Also print the values compared (personal data).")
    ] = False,
) -> None:
    """Why two records are, or are not, the same person: each comparison's level and weight."""
    from commonground.linkage.reports import explain_link as explain

    explanation = explain(data_dir=settings_of(ctx).data_dir, left=left, right=right)
    typer.echo(explanation.as_text(show_values=show_values))


@app.command()
@user_errors
def evaluate(
    ctx: typer.Context,
    truth: Annotated[Path, typer.Option("--truth", help="A synthetic area (or its truth/ folder).")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Where to write the report (default: data_dir/reports/).")
    ] = None,
) -> None:
    """Compare the current build with a synthetic area's truth: pairwise and cluster measures, per feed pair."""
    from commonground.linkage.reports import evaluate_build

    data_dir = settings_of(ctx).data_dir
    evaluation = evaluate_build(data_dir=data_dir, truth_dir=truth)
    path = report or data_dir / "reports" / f"evaluation-{evaluation.build_id}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(evaluation.as_text() + "\n", encoding="utf-8")
    path.with_suffix(".json").write_text(evaluation.to_json() + "\n", encoding="utf-8")
    typer.echo(evaluation.as_text())
    out.print(f"Report written to {path} (and {path.with_suffix('.json').name}).", highlight=False)


@app.command("link-report")
@user_errors
def link_report(ctx: typer.Context) -> None:
    """The current build's review band (pairs offered for people to decide) and the model's accuracy against the
    pairs people decided."""
    from commonground.linkage.builds import require_current_build
    from commonground.linkage.labels import label_accuracy

    build = require_current_build(settings_of(ctx).data_dir)
    band = build.info.get("review_band")
    out.print(f"Build {build.build_id}.", highlight=False)
    if band is None:
        out.print("This build was written before the review band: link again to see it.")
        return
    out.print(
        f"Review band: match probability from {band['lower_match_probability']:.4f} "
        f"({band['lower_match_weight']:+.1f}) up to the threshold "
        f"{build.info['threshold_match_probability']:.5f} ({build.info['threshold_match_weight']:+.1f}); "
        f"{band['candidates']:,} pairs of records offered (`commonground hub sync` puts them on /link-reviews).",
        highlight=False,
        soft_wrap=True,
    )
    accuracy = label_accuracy(build)
    if accuracy is None or accuracy.decided == 0:
        out.print("No pair has been decided yet (`commonground hub export-link-reviews`, then link again).")
        return
    out.print("The model against people's decisions (the labels are not a sample of all pairs: docs/linkage.md):")
    typer.echo(accuracy.as_text())


@app.command()
@user_errors
def match(
    ctx: typer.Context,
    record_id: Annotated[
        str | None, typer.Argument(help="A record already in the build, FEED:RECORD_ID, matched against the others.")
    ] = None,
    record: Annotated[
        str | None,
        typer.Option(
            "--record",
            help="A new record as a JSON object of standardised fields (given_name_key, family_name_key, "
            "date_of_birth, sex, postcode, address, nhs_number, uprn), or @FILE holding one.",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many persons to show, best first.")] = 5,
    show_values: Annotated[
        bool, typer.Option("--show-values", help="Also print the values compared (personal data).")
    ] = False,
) -> None:
    """Match one record against the current build: the persons it most likely belongs to, each explained."""
    import json

    from commonground.errors import UserError
    from commonground.linkage.realtime import match_record

    if (record_id is None) == (record is None):
        raise UserError("give either FEED:RECORD_ID or --record JSON (not both)")
    query: str | dict[str, object]
    if record is not None:
        text = Path(record[1:]).read_text(encoding="utf-8") if record.startswith("@") else record
        try:
            query = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"--record is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(query, dict):
            raise UserError("--record must be one JSON object of field names and values")
    else:
        assert record_id is not None
        query = record_id
    result = match_record(data_dir=settings_of(ctx).data_dir, record=query, top=top)
    typer.echo(result.as_text(show_values=show_values))
