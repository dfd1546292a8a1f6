"""``commonground sar``: a subject access export for the data protection officer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commonground.cli.app import app, out, settings_of, user_errors
from commonground.cli.hub_cmd import _cli_actor, _store
from commonground.errors import UserError


@app.command("sar")
@user_errors
def sar(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="The person's pseudonymous id, as the hub shows it.")],
    out_dir: Annotated[Path, typer.Option("--out", help="A new (or empty) folder to write the export into.")],
) -> None:
    """Export everything held about a person, and every access to it (a subject access request); audited."""
    import re

    from commonground.cases.subject_access import export_subject_access
    from commonground.web.views import PersonViews

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", person_id):
        raise UserError("a person id is 1-64 letters, digits, '.', '_' or '-'")
    view = PersonViews(settings_of(ctx).data_dir).current()
    with _store(ctx) as session:
        files = export_subject_access(session, view, person_id, out_dir, _cli_actor())
    out.print(f"Wrote {len(files)} files for {person_id} to {out_dir} (start with README.txt).", soft_wrap=True)
    if view is None:
        out.print("No linked build is published: the export holds only what the operational store keeps.")
