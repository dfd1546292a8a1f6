"""Fixtures for the ingest tests (helpers live in ingest_helpers.py, the row generator in rowgen.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ingest_helpers and rowgen, by their own names

from ingest_helpers import Area


@pytest.fixture
def area(tmp_path: Path) -> Area:
    return Area(tmp_path)
