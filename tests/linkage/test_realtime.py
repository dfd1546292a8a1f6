"""One record against a build: the same features, candidates, levels and weights as Splink."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pytest
from splink import DuckDBAPI
from typer.testing import CliRunner

from commonground.cli import app
from commonground.linkage.builds import require_current_build
from commonground.linkage.predict import link
from commonground.linkage.prepare import INPUT_COLUMNS, prepare_records, records_table
from commonground.linkage.pycompare import damerau_levenshtein, jaro_winkler, part_value, prepare_record
from commonground.linkage.realtime import RecordMatcher
from commonground.linkage.reports import model_of
from commonground.linkage.sources import input_sql, person_feeds
from commonground.linkage.spec import Part
from conftest import BuiltArea

SAMPLE_EVERY = 7
"""Every 7th record of the test area is matched against the rest (about 900 records)."""


@pytest.fixture(scope="module")
def area_db(built_area: BuiltArea) -> Any:
    build = require_current_build(built_area.data_dir)
    con = duckdb.connect()
    con.execute(f"ATTACH '{build.database}' AS build (READ_ONLY)").fetchall()
    tables = [
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
    ]
    con.execute(f"CREATE TABLE source_records AS {input_sql(person_feeds(tables), catalog='build')}").fetchall()
    yield con
    con.close()


@pytest.fixture(scope="module")
def matcher(built_area: BuiltArea) -> RecordMatcher:
    return RecordMatcher.from_build(built_area.data_dir)


@pytest.fixture(scope="module")
def splink_pairs(built_area: BuiltArea, area_db: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Splink's predictions over the whole area with the build's model, by (left id, right id)."""
    model = model_of(built_area.data_dir, require_current_build(built_area.data_dir))
    result = link(model, db_api=DuckDBAPI(area_db), source_table="source_records")
    return {(r["unique_id_l"], r["unique_id_r"]): r for r in result.predictions.as_record_list()}


def test_python_prepare_equals_the_sql_prepare(area_db: Any) -> None:
    prepared = prepare_records(db_api=DuckDBAPI(area_db), source_table="source_records").as_record_list()
    raw = {r[0]: r for r in area_db.execute(f"SELECT {', '.join(INPUT_COLUMNS)} FROM source_records").fetchall()}
    assert len(prepared) > 1000
    for row in prepared:
        mine = prepare_record(dict(zip(INPUT_COLUMNS, raw[row["unique_id"]], strict=True)))
        theirs = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in row.items()}
        assert mine == theirs, row["unique_id"]


@pytest.mark.parametrize(
    "record",
    [
        {"given_name_key": " ANNE ", "family_name_key": "", "date_of_birth": "1990-02-30", "sex": "u"},
        {"given_name_key": None, "family_name_key": "LEE", "address": "no fixed abode", "postcode": "ab1 2cd"},
        {"given_name_key": "BILL", "address": "12a, High St.", "date_of_birth": "2001-3-4", "sex": " f"},
        {"address": "  ", "nhs_number": " ", "uprn": "100023"},
    ],
)
def test_python_prepare_equals_the_sql_prepare_on_odd_values(record: dict[str, Any]) -> None:
    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    raw = db_api.register(records_table([{"unique_id": "x", **record}]))
    theirs = prepare_records(db_api=db_api, source_table=raw.physical_name).as_record_list()[0]
    mine = prepare_record({"unique_id": "x", **record})
    assert mine == {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in theirs.items()}


def test_string_measures_equal_duckdbs() -> None:
    words = [
        "MARTHA",
        "MARHTA",
        "DWAYNE",
        "DUANE",
        "DIXON",
        "DICKSONX",
        "JONES",
        "JOHNSON",
        "A",
        "AB",
        "BA",
        "CA",
        "ABC",
        "1987-03-14",
        "1987-14-03",
        "1978-03-14",
        "1987-03-41",
        "12 HIGH STREET",
        "21 HIGH ST",
    ]
    con = duckdb.connect()
    pairs = [(a, b) for a in words for b in words]
    found = con.execute(
        "SELECT jaro_winkler_similarity(a, b), damerau_levenshtein(a, b) FROM (SELECT unnest(?) AS a, unnest(?) AS b)",
        [[a for a, _ in pairs], [b for _, b in pairs]],
    ).fetchall()
    for (a, b), (jw, dl) in zip(pairs, found, strict=True):
        assert jaro_winkler(a, b) == pytest.approx(jw, abs=1e-12), (a, b)
        assert damerau_levenshtein(a, b) == dl, (a, b)


@pytest.mark.parametrize(
    ("value", "part", "expected"),
    [
        ("12A HIGH STREET", Part.HOUSE_NUMBER, "12A"),
        ("FLAT 2 HIGH STREET", Part.HOUSE_NUMBER, None),
        ("1987-03-14", Part.YEAR, "1987"),
        ("1987-03-14", Part.YEAR_MONTH, "1987-03"),
        ("1987-03-14", Part.MONTH_DAY, "03-14"),
        ("MICHAELA", Part.INITIAL, "M"),
        (None, Part.INITIAL, None),
    ],
)
def test_parts(value: str | None, part: Part, expected: str | None) -> None:
    assert part_value(value, part) == expected


def test_realtime_weights_equal_splinks(
    matcher: RecordMatcher, splink_pairs: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """Every pair Splink scores for a sampled record is a candidate, with the same levels and weights."""
    ids = sorted(matcher._ids)[::SAMPLE_EVERY]
    sampled = set(ids)
    expected: dict[str, set[str]] = {uid: set() for uid in ids}
    for left, right in splink_pairs:
        if left in sampled:
            expected[left].add(right)
        if right in sampled:
            expected[right].add(left)
    checked = 0
    for uid in ids:
        scores = matcher.score(matcher.input_record(uid), exclude=[uid])
        ours = {c["unique_id"]: i for i, c in enumerate(scores.candidates)}
        assert expected[uid] <= set(ours), uid
        for other in expected[uid]:
            theirs = splink_pairs.get((uid, other)) or splink_pairs[(other, uid)]
            mine = scores.row(ours[other])
            assert mine["match_weight"] == pytest.approx(theirs["match_weight"], abs=1e-6)
            assert mine["match_probability"] == pytest.approx(theirs["match_probability"], abs=1e-9)
            for name in scores.gamma:
                assert mine[f"gamma_{name}"] == theirs[f"gamma_{name}"], (uid, other, name)
                assert mine[f"mw_tf_adj_{name}"] == pytest.approx(theirs.get(f"mw_tf_adj_{name}") or 0.0, abs=1e-6)
            checked += 1
        # and what Splink left out (below its floor of -5) scores below the floor here too
        for other, i in ours.items():
            if other not in expected[uid]:
                assert scores.match_weight[i] < matcher.model.spec.keep_pairs_above_match_weight + 1e-6
    assert checked > 1000


def test_match_finds_the_records_person(built_area: BuiltArea, matcher: RecordMatcher) -> None:
    build = require_current_build(built_area.data_dir)
    with build.connect() as con:
        uid, person = con.execute(
            "SELECT unique_id_l, p.person_id FROM links JOIN person_records AS p "
            "ON p.feed || ':' || p.record_id = unique_id_l ORDER BY match_weight DESC, unique_id_l LIMIT 1"
        ).fetchall()[0]
    result = matcher.match(matcher.input_record(uid), exclude=[uid], top=3)
    assert result.matches[0].person_id == person
    assert result.matches[0].same_person
    assert 1 <= len(result.matches) <= 3
    assert len({m.person_id for m in result.matches}) == len(result.matches)
    text = result.as_text()
    assert "the same person" in text and "date of birth:" in text
    assert uid.split(":")[1] not in text.split("\n", 1)[0]


def test_a_record_with_nothing_to_block_on_has_no_candidates(matcher: RecordMatcher) -> None:
    result = matcher.match({"given_name_key": "ZZYZX"})
    assert result.candidates == 0 and result.matches == ()
    assert "No candidate" in result.as_text()


def test_match_command(built_area: BuiltArea) -> None:
    runner = CliRunner()
    some = sorted(RecordMatcher.from_build(built_area.data_dir)._ids)[3]
    result = runner.invoke(app, ["--data-dir", str(built_area.data_dir), "match", some, "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "candidate records scored" in result.output and "1. " in result.output
    record = {"given_name_key": "OLIVIA", "family_name_key": "SMITH", "date_of_birth": str(date(1990, 1, 2))}
    result = runner.invoke(app, ["--data-dir", str(built_area.data_dir), "match", "--record", json.dumps(record)])
    assert result.exit_code == 0, result.output
    for bad, message in [
        ([], "either FEED:RECORD_ID or --record"),
        (["--record", "[1]"], "one JSON object"),
        (["--record", "{"], "not JSON"),
        (["nosuchfeed:1"], "no person-level record"),
    ]:
        result = runner.invoke(app, ["--data-dir", str(built_area.data_dir), "match", *bad])
        assert result.exit_code != 0 and message in result.output, (bad, result.output)
