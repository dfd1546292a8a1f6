"""Hostile files and folder entries (#18): each is refused alone, by name, with a reason; the good files beside it
are loaded; nothing behind a link is read; a small file that would expand to gigabytes is refused before it does."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS
from commonground.ingest import reader

FEED = FEEDS["mental_health_contacts"]
COLS = list(FEED.column_names)
GOOD = "substance_treatment.csv"


def _good_file(area: Area) -> None:
    feed = FEEDS["substance_treatment"]
    area.write(GOOD, csv_text(list(feed.column_names), [good_row(feed, i) for i in range(1, 4)]))


def _good_table(n: int = 3) -> pa.Table:
    rows = [good_row(FEED, i) for i in range(1, n + 1)]
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(COLS)})


def _assert_good_file_loaded(area: Area, result: object) -> None:
    entry = file_result(result, GOOD)  # type: ignore[arg-type]
    assert entry.status == "loaded", entry.error
    assert entry.rows_accepted == 3


def test_a_nested_parquet_column_refuses_that_file_alone(area: Area) -> None:
    table = _good_table().append_column("notes", pa.array([[["a"]], [["b", "c"]], []], pa.list_(pa.list_(pa.string()))))
    pq.write_table(table, area.source / "mental_health_contacts.parquet")
    _good_file(area)
    result = area.ingest()
    entry = file_result(result, "mental_health_contacts.parquet")
    assert entry.status == "refused"
    assert "'notes'" in entry.error and "list<element: list<element: string>>" in entry.error
    _assert_good_file_loaded(area, result)


def test_a_decompression_bomb_is_refused_from_its_metadata(area: Area) -> None:
    """2,000 rows of 17 columns, each one repeated 20 KB string: a few KB compressed, 680 MB decompressed."""
    big = "x" * 20_000
    table = pa.table({f"c{i}": pa.array([big] * 2_000) for i in range(17)})
    path = area.source / "mental_health_contacts.parquet"
    pq.write_table(table, path, compression="zstd", use_dictionary=False)
    assert path.stat().st_size < 200_000
    _good_file(area)
    result = area.ingest()
    entry = file_result(result, "mental_health_contacts.parquet")
    assert entry.status == "refused"
    assert "KiB each once decompressed" in entry.error and "nothing of it was loaded" in entry.error
    _assert_good_file_loaded(area, result)


def test_a_huge_cell_is_refused_while_reading(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row under the row limit but with one cell over the cell limit (limits made small for the test)."""
    monkeypatch.setattr(reader, "MAX_CELL_BYTES", 1_000)
    table = _good_table()
    column = COLS.index("address")
    table = table.set_column(column, "address", pa.array(["1 High Street", "y" * 5_000, None]))
    pq.write_table(table, area.source / "mental_health_contacts.parquet")
    entry = file_result(area.ingest(), "mental_health_contacts.parquet")
    assert entry.status == "refused"
    assert "a cell of the column 'address'" in entry.error
    assert area.query("SELECT count(*) FROM quarantine") == [(0,)]


def test_wide_rows_are_read_a_few_at_a_time(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch size follows the rows' width, so memory stays bounded; the rows are all there."""
    monkeypatch.setattr(reader, "MAX_BATCH_BYTES", 300)
    seen: list[int] = []
    original = reader.ParquetFeedFile.chunks

    def counting(self: reader.ParquetFeedFile):  # type: ignore[no-untyped-def]
        for chunk in original(self):
            seen.append(chunk.size)
            yield chunk

    monkeypatch.setattr(reader.ParquetFeedFile, "chunks", counting)
    pq.write_table(_good_table(40), area.source / "mental_health_contacts.parquet")
    entry = file_result(area.ingest(), "mental_health_contacts.parquet")
    assert entry.status == "loaded" and entry.rows_read == 40
    assert len(seen) > 1 and sum(seen) == 40


def test_a_symbolic_link_is_refused_and_not_followed(area: Area, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(csv_text(COLS, [good_row(FEED, 1)]))
    (area.source / "mental_health_contacts.csv").symlink_to(outside)
    (area.source / "custody_records.csv").symlink_to(tmp_path / "missing.csv")  # dangling
    _good_file(area)
    result = area.ingest()
    for name in ("mental_health_contacts.csv", "custody_records.csv"):
        entry = file_result(result, name)
        assert entry.status == "refused"
        assert "symbolic link" in entry.error and name in entry.error
    assert area.query("SELECT count(*) FROM ingest_batches WHERE feed = 'mental_health_contacts'") == [(0,)]
    _assert_good_file_loaded(area, result)


def test_a_link_to_a_system_file_named_like_a_feed_is_not_read(area: Area) -> None:
    (area.source / "schools.csv").symlink_to("/etc/passwd")
    entry = file_result(area.ingest(), "schools.csv")
    assert entry.status == "refused" and "symbolic link" in entry.error


def test_a_fifo_and_a_socket_are_refused_by_name(area: Area) -> None:
    os.mkfifo(area.source / "custody_records.csv")  # reading it would wait for ever
    with socket.socket(socket.AF_UNIX) as unix:
        unix.bind(str(area.source / "missing_episodes.csv"))
        _good_file(area)
        result = area.ingest()
    assert "named pipe (FIFO)" in file_result(result, "custody_records.csv").error
    assert "a socket" in file_result(result, "missing_episodes.csv").error
    _assert_good_file_loaded(area, result)
    assert not result.ok


def test_a_folder_named_like_a_feed_is_refused_and_other_folders_left_alone(area: Area) -> None:
    (area.source / "street_triage.csv").mkdir()
    (area.source / "truth").mkdir()  # a synthetic area's truth folder sits beside its feeds
    _good_file(area)
    result = area.ingest()
    entry = file_result(result, "street_triage.csv")
    assert entry.status == "refused" and "a folder, not a file" in entry.error
    assert "truth" not in [f.file for f in result.files]
    _assert_good_file_loaded(area, result)


def test_the_report_lists_refusals_in_file_order(area: Area) -> None:
    (area.source / "custody_records.csv").symlink_to("/etc/hostname")
    _good_file(area)
    assert [f.file for f in area.ingest().files] == ["custody_records.csv", GOOD]
