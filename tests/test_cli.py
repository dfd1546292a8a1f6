"""The command line as a person uses it: help, version, contracts, and short errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from commonground import __version__
from commonground.cli import app
from commonground.settings import load_settings

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("contracts", "synth", "ingest", "ingest-report", "quarantine", "demo"):
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"commonground {__version__}"


def test_contracts_lists_the_feeds_and_one_feeds_columns() -> None:
    result = runner.invoke(app, ["contracts"])
    assert result.exit_code == 0
    assert "police_incident_persons" in result.output
    result = runner.invoke(app, ["contracts", "missing_episodes"])
    assert result.exit_code == 0
    assert "risk_level" in result.output


def test_unknown_feed_is_a_short_error_without_a_traceback() -> None:
    result = runner.invoke(app, ["contracts", "prison_visits"])
    assert result.exit_code == 2
    assert "no feed called 'prison_visits'" in result.output
    assert "Traceback" not in result.output


def test_ingest_of_a_missing_folder_is_a_short_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "ingest", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "is not a folder" in result.output
    assert "Traceback" not in result.output


def test_data_dir_from_option_beats_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMMONGROUND_DATA_DIR", str(tmp_path / "from-env"))
    assert load_settings().data_dir == tmp_path / "from-env"
    assert load_settings(data_dir=tmp_path / "from-option").data_dir == tmp_path / "from-option"
    monkeypatch.delenv("COMMONGROUND_DATA_DIR")
    assert load_settings().data_dir == Path("commonground-data")


def test_a_busy_store_is_a_short_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = tmp_path / "analytical" / "ingest.duckdb"
    store.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(store)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "ingest-report"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "in use by another commonground command" in result.output
    assert "Traceback" not in result.output
