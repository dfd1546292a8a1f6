"""Render the command-line reference (``docs/cli.md``) from the Typer app itself.

Regenerate with ``.venv/bin/python -m commonground.cli.reference > docs/cli.md``; a test fails when
the page and the commands disagree, so every command and option stays documented.
"""

from __future__ import annotations

from typing import Any

import typer

from commonground.cli import app


def _param_line(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"- `{param.name.upper()}` (argument){': ' + _help(param) if _help(param) else ''}"
    names = ", ".join(f"`{opt}`" for opt in param.opts)
    default = param.default if not callable(param.default) else None
    shown = f" (default: `{default}`)" if default not in (None, False, "", ()) else ""
    return f"- {names}{shown}: {_help(param)}"


def _help(param: Any) -> str:
    return " ".join((getattr(param, "help", None) or "").split())


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    """Every leaf command under ``group``, with its full name. (Typer vendors click: duck typing.)"""
    found: list[tuple[str, Any]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", command))
    return found


def render_markdown() -> str:
    root: Any = typer.main.get_command(app)
    lines = [
        "# Command-line reference",
        "",
        "Generated from the `commonground` command line by `python -m commonground.cli.reference`;",
        "a test fails when this page is stale. Run any command through `./dev` (for example",
        "`./dev ingest-report`) or `.venv/bin/commonground`.",
        "",
        "## Global options",
        "",
        *[_param_line(p) for p in root.params if p.name != "help"],
        "",
    ]
    for name, command in _commands(root, "commonground "):
        lines += [f"## `{name}`", "", " ".join((command.help or "").split()), ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            lines += [*(_param_line(p) for p in params), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    typer.echo(render_markdown(), nl=False)
