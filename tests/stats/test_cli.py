"""`commonground stats` end to end on a small synthetic area: synth, ingest, link, flag, stats; then what the
files hold (and what they must never hold)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from commonground.cli import app

PEOPLE = 2_000
TABLES = 11


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of a linked synthetic area (no rules run yet)."""
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("stats-area")
    generate(people=PEOPLE, seed=3, out=root / "area", on_progress=None)
    ingest_directory(source=root / "area", data_dir=root / "data", on_progress=None)
    build_from_store(data_dir=root / "data", on_progress=None)
    return root / "data"


@pytest.fixture(scope="module")
def published(area: Path) -> Path:
    runner = CliRunner()
    before = runner.invoke(app, ["--data-dir", str(area), "stats", "--out", str(area / "early")])
    assert before.exit_code == 2 and "commonground flag" in before.output, before.output
    assert not (area / "early").exists()
    flagged = runner.invoke(app, ["--data-dir", str(area), "flag"])
    assert flagged.exit_code == 0, flagged.output
    out = area / "stats"
    result = runner.invoke(app, ["--data-dir", str(area), "stats", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {TABLES} tables" in result.output
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _build(area: Path) -> Path:
    from commonground.linkage.builds import require_current_build

    return require_current_build(area).path


@pytest.mark.slow
def test_every_table_has_its_metadata_and_the_rule_applied(published: Path, area: Path) -> None:
    csvs = sorted(published.glob("*.csv"))
    assert len(csvs) == TABLES
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build_id"] == _build(area).name
    assert sorted(manifest["tables"]) == sorted(p.stem for p in csvs)
    for path in csvs:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        rule = meta["small_numbers"]
        assert rule["suppress_up_to"] >= 5 and rule["in_words"] and rule["name"], path.name
        assert meta["columns"] == list(_rows(path)[0])
        assert meta["figures"] == len(_rows(path)) and meta["build_id"] == manifest["build_id"]
        assert "rounded" in meta["totals"]


@pytest.mark.slow
def test_no_published_figure_is_small_and_no_line_has_one_hidden_figure(published: Path) -> None:
    for path in published.glob("*.csv"):
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        rules = {r["name"]: r for r in meta["rules_applied"]}
        by_row = meta["small_numbers_by_row"]
        rows = _rows(path)
        row_dim, col_dim, unit = meta["columns"][:3]
        lines: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            rule = rules[by_row.get(r[row_dim], meta["small_numbers"]["name"])]
            value = r[unit]
            if value != rule["symbol"]:
                assert not 0 < int(value) <= rule["suppress_up_to"], (path.name, r)
                assert int(value) % rule["round_to"] == 0, (path.name, r)
            lines.setdefault(("row", r[row_dim]), []).append(value)
            lines.setdefault(("col", r[col_dim]), []).append(value)
        adds_up = meta["population"] not in ("rule", "police")
        for (kind, _), values in lines.items():
            if kind == "col" and not adds_up:
                continue
            hidden = sum(v in ("*", "c") for v in values)
            assert hidden != 1, (path.name, kind, values)


@pytest.mark.slow
def test_a_figure_in_two_files_is_published_the_same_in_both(published: Path) -> None:
    totals = {path.name: _rows(path)[-1]["people"] for path in published.glob("people_*.csv")}
    assert len(set(totals.values())) == 1, totals
    by_band = [
        {r["age_band"]: r["people"] for r in _rows(published / f"people_by_{name}_and_age_band.csv") if r[dim] == "all"}
        for name, dim in (("area", "area"), ("deprivation", "decile"), ("sex", "sex"))
    ]
    assert by_band[0] == by_band[1] == by_band[2] and len(by_band[0]) == 10


@pytest.mark.slow
def test_the_overlap_and_aces_are_there(published: Path) -> None:
    overlap = _rows(published / "police_overlap_by_area.csv")
    assert {r["overlap"] for r in overlap} == {
        "police_only",
        "mental_health_only",
        "substance_only",
        "emergency_only",
        "two_or_more",
        "all",
    }
    grand = next(r for r in overlap if r["area"] == "all" and r["overlap"] == "all")
    assert int(grand["people"]) > 0
    aces = _rows(published / "children_aces_by_deprivation.csv")
    assert {r["aces"] for r in aces} == {"0", "1", "2-3", "4+", "all"}
    prevalence = _rows(published / "ace_prevalence_by_deprivation.csv")
    assert any(r["decile"] == "all" and r["rule_id"] == "ace.domestic_abuse" for r in prevalence)


IDENTIFIERS = (
    "SELECT person_id FROM persons",
    "SELECT record_id FROM person_records",
    "SELECT nhs_number FROM persons",
    "SELECT incident_id FROM feed_police_incidents",
    "SELECT uprn FROM feed_police_incident_persons",
)
QUASI_IDENTIFIERS = (
    "SELECT given_name FROM persons",
    "SELECT family_name FROM persons",
    "SELECT CAST(date_of_birth AS VARCHAR) FROM persons",
    "SELECT postcode FROM feed_police_incident_persons",
    "SELECT address FROM feed_police_incident_persons",
)


def _values(area: Path, queries: tuple[str, ...]) -> set[str]:
    with duckdb.connect(str(_build(area) / "build.duckdb"), read_only=True) as con:
        return {str(v) for sql in queries for (v,) in con.execute(sql).fetchall() if v is not None}


@pytest.mark.slow
def test_no_identifier_of_the_area_is_in_any_output(published: Path, area: Path) -> None:
    """Scan every output file for the synthetic area's person ids, record ids, NHS numbers, incident ids and
    UPRNs (anywhere in any file), and for names, dates of birth, postcodes and addresses (as any CSV value)."""
    ids = _values(area, IDENTIFIERS)
    quasi = _values(area, QUASI_IDENTIFIERS)
    ids.discard("None")
    quasi.discard("None")
    assert len(ids) > PEOPLE
    files = list(published.iterdir())
    assert len(files) == 2 * TABLES + 1
    token = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{5,}")
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = set(token.findall(text)) & ids
        assert not found, (path.name, sorted(found)[:5])
        if path.suffix == ".csv":
            values = {v for row in csv.reader(text.splitlines()) for v in row}
            assert not values & quasi, (path.name, sorted(values & quasi)[:5])
        assert "person_id" not in text and "record_id" not in text and "date_of_birth" not in text, path.name
