"""PostgreSQL stopped (``-m immediate``) and started again while clients read the queue and write notes through a
served hub (its own process, on a private cluster made with ``initdb`` on a port of its own, never the shared
server): answers are 200, 303 or 503 (never 500, never a dropped connection), the first write after the restart
is served without restarting the service, and every note acknowledged with a 303 is in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

import faults
from conftest import unavailable


@pytest.mark.slow  # not marked postgres: it makes its own cluster and never touches the shared server
def test_the_service_recovers_and_loses_no_acknowledged_write(fault_area: faults.Area, tmp_path: Path) -> None:
    if faults.postgres_bin() is None:
        unavailable("no initdb on this machine")
    data_dir = faults.copy_state(fault_area.states["sync"], tmp_path / "data")
    figures = faults.postgres_trials(data_dir, cycles=1, down_seconds=2.0, up_seconds=3.0)
    assert figures.problems == []
    assert figures.statuses["503"] > 0, "PostgreSQL was down and no request noticed: the trial proved nothing"
    assert figures.writes_acknowledged > 0 and figures.writes_lost == 0
    assert figures.served_after_each_restart == [True]
