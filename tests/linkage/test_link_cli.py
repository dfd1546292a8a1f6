"""The linkage commands through the CLI: link, export, explain-link, evaluate, and their errors."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from commonground.cli import app
from commonground.linkage import builds
from conftest import BuiltArea

runner = CliRunner()


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def _some_records(data_dir: Path) -> tuple[str, str, str]:
    """Two records of one person (directly linked) and a record of somebody else."""
    build = builds.current_build(data_dir)
    assert build is not None
    with build.connect() as con:
        a, b, person = con.execute(
            "SELECT unique_id_l, unique_id_r, person_id FROM links ORDER BY unique_id_l LIMIT 1"
        ).fetchall()[0]
        other = con.execute(
            "SELECT feed || ':' || record_id FROM person_records WHERE person_id <> ? ORDER BY feed, record_id LIMIT 1",
            [person],
        ).fetchall()[0][0]
    return a, b, other


def test_link_prints_the_build(data_copy: Path) -> None:
    code, output = _run(data_copy, "link")
    assert code == 0, output
    build_id = builds.current_build_id(data_copy)
    assert build_id is not None and build_id in output
    for word in ("records", "persons", "links", "seconds"):
        assert word in output


def test_exports(built_area: BuiltArea, tmp_path: Path) -> None:
    persons, households = tmp_path / "persons.csv", tmp_path / "households.csv"
    code, output = _run(built_area.data_dir, "export", "persons", "--out", str(persons))
    assert code == 0, output
    with persons.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["feed", "record_id", "person_id"]
    build = builds.current_build(built_area.data_dir)
    assert build is not None
    assert len(rows) - 1 == build.info["row_counts"]["person_records"]
    assert all(r[2].startswith("P") and len(r[2]) == 11 for r in rows[1:])
    code, output = _run(built_area.data_dir, "export", "households", "--out", str(households))
    assert code == 0, output
    with households.open() as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["person_id", "household_id", "start", "end"]
        hh = list(reader)
    assert len(hh) == build.info["row_counts"]["households"]
    assert any(r["end"] == "" for r in hh) and all(r["start"] for r in hh)


def test_explain_link_in_words_without_values(built_area: BuiltArea) -> None:
    a, b, other = _some_records(built_area.data_dir)
    code, output = _run(built_area.data_dir, "explain-link", a, b)
    assert code == 0, output
    assert "the same person" in output and "directly linked" in output
    for title in ("given name", "family name", "date of birth", "address", "NHS number"):
        assert f"  {title}: " in output
    assert "[" not in output  # no values without --show-values
    code, shown = _run(built_area.data_dir, "explain-link", a, other, "--show-values")
    assert code == 0, shown
    assert "different people" in shown and "given_name_key" in shown


def test_evaluate_writes_a_report(built_area: BuiltArea, tmp_path: Path) -> None:
    report = tmp_path / "eval.txt"
    code, output = _run(built_area.data_dir, "evaluate", "--truth", str(built_area.area), "--report", str(report))
    assert code == 0, output
    assert "precision" in output and "per feed pair" in output
    assert report.exists() and report.with_suffix(".json").exists()


def test_friendly_errors(built_area: BuiltArea, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    code, output = _run(empty, "link")
    assert code == 2 and "nothing has been ingested" in output and "Traceback" not in output
    code, output = _run(empty, "export", "persons", "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "no build yet" in output
    code, output = _run(empty, "explain-link", "a:1", "b:2")
    assert code == 2 and "no build yet" in output
    a, _, _ = _some_records(built_area.data_dir)
    code, output = _run(built_area.data_dir, "explain-link", a, "ed_attendances:NO-SUCH-RECORD")
    assert code == 2 and "no person-level record ed_attendances:NO-SUCH-RECORD" in output
    code, output = _run(built_area.data_dir, "explain-link", "nocolon", a)
    assert code == 2 and "FEED:RECORD_ID" in output
    code, output = _run(built_area.data_dir, "evaluate", "--truth", str(tmp_path))
    assert code == 2 and "records.csv" in output
    ingested_only = tmp_path / "ingested"
    shutil.copytree(built_area.data_dir, ingested_only)
    shutil.rmtree(builds.builds_dir(ingested_only))
    code, output = _run(ingested_only, "evaluate", "--truth", str(built_area.area))
    assert code == 2 and "no build yet" in output


def test_the_build_records_the_blocking_rules_it_used(built_area: BuiltArea) -> None:
    build = builds.current_build(built_area.data_dir)
    assert build is not None
    rules = build.info["blocking_rules"]
    assert "date_of_birth equal" in rules  # a small area: the small-area rules apply too
    assert rules[0] == "nhs_number equal"
