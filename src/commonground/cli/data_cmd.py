"""Commands that make and load data: ``synth``, ``ingest``, ``ingest-report``, ``quarantine``, ``warnings``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from commonground.cli.app import app, err, out, settings_of, user_errors
from commonground.cli.progress import progress_bars
from commonground.errors import UserError

if TYPE_CHECKING:
    from commonground.synth import SynthSummary


class Noise(StrEnum):
    """The synth's noise profiles (``commonground.synth.noise.NOISE_PROFILES``; a test keeps the two in step)."""

    default = "default"
    harsh = "harsh"


@app.command()
@user_errors
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the feeds and truth/ into.")],
    people: Annotated[int, typer.Option("--people", min=10, help="How many people live in the area.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files, byte for byte.")] = 1,
    noise: Annotated[
        Noise,
        typer.Option(
            "--noise",
            help="How badly the partners record people: default, or harsh (more and combined identity errors, "
            "blank dates of birth, aliases, abbreviated addresses; truth/identity_errors.csv lists them).",
        ),
    ] = Noise.default,
) -> None:
    """Build a synthetic area: every partner feed, with the ground truth in truth/."""
    from commonground.synth import generate

    with progress_bars(err) as on_progress:
        summary = generate(people=people, seed=seed, out=out_dir, on_progress=on_progress, noise=noise.value)
    print_synth_summary(summary)


def print_synth_summary(summary: SynthSummary) -> None:
    table = Table("", "", title="Synthetic area", show_header=False)
    for label, value in summary.table():
        table.add_row(label, value)
    out.print(table)
    out.print(f"Written to {summary.out} in {summary.seconds:.1f} s; the truth is in {summary.out / 'truth'}.")


@app.command()
@user_errors
def ingest(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Folder of feed files (police_incidents.csv, ...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON document.")] = False,
) -> None:
    """Validate and load every feed file in a folder; bad rows go to quarantine, nothing is lost."""
    if not source.is_dir():
        raise UserError(f"{source} is not a folder")
    from commonground.ingest import ingest_directory

    data_dir = settings_of(ctx).data_dir
    with progress_bars(err, enabled=not as_json) as on_progress:
        result = ingest_directory(source=source, data_dir=data_dir, on_progress=on_progress)
    document = json.loads(result.to_json())
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    else:
        print_ingest_summary(document, data_dir=data_dir)
    if any(f["status"] == "refused" for f in document["files"]):
        raise typer.Exit(code=1)


def print_ingest_summary(document: dict[str, Any], *, data_dir: Path) -> None:
    from commonground.ingest.report import versions_note

    table = Table(title="Ingest")
    table.add_column("file", no_wrap=True)
    table.add_column("status")
    for heading in ("read", "accepted", "quarantined", "warnings"):
        table.add_column(heading, justify="right")
    for f in document["files"]:
        status = {"loaded": "[green]loaded[/]", "refused": "[red]refused[/]"}.get(f["status"], f["status"])
        counts = (f["rows_read"], f["rows_accepted"], f["rows_quarantined"], f.get("warnings", 0))
        table.add_row(f["file"], status, *(f"{n:,}" for n in counts))
    out.print(table)
    for f in document["files"]:
        if f["status"] == "refused":
            out.print(f"[red]Refused[/] {f['file']}: {f['error']}", highlight=False)
        elif note := versions_note(f):
            out.print(f"{f['file']}: {note}.", highlight=False)
    out.print(f"Store: {data_dir / 'analytical'}.", soft_wrap=True)
    out.print("See why rows were held back with `commonground quarantine`.")
    if any(f.get("warnings", 0) for f in document["files"]):
        out.print("Rows loaded with a warning (a value blanked, a date of birth not known): `commonground warnings`.")


@app.command("ingest-report")
@user_errors
def ingest_report(ctx: typer.Context) -> None:
    """Everything loaded so far: each file (batch) with rows read, accepted and quarantined, and its warnings."""
    from commonground.ingest import ingest_report as report

    batches = report(data_dir=settings_of(ctx).data_dir)
    if not batches:
        out.print("Nothing has been ingested into this data directory yet.")
        return
    table = Table(title="Ingested batches")
    table.add_column("loaded at", no_wrap=True)
    table.add_column("file", no_wrap=True)
    table.add_column("batch", no_wrap=True)
    for heading in ("read", "accepted", "quarantined", "warnings"):
        table.add_column(heading, justify="right")
    for b in batches:
        counts = (b.rows_read, b.rows_accepted, b.rows_quarantined, b.warnings)
        table.add_row(f"{b.loaded_at:%Y-%m-%d %H:%M}", b.file_name, b.batch_id[:8], *(f"{n:,}" for n in counts))
    out.print(table)


@app.command()
@user_errors
def quarantine(
    ctx: typer.Context,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 50,
) -> None:
    """Rows held back by ingest: file, row, field and reason (never the values)."""
    from commonground.contracts import FEEDS
    from commonground.ingest import quarantine_rows

    if feed is not None and feed not in FEEDS:
        raise UserError(f"no feed called {feed!r}; the feeds are: {', '.join(FEEDS)}")
    rows = quarantine_rows(data_dir=settings_of(ctx).data_dir, feed=feed, limit=limit)
    if not rows:
        out.print("No rows are in quarantine.")
        return
    table = Table(title="Quarantined rows")
    table.add_column("file", no_wrap=True)
    table.add_column("row", justify="right")
    table.add_column("field")
    table.add_column("reason")
    for r in rows:
        table.add_row(r.file, str(r.row_number), r.field or "(whole row)", r.reason)
    out.print(table)


@app.command()
@user_errors
def warnings(
    ctx: typer.Context,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed.")] = None,
    field: Annotated[str | None, typer.Option("--field", help="Only this field (date_of_birth, ...).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many warnings.")] = 50,
) -> None:
    """Rows loaded with a warning: file, row, field and reason (never the values); a bad optional value blanked, a
    date of birth the partner did not have."""
    from commonground.contracts import FEEDS
    from commonground.ingest import warning_rows

    if feed is not None and feed not in FEEDS:
        raise UserError(f"no feed called {feed!r}; the feeds are: {', '.join(FEEDS)}")
    rows = warning_rows(data_dir=settings_of(ctx).data_dir, feed=feed, field=field, limit=limit)
    if not rows:
        out.print("No loaded row has a warning.")
        return
    table = Table(title="Rows loaded with a warning")
    table.add_column("file", no_wrap=True)
    table.add_column("row", justify="right")
    table.add_column("field")
    table.add_column("warning")
    for r in rows:
        table.add_row(r.file, str(r.row_number), r.field, r.reason)
    out.print(table)
