"""The short form of the fault suite (#18): the functions of ``benchmarks/faults.py``, with fewer trials. The area
(2,000 synthetic people, every stage's starting state) is made once per test session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import faults


def unavailable(reason: str) -> None:
    """What the suite needs is missing here: skipped on a developer's machine, a failure in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"needed in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fault_area(tmp_path_factory: pytest.TempPathFactory) -> Iterator[faults.Area]:
    area = faults.prepare_area(tmp_path_factory.mktemp("faults"), people=2000)
    yield area
    area.close()  # the PostgreSQL databases of the hub sync trials
