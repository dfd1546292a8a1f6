"""The soak's short form (#18): the fault suite's area served (``commonground serve``, a process of its own) on
SQLite and on PostgreSQL (a database of its own, dropped afterwards), five clients for 20 s doing the soak's mix of
reads and writes (``benchmarks/soak.py`` runs 50 and 20 for ten minutes). No request may fail (no 5xx, no
unexpected 4xx, no dropped connection), every note acknowledged is stored once (a retry with the same idempotency
key adds nothing), and the audit chain verifies afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

import faults
import soak
from conftest import unavailable

PASSWORD = "fault trials password 1"
"""The demonstration partnership's password in the fault suite's area (``faults.seed_partnership_into``)."""


@contextlib.contextmanager
def hub_store(store: str, data_dir: Path) -> Iterator[str | None]:
    """The area's hub synced on ``store``: the SQLite file the area holds, or a new PostgreSQL database."""
    if store == "sqlite":
        faults.run_cli(data_dir, "hub", "sync")
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(soak.postgres_database())
        except OperationalError as error:
            unavailable(f"PostgreSQL unreachable: {str(error).splitlines()[0]}")
        env = soak.store_env(url)
        faults.run_cli(data_dir, "db", "upgrade", env=env)
        faults.seed_partnership_into(data_dir, url)
        faults.run_cli(data_dir, "hub", "sync", env=env)
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_clients_reading_and_writing_see_no_error_and_the_audit_verifies(
    fault_area: faults.Area, tmp_path: Path, store: str
) -> None:
    data_dir = faults.copy_state(fault_area.states["sync"], tmp_path / "data")
    with hub_store(store, data_dir) as url:
        result = soak.soak(data_dir, url, PASSWORD, clients=5, seconds=20, think=0.3)
    assert soak.problems(result) == []
    assert result.error_count == 0, result.errors
    assert result.audit_verified, result.audit_said
    for kind in ("queue page", "person page", "person API", "note", "triage contact"):
        assert result.kinds[kind] > 0, f"no {kind} in the soak: it proved nothing about it"
    assert result.notes_acknowledged > 0 and result.notes_stored == result.notes_acknowledged
    assert result.notes_stored_twice == 0
    assert len(result.windows) == 2 and all(w.server_rss_mb > 0 for w in result.windows)
    if store == "postgresql":
        assert all(w.postgres_backends_mb for w in result.windows)
