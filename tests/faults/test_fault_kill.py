"""kill -9 at random points of ingest, link, the rules, hub sync (on SQLite and on PostgreSQL) and the publishing
of a build: three kills a stage, each on what the one before left, each checked (the last complete build in place,
every store as before the run or as a clean run leaves it, never between; the audit chain whole), then one rerun to
the end, which must equal a clean run with the same person ids (work items not duplicated) and leave nothing a kill
left behind. ``benchmarks/faults.py`` runs 20 a stage, each with its own rerun."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

import faults
from conftest import unavailable

TRIALS = 3


@pytest.mark.slow
@pytest.mark.parametrize("stage", [*faults.CI_STAGES, pytest.param("sync-pg", marks=pytest.mark.postgres)])
def test_a_killed_stage_leaves_nothing_half_done(fault_area: faults.Area, tmp_path: Path, stage: str) -> None:
    rng = random.Random(f"faults-{stage}")
    try:
        ref, trials = faults.kill_trials(fault_area, stage, trials=TRIALS, rng=rng, work=tmp_path, rerun_each=False)
    except OperationalError as error:  # no PostgreSQL server to make the trials' databases on
        unavailable(f"PostgreSQL unreachable: {str(error).splitlines()[0]}")
    assert len(trials) == TRIALS
    assert [t.problems for t in trials] == [[]] * TRIALS, trials
    assert all(t.after_kill != "between" for t in trials)
    assert ref.after["build"]["people"], "the clean run built nobody: the trial would prove nothing"
    assert trials[-1].rerun_seconds is not None
    if stage.startswith("sync"):
        items = ref.after["hub"]["work_items"]
        assert items > ref.before["hub"]["work_items"], "the sync made no work item: the trial proved nothing"
