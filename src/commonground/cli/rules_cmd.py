"""Commands of the rules stage: ``flag``, ``explain``, ``export flags``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commonground.cli.app import app, out, settings_of, user_errors
from commonground.cli.link_cmd import export_app
from commonground.errors import UserError

if TYPE_CHECKING:
    from commonground.linkage.builds import Build
    from commonground.rules.packs import RuleSet
    from commonground.rules.run import RulesResult


@app.command()
@user_errors
def flag(
    ctx: typer.Context,
    engine: Annotated[str, typer.Option("--engine", help="Analytical engine: duckdb or spark.")] = "duckdb",
) -> None:
    """Run the ACE, adult and notice rule packs on the current build: indicators and routed flags."""
    from commonground.linkage.builds import require_current_build
    from commonground.rules import run_rules

    build = require_current_build(settings_of(ctx).data_dir)
    print_rules_summary(run_rules(build_dir=build.path, engine=engine))


def print_rules_summary(result: RulesResult) -> None:
    out.print(
        f"Rules on build {result.build_dir.name} ({result.engine}, as of {result.as_of:%Y-%m-%d %H:%M}): "
        f"{result.indicators:,} indicators, {result.flags:,} flags, written to {result.output}.",
        highlight=False,
        soft_wrap=True,
    )
    for rule_id, persons in sorted(result.persons_by_rule.items()):
        out.print(f"  {rule_id:<40} {persons:>8,} people", highlight=False)
    for line in result.age_unknown_lines():
        out.print(line, highlight=False, soft_wrap=True)


def _build_with_rules(ctx: typer.Context) -> Build:
    """The current build, once the rules have run on it; a short error otherwise."""
    from commonground.linkage.builds import require_current_build

    build = require_current_build(settings_of(ctx).data_dir)
    if not (build.path / "rules.duckdb").exists():
        raise UserError("no rules have run on the current build: run `commonground flag` first")
    return build


@app.command()
@user_errors
def explain(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="A person id of the current build (P0000000123).")],
) -> None:
    """Every indicator and flag of one person, with its rule in words and the records behind it."""
    from commonground.rules import explain_person

    build = _build_with_rules(ctx)
    with build.connect() as con:
        known = con.execute("SELECT count(*) FROM persons WHERE person_id = ?", [person_id]).fetchall()[0][0]
    if not known:
        raise UserError(f"no person {person_id!r} in build {build.build_id}")
    typer.echo(explain_person(build_dir=build.path, person_id=person_id).to_text())


@export_app.command("flags")
@user_errors
def export_flags(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
) -> None:
    """One row per indicator and per flag: person_id, rule_id, kind, first_evidence, latest_evidence, route_to,
    due_by."""
    from commonground.rules import export_flags as export

    build = _build_with_rules(ctx)
    rows = export(build_dir=build.path, out=out_file)
    out.print(f"Wrote {rows:,} indicators and flags to {out_file}.", highlight=False)


def review_markdown(rules: RuleSet, *, today: dt.date) -> str:
    """The report's section on who answers for each rule and when they review it next (#16)."""
    due = {r.id for r in rules.due_for_review(today)}
    lines = [
        "## Owners and reviews",
        "",
        f"{len(due)} rule{'s are' if len(due) != 1 else ' is'} past {'their' if len(due) != 1 else 'its'} review "
        f"date on {today:%d %B %Y}."
        if due
        else f"No rule is past its review date on {today:%d %B %Y}.",
        "",
        "| rule | owner | review by | rests on |",
        "|---|---|---|---|",
    ]
    for rule in rules.rules:
        when = f"**{rule.review_by:%d %b %Y} (past)**" if rule.id in due else f"{rule.review_by:%d %b %Y}"
        lines.append(f"| {rule.id} | {rule.owner} | {when} | {rule.citation} |")
    return "\n".join(lines)


@app.command("rules-report")
@user_errors
def rules_report(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="Markdown file to write the report to.")],
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="A synthetic area's truth/ folder: adds sensitivity and PPV per ACE."),
    ] = None,
) -> None:
    """How well the rules work and on whom they fall: sensitivity and PPV against a synthetic truth (with and
    without linkage), and flag rates by sex, age band and deprivation decile."""
    from commonground.rules import default_rules, fairness_report, sensitivity_report

    build = _build_with_rules(ctx)
    if truth is not None and not (truth / "exposures.csv").is_file():
        raise UserError(f"{truth} holds no exposures.csv: give a synthetic area's truth/ folder")
    parts = [f"# Rules report for build {build.build_id}", review_markdown(default_rules(), today=dt.date.today())]
    if truth is not None:
        parts.append(sensitivity_report(build.path, truth).to_markdown())
    parts.append(fairness_report(build.path).to_markdown())
    out_file.write_text("\n\n".join(parts).rstrip("\n") + "\n", encoding="utf-8")
    out.print(f"Wrote the rules report to {out_file}.", highlight=False)
