"""``commonground retention``: what the partnership's retention schedule says is due, and applying it (#16)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from commonground.cli.app import app, out, settings_of, user_errors
from commonground.cli.hub_cmd import _cli_actor, _store

if TYPE_CHECKING:
    from commonground.cases.retention import RetentionReport

retention_app = typer.Typer(
    help="Retention: remove expired partner batches and old builds, as the schedule says.", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")


def _print(report: RetentionReport) -> None:
    table = Table(title="Retention" + (" applied" if report.applied else ": due now"))
    table.add_column("feed", no_wrap=True)
    table.add_column("kept for", justify="right")
    for heading in ("batches", "records", "quarantined"):
        table.add_column(heading, justify="right")
    table.add_column("period from")
    for f in report.feeds:
        counts = (f.batches, f.records, f.quarantined)
        table.add_row(f.feed, f"{f.years} years", *(f"{n:,}" for n in counts), f.source)
    out.print(table)
    verb = "removed" if report.applied else "due for removal"
    out.print(
        f"{report.batches:,} batches ({report.records:,} records) and {len(report.builds):,} old builds {verb}.",
        soft_wrap=True,
    )


@retention_app.command("show")
@user_errors
def show(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the retention schedule says is due now, feed by feed, with where each period comes from."""
    import datetime as dt

    from commonground.cases.retention import retention_due
    from commonground.contracts.retention import retention_schedule

    report = retention_due(data_dir=settings_of(ctx).data_dir, schedule=retention_schedule(), at=dt.datetime.now())
    typer.echo(json.dumps(report.to_dict(), indent=2)) if as_json else _print(report)


@retention_app.command("apply")
@user_errors
def apply(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Remove the expired batches (each leaves a tombstone of counts) and the builds beyond the newest kept; the
    audit log records that it ran, with counts only."""
    import datetime as dt

    from commonground.cases.retention import apply_retention_schedule
    from commonground.contracts.retention import retention_schedule

    with _store(ctx) as session:
        report = apply_retention_schedule(
            session,
            data_dir=settings_of(ctx).data_dir,
            schedule=retention_schedule(),
            at=dt.datetime.now(),
            by=_cli_actor(),
        )
    typer.echo(json.dumps(report.to_dict(), indent=2)) if as_json else _print(report)
