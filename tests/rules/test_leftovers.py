"""A rules run killed while writing its output (``kill -9`` skips its clean-up) leaves a temporary file beside the
build's ``rules.duckdb``, never read. The next run on the build removes it (#18): only that kind of file, and only
one written before the run started by a process that has ended, so that two runs at once keep their own."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from commonground.rules import run_rules

from .test_outputs import AS_OF, small_area

CLEAN = ["build.duckdb", "build.json", "rules.duckdb"]


def ended_pid() -> int:
    """The id of a process that has just ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def leave(build: Path, name: str, *, age_seconds: float = 60, folder: bool = False) -> Path:
    """A leftover as a killed run leaves it, last written ``age_seconds`` ago (negative: after now)."""
    path = build / name
    if folder:
        path.mkdir()
        (path / "spill.block").write_bytes(b"\0" * 64)
    else:
        path.write_bytes(b"\0" * 64)
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path


def test_the_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    build = tmp_path / "build"
    small_area().write(build)
    pid = ended_pid()
    leave(build, f".rules.duckdb.{pid}-0f3a.tmp")
    leave(build, f".rules.duckdb.{pid}-0f3a.tmp.wal")
    leave(build, f".rules.duckdb.{pid}-0f3a.tmp.tmp", folder=True)  # DuckDB's spill folder
    leave(build, ".rules.duckdb.5b1e9c.tmp")  # named before the writer's id was in the name: its age decides
    run_rules(build_dir=build, as_of=AS_OF)
    assert sorted(p.name for p in build.iterdir()) == CLEAN


def test_a_run_at_the_same_time_keeps_its_own_and_other_files_stay(tmp_path: Path) -> None:
    build = tmp_path / "build"
    small_area().write(build)
    kept = [
        leave(build, f".rules.duckdb.{os.getpid()}-77aa.tmp"),  # its writer is still running (this process)
        leave(build, f".rules.duckdb.{ended_pid()}-88bb.tmp", age_seconds=-60),  # written after this run began
        leave(build, ".other.duckdb.1-99cc.tmp"),  # not a rules output
        leave(build, "notes.tmp"),
    ]
    run_rules(build_dir=build, as_of=AS_OF)
    assert sorted(p.name for p in build.iterdir()) == sorted(CLEAN + [p.name for p in kept])
