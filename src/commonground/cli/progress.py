"""Rich progress bars driven by the ``on_progress(stage, done, total)`` callbacks of long work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class OnProgress(Protocol):
    def __call__(self, stage: str, done: int, total: int | None) -> None: ...


@contextmanager
def progress_bars(console: Console, *, enabled: bool = True) -> Iterator[OnProgress]:
    """Yield a callback that draws one bar per stage; bars finish when their stage is done."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield on_progress
