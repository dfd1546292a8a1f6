"""The Typer application, its global options and the helpers every command shares."""

from __future__ import annotations

import errno
import functools
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from commonground import __version__
from commonground.errors import UserError
from commonground.settings import Settings, load_settings

warnings.filterwarnings("ignore", message="The httpx module is deprecated")  # Authlib's notice, not ours to act on

app = typer.Typer(
    name="commonground",
    help="Police, NHS, social care and schools working together to protect vulnerable people.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def _show_version(value: bool) -> None:
    if value:
        out.print(f"commonground {__version__}")
        raise typer.Exit


@app.callback()
def _global_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (also COMMONGROUND_DATA_DIR). Default: ./commonground-data.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and stop.")
    ] = False,
) -> None:
    ctx.obj = load_settings(data_dir=data_dir)


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # a command invoked without the root callback
        settings = load_settings()
    return settings


_NO_SPACE = re.compile(r'(?:Could not write file "(?P<file>[^"]+)": )?(?:No space left on device|Disk quota exceeded)')


def disk_full(error: BaseException) -> str | None:
    """When ``error``, or an error behind it, is the disk running out of space: the file that could not be written
    (or "a file"); otherwise None. DuckDB and Splink report it in words, wrapped in their own errors."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return str(current.filename or "a file")
        found = _NO_SPACE.search(str(current))
        if found:
            return found.group("file") or "a file"
        current = current.__cause__ or current.__context__
    return None


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a :class:`UserError` as one short line on stderr and exit with status 2; no traceback. A full disk is
    one short line too, naming the file that could not be written, with status 1 (#18: it was a traceback, and
    for a build, pages of Splink's SQL). Every command that writes leaves nothing half-written when it stops
    (ingest is one transaction, a build is published by a rename, the rules output and the person view likewise)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserError as error:
            err.print(f"[bold red]Error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        except Exception as error:
            where = disk_full(error)
            if where is None:
                raise
            command = func.__name__.replace("_", " ")
            err.print(
                f"[bold red]Error:[/] the disk is full: could not write {where}. `{command}` stopped and kept "
                "nothing half-written; free some space and run it again.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=1) from None

    return wrapper
