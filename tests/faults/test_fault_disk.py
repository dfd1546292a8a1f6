"""The disk filling during ingest and during a build, on a tmpfs the test mounts (it needs root): the command
stops with one line naming the file it could not write (no traceback), the ingest store and the published build
are as they were, and once there is space again a rerun equals a clean run."""

from __future__ import annotations

import errno

import pytest

import faults
from commonground.cli.app import disk_full
from conftest import unavailable


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "free_mb"), [("ingest", 0.25), ("link", 1.0)])
def test_a_full_disk_is_a_clear_error_and_corrupts_nothing(
    fault_area: faults.Area, tmp_path_factory: pytest.TempPathFactory, stage: str, free_mb: float
) -> None:
    why = faults.can_mount()
    if why is not None:
        unavailable(why)
    ref = faults.clean_run(fault_area, stage, tmp_path_factory.mktemp("clean"))
    trial = faults.disk_trial(fault_area, stage, free_mb, ref)
    assert trial.exit_code == 1, trial
    assert not trial.traceback
    assert trial.message.startswith("Error: the disk is full: could not write DISK/data/analytical/"), trial.message
    assert trial.state == "as before"
    assert trial.problems == []


def _wrapped(outer: str, inner: BaseException) -> BaseException:
    try:
        raise inner
    except BaseException as cause:
        try:
            raise RuntimeError(outer) from cause
        except RuntimeError as error:
            return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/analytical/ingest.duckdb"),
            "/data/analytical/ingest.duckdb",
        ),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "a file"),
        (
            RuntimeError('Failed to commit: Could not write file "/d/b.duckdb.wal": No space left on device'),
            "/d/b.duckdb.wal",
        ),
        (_wrapped("Error executing the following sql ... SELECT 1", OSError(errno.ENOSPC, "full", "/d/x")), "/d/x"),
        (OSError(errno.ENOENT, "No such file or directory", "/d/x"), None),
        (RuntimeError("a column is missing"), None),
    ],
)
def test_a_full_disk_is_recognised_behind_the_errors_that_wrap_it(error: BaseException, expected: str | None) -> None:
    assert disk_full(error) == expected
