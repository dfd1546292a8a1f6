"""The README's demo command, run as a newcomer runs it (at a small size)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dev_demo_builds_and_loads_a_synthetic_area(tmp_path: Path) -> None:
    env = {**os.environ, "COMMONGROUND_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "160"}
    result = subprocess.run(
        [str(ROOT / "dev"), "demo", "--people", "400", "--seed", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Synthetic area" in result.stdout
    assert "ed_attendances.csv" in result.stdout
    assert "refused" not in result.stdout
    assert (tmp_path / "data" / "analytical" / "ingest.duckdb").is_file()
    assert "published" in result.stdout
    assert (tmp_path / "data" / "analytical" / "builds" / "CURRENT").is_file()
    # Running it again reuses the area and loads nothing twice.
    again = subprocess.run(
        [str(ROOT / "dev"), "demo", "--people", "400", "--seed", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Reusing the synthetic area" in again.stdout
    assert "already_loaded" in again.stdout
    assert "stays current" in again.stdout
