"""The analytical store: schema, idempotency, reports read back, read-only readers."""

from __future__ import annotations

import json
import shutil

import duckdb
from ingest_helpers import Area, csv_text, file_result, good_row
from rowgen import make_rows

from commonground.contracts import FEEDS
from commonground.ingest import ingest_report, quarantine_rows, store_path
from commonground.ingest.store import open_reader


def write_two_feeds(area: Area) -> None:
    ed = make_rows(FEEDS["ed_attendances"], 300, seed=1, defect_rate=0.1)
    area.write("ed_attendances.csv", csv_text(ed.header, ed.rows))
    schools = make_rows(FEEDS["schools"], 20, seed=1, defect_rate=0.2)
    area.write("schools.csv", csv_text(schools.header, schools.rows))


def test_feed_tables_are_typed_in_contract_order(area: Area) -> None:
    area.ingest()  # an empty folder still creates the store and its tables
    columns = area.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'feed_custody_records' ORDER BY ordinal_position"
    )
    feed = FEEDS["custody_records"]
    assert [c for c, _ in columns] == [
        *feed.column_names,
        "given_name_key",
        "family_name_key",
        "_batch_id",
        "_row_number",
    ]
    types = dict(columns)
    assert (
        types["arrested_at"],
        types["vulnerabilities"],
        types["liaison_diversion_referral"],
        types["date_of_birth"],
        types["record_id"],
        types["_row_number"],
    ) == ("TIMESTAMP", "VARCHAR[]", "BOOLEAN", "DATE", "VARCHAR", "BIGINT")
    streets = dict(
        area.query(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'feed_street_triage'"
        )
    )
    assert streets["duration_minutes"] == "BIGINT"
    schools = [
        c for (c,) in area.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'feed_schools'")
    ]
    assert "given_name_key" not in schools


def test_counts_add_up_and_match_the_store(area: Area) -> None:
    write_two_feeds(area)
    result = area.ingest()
    for entry in result.files:
        assert entry.rows_read == entry.rows_accepted + entry.rows_quarantined
        (stored,) = area.query(
            "SELECT rows_read, rows_accepted, rows_quarantined, warnings FROM ingest_batches WHERE file_name = ?",
            [entry.file],
        )
        assert stored == (entry.rows_read, entry.rows_accepted, entry.rows_quarantined, entry.warnings)
        table = f"feed_{entry.feed}"
        assert area.query(f"SELECT count(*) FROM {table}") == [(entry.rows_accepted,)]
        assert area.query("SELECT count(DISTINCT row_number) FROM quarantine WHERE feed = ?", [entry.feed]) == [
            (entry.rows_quarantined,)
        ]


def test_a_second_run_loads_nothing_twice(area: Area) -> None:
    write_two_feeds(area)
    first = area.ingest()
    before = area.counts()
    second = area.ingest()
    assert [f.status for f in second.files] == ["already_loaded", "already_loaded"]
    assert all(f.rows_read == 0 for f in second.files)
    after = area.counts()
    assert after.pop("ingest_runs") == before.pop("ingest_runs") + 1
    assert after == before
    assert {f.batch_id for f in second.files} == {f.batch_id for f in first.files}


def test_the_same_content_under_another_name_is_already_loaded(area: Area) -> None:
    write_two_feeds(area)
    area.ingest()
    (area.source / "elsewhere").mkdir()
    moved = area.source / "elsewhere"
    shutil.move(area.source / "schools.csv", moved / "schools.csv")
    (area.source / "ed_attendances.csv").rename(area.source / "ed_attendances.parquet")  # same bytes
    shutil.copy(area.source / "ed_attendances.parquet", area.source / "custody_records.csv")
    result = area.ingest()
    assert {f.file: f.status for f in result.files} == {
        "custody_records.csv": "already_loaded",
        "ed_attendances.parquet": "already_loaded",
    }


def test_the_same_file_twice_in_one_run(area: Area) -> None:
    feed = FEEDS["schools"]
    text = csv_text(list(feed.column_names), [good_row(feed, 1)])
    area.write("schools.csv", text)
    area.write("schools.parquet", text)  # not Parquet, but the same bytes: already loaded by the first
    result = area.ingest()
    assert [(f.file, f.status) for f in result.files] == [
        ("schools.csv", "loaded"),
        ("schools.parquet", "already_loaded"),
    ]


def test_ingest_report_and_quarantine_rows(area: Area) -> None:
    write_two_feeds(area)
    result = area.ingest()
    batches = ingest_report(data_dir=area.data)
    assert {(b.file_name, b.feed, b.rows_read, b.rows_accepted, b.rows_quarantined, b.warnings) for b in batches} == {
        (f.file, f.feed, f.rows_read, f.rows_accepted, f.rows_quarantined, f.warnings) for f in result.files
    }
    assert all(b.run_id == result.run_id for b in batches)
    rows = quarantine_rows(data_dir=area.data, limit=10_000)
    expected = area.query("SELECT count(*) FROM quarantine")[0][0]
    assert len(rows) == expected > 0
    assert {r.file for r in rows} == {"ed_attendances.csv", "schools.csv"}
    only_schools = quarantine_rows(data_dir=area.data, feed="schools")
    assert only_schools and all(r.feed == "schools" and r.file == "schools.csv" for r in only_schools)
    assert len(quarantine_rows(data_dir=area.data, limit=3)) == 3
    first = rows[0]
    assert set(first.to_dict()) == {"file", "feed", "batch_id", "row_number", "field", "reason"}
    json.dumps([b.to_dict() for b in batches])


def test_reports_on_an_empty_data_dir(area: Area) -> None:
    assert ingest_report(data_dir=area.data) == []
    assert quarantine_rows(data_dir=area.data) == []
    assert not store_path(area.data).exists()  # a report never creates the store


def test_readers_open_the_store_read_only(area: Area) -> None:
    write_two_feeds(area)
    area.ingest()
    one, two = open_reader(area.data), open_reader(area.data)  # two readers at once
    assert one is not None and two is not None
    try:
        assert one.execute("SELECT count(*) FROM ingest_batches").fetchall() == [(2,)]
        try:
            one.execute("CREATE TABLE t (x INT)").fetchall()
            raise AssertionError("a reader could write")
        except duckdb.Error:
            pass
    finally:
        one.close()
        two.close()


def test_json_document_shape(area: Area) -> None:
    write_two_feeds(area)
    area.write("notes.txt", "hello")
    result = area.ingest()
    document = json.loads(result.to_json())
    assert set(document) >= {"files", "run_id", "totals"}
    by_file = {f["file"]: f for f in document["files"]}
    assert set(by_file["ed_attendances.csv"]) == {
        "file",
        "feed",
        "status",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "rows_with_warnings",
        "warnings",
        "rows_new_versions",
        "rows_unchanged",
        "rows_retracted",
    }
    assert set(by_file["notes.txt"]) == {
        "file",
        "feed",
        "status",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "rows_with_warnings",
        "warnings",
        "rows_new_versions",
        "rows_unchanged",
        "rows_retracted",
        "error",
    }
    assert by_file["notes.txt"]["feed"] is None and by_file["notes.txt"]["status"] == "refused"
    assert document["totals"]["refused"] == 1 and not result.ok
    headings, rows = result.table()
    assert len(rows) == 3 and all(len(r) == len(headings) for r in rows)
    assert file_result(result, "notes.txt").error in [r[-1] for r in rows]


def test_progress_is_reported_per_file(area: Area) -> None:
    from commonground.ingest import ingest_directory

    write_two_feeds(area)
    calls: list[tuple[str, int, int | None]] = []
    ingest_directory(source=area.source, data_dir=area.data, on_progress=lambda *call: calls.append(call))
    assert {label for label, _, _ in calls} == {"ed_attendances.csv", "schools.csv"}
    last = {label: (done, total) for label, done, total in calls}
    assert last == {"ed_attendances.csv": (300, 300), "schools.csv": (20, 20)}
    assert all(total is None or done <= total for _, done, total in calls)
