"""Blank date of birth end to end (#15): literal rows in a small synthetic area, through ingest, linkage and rules.

- Ottoline's custody record and missing episode have no date of birth; her emergency attendance has one (she is
  16). Both load with a warning, link to the attendance, and the rules use its date of birth: missing and in
  custody within 90 days, a child, so ``child.exploitation_risk`` fires.
- Peregrine has the same records and no date of birth anywhere: age unknown, counted in the report, no child flag.
- A school-roll row with a blank date of birth is quarantined, named by file, row and field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from commonground.cli import app
from commonground.ingest import IngestResult, ingest_directory, quarantine_rows, warning_rows
from commonground.rules import RulesResult, explain_person, fairness_report, run_rules

AS_OF = datetime(2026, 10, 1, 9, 0)
PLACE = {"address": "7 Quenby Row", "sex": "F"}


def _literal_rows(postcode: str) -> dict[str, list[dict[str, str]]]:
    ottoline = {"given_name": "Ottoline", "family_name": "Brackenbury", "postcode": postcode, **PLACE}
    peregrine = {
        "given_name": "Peregrine",
        "family_name": "Ashdown",
        "postcode": postcode,
        "address": "9 Quenby Row",
        "sex": "M",
    }
    return {
        "ed_attendances": [
            {"record_id": "ED-LIT-1", "arrived_at": "2026-06-02T23:10", "injury_intent": "none",
             "date_of_birth": "2010-04-12", **ottoline},
        ],
        "custody_records": [
            {"record_id": "CUS-LIT-1", "arrested_at": "2026-09-20T01:30", "offence_group": "theft",
             "date_of_birth": "", **ottoline},
            {"record_id": "CUS-LIT-2", "arrested_at": "2026-09-20T02:30", "offence_group": "theft",
             "date_of_birth": "", **peregrine},
        ],
        "missing_episodes": [
            {"record_id": "MIS-LIT-1", "reported_at": "2026-09-10T20:00", "risk_level": "medium",
             "date_of_birth": "", **ottoline},
            {"record_id": "MIS-LIT-2", "reported_at": "2026-09-10T21:00", "risk_level": "medium",
             "date_of_birth": "", **peregrine},
        ],
        "school_roll": [
            {"record_id": "SCH-LIT-1", "school_urn": "", "date_of_birth": "", **ottoline},
        ],
    }  # fmt: skip


def _append(path: Path, rows: list[dict[str, str]], *, school_urn: str | None = None) -> list[int]:
    """Append rows to a synthetic feed file; their row numbers (the line each starts on, the header being 1)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        lines = 1 + sum(1 for _ in reader)
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="", lineterminator="\n")
        for row in rows:
            writer.writerow({**row, **({"school_urn": school_urn} if school_urn and "school_urn" in row else {})})
    return list(range(lines + 1, lines + 1 + len(rows)))


@dataclass
class Chain:
    data_dir: Path
    build_dir: Path
    ingest: IngestResult
    rows: dict[str, list[int]]
    rules: RulesResult


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    from commonground.linkage.builds import builds_dir, current_build_id
    from commonground.linkage.pipeline import build_from_store
    from commonground.linkage.spec import default_spec
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("age-unknown-chain")
    area = root / "area"
    generate(people=1500, seed=5, out=area, on_progress=None)
    with (area / "school_roll.csv").open(encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))
    rows = {
        feed: _append(area / f"{feed}.csv", literal, school_urn=first["school_urn"])
        for feed, literal in _literal_rows(first["postcode"]).items()
    }
    data_dir = root / "data"
    result = ingest_directory(source=area, data_dir=data_dir, on_progress=None)
    spec = default_spec()
    spec = spec.model_copy(update={"training": spec.training.model_copy(update={"u_max_pairs": 2e5})})
    build_from_store(data_dir=data_dir, train=True, spec=spec, on_progress=None)
    build_id = current_build_id(data_dir)
    assert build_id is not None
    build_dir = builds_dir(data_dir) / build_id
    return Chain(data_dir, build_dir, result, rows, run_rules(build_dir=build_dir, as_of=AS_OF))


def _person_of(chain: Chain, feed: str, record_id: str) -> tuple[str, date | None]:
    with duckdb.connect(str(chain.build_dir / "build.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT CAST(p.person_id AS VARCHAR), p.date_of_birth FROM person_records AS r "
            "JOIN persons AS p ON p.person_id = r.person_id WHERE r.feed = ? AND r.record_id = ?",
            [feed, record_id],
        ).fetchone()
    assert row is not None, (feed, record_id)
    return row[0], row[1]


def _fired(chain: Chain, person_id: str) -> set[str]:
    with duckdb.connect(str(chain.build_dir / "rules.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT rule_id FROM indicators WHERE person_id = ? UNION SELECT rule_id FROM flags WHERE person_id = ?",
            [person_id, person_id],
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.slow
def test_blank_dates_of_birth_load_with_a_warning_naming_file_row_and_field(chain: Chain) -> None:
    totals = chain.ingest.totals()
    assert totals["rows_read"] == totals["rows_accepted"] + totals["rows_quarantined"]
    for feed in ("custody_records", "missing_episodes"):
        warned = {
            (w.file, w.row_number)
            for w in warning_rows(data_dir=chain.data_dir, feed=feed, field="date_of_birth", limit=10_000)
        }
        assert {(f"{feed}.csv", n) for n in chain.rows[feed]} <= warned
    held = [q for q in quarantine_rows(data_dir=chain.data_dir, feed="school_roll", limit=10_000)]
    (row,) = chain.rows["school_roll"]
    assert [(q.file, q.field, q.reason) for q in held if q.row_number == row] == [
        ("school_roll.csv", "date_of_birth", "blank, but the column requires a value")
    ]


@pytest.mark.slow
def test_a_record_without_date_of_birth_links_and_the_rules_use_the_date_of_birth_of_another(chain: Chain) -> None:
    person, born = _person_of(chain, "ed_attendances", "ED-LIT-1")
    assert _person_of(chain, "custody_records", "CUS-LIT-1") == (person, date(2010, 4, 12))
    assert _person_of(chain, "missing_episodes", "MIS-LIT-1") == (person, born)
    assert "child.exploitation_risk" in _fired(chain, person)  # a child of 16, from the attendance's date of birth
    assert "Age unknown" not in explain_person(build_dir=chain.build_dir, person_id=person).to_text()


@pytest.mark.slow
def test_a_person_with_no_date_of_birth_anywhere_is_age_unknown_and_no_child(chain: Chain) -> None:
    person, born = _person_of(chain, "custody_records", "CUS-LIT-2")
    assert _person_of(chain, "missing_episodes", "MIS-LIT-2") == (person, None) and born is None
    assert not {r for r in _fired(chain, person) if r.startswith(("child.", "ace.", "notice."))}
    with duckdb.connect(str(chain.build_dir / "rules.duckdb"), read_only=True) as con:
        feeds = con.execute("SELECT feeds FROM age_unknown WHERE person_id = ?", [person]).fetchall()
    assert feeds == [("custody_records,missing_episodes",)]
    assert chain.rules.age_unknown >= 1
    assert chain.rules.age_unknown_by_feed["custody_records"] >= 1
    text = explain_person(build_dir=chain.build_dir, person_id=person).to_text()
    assert "Age unknown: no record gives a date of birth, so the rules count this person as an adult." in text
    report = fairness_report(chain.build_dir)
    assert report.age_unknown == chain.rules.age_unknown
    assert "no date of birth on any record. The rules count them as adults" in report.to_markdown()


@pytest.mark.slow
def test_the_command_line_reports_age_unknown_in_words(chain: Chain, tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(chain.data_dir)]
    flagged = runner.invoke(app, [*data, "flag"], env={"COLUMNS": "200"})
    assert flagged.exit_code == 0, flagged.output
    assert "no date of birth on any record. The rules count them as adults, never as children" in flagged.output
    assert "with a record in custody_records:" in flagged.output
    out = tmp_path / "report.md"
    reported = runner.invoke(app, [*data, "rules-report", "--out", str(out)], env={"COLUMNS": "200"})
    assert reported.exit_code == 0, reported.output
    text = out.read_text(encoding="utf-8")
    assert "## Age unknown" in text and "| custody_records |" in text
    warned = runner.invoke(app, [*data, "warnings", "--field", "date_of_birth"], env={"COLUMNS": "200"})
    assert "custody_records.csv" in warned.output and "blank: not known; the record is kept" in warned.output
