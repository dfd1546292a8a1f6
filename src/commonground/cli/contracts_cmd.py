"""``commonground contracts``: the feeds partners send, and what each must hold."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from commonground.cli.app import app, out, user_errors
from commonground.errors import UserError


@app.command()
@user_errors
def contracts(
    feed: Annotated[str | None, typer.Argument(help="Show this feed's columns.", show_default=False)] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/contracts.md.")] = False,
) -> None:
    """List the partner feeds and their columns (the data contracts)."""
    from commonground.contracts import FEEDS
    from commonground.contracts.doc import render_markdown

    if markdown:
        typer.echo(render_markdown(), nl=False)
        return
    if feed is None:
        table = Table("feed", "from", "person level", "columns", title="Feeds")
        for contract in FEEDS.values():
            table.add_row(
                contract.name, contract.source, "yes" if contract.person_level else "no", str(len(contract.columns))
            )
        out.print(table)
        return
    if feed not in FEEDS:
        raise UserError(f"no feed called {feed!r}; the feeds are: {', '.join(FEEDS)}")
    contract = FEEDS[feed]
    table = Table("column", "type", "required", "value needed", "meaning", title=f"{contract.name}: {contract.title}")
    for column in contract.columns:
        table.add_row(
            column.name,
            column.type.value,
            "yes" if column.required else "no",
            "expected" if column.unknown_allowed else "no" if column.nullable else "yes",
            column.description,
        )
    out.print(table)
