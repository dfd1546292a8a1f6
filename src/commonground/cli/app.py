"""The Typer application, its global options and the helpers every command shares."""

from __future__ import annotations

import functools
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


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a :class:`UserError` as one short line on stderr and exit with status 2; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserError as error:
            err.print(f"[bold red]Error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper
