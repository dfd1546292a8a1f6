"""Reading a CSV file a chunk at a time (#18) stores exactly what reading it whole does.

Before #18 the fast path read a whole file at once, or the robust reader read all of it. Now each chunk is read by
whichever can show it is right, and only one chunk's bytes are held. The stored batches, the quarantine and the
warnings, and the run's report, must be the same as when the file is read in one piece, byte for byte: with chunk
ends falling inside a quoted cell that spans lines, on a broken row, between a row's \\r and its \\n, after a BOM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import Area, csv_text, good_row

import commonground.ingest.reader as reader
import commonground.ingest.window as window
from commonground.contracts import FEEDS

FEED = FEEDS["police_incidents"]
COLUMNS = list(FEED.column_names)
CHUNK = 5
"""Rows per chunk in the chunked runs (the file has about eight chunks)."""

_SUMMARY = COLUMNS.index("summary")
_ID = COLUMNS.index("incident_id")


def _record(cells: list[str]) -> str:
    """One row as CSV, without its line end (a cell holding a line end is quoted, and spans lines)."""
    return csv_text(cells, []).removesuffix("\n")


def _file(end: str, bom: bool) -> bytes:
    """40 rows in chunks of 5, with trouble at the chunk ends."""
    rows = [good_row(FEED, n) for n in range(1, 41)]
    for n, row in enumerate(rows):
        row[_ID] = f"INC-{n}"
    rows[CHUNK - 1][_SUMMARY] = "first line\nsecond line"  # the last row of chunk 1 spans two lines
    rows[CHUNK][_SUMMARY] = "a\r\nb\rc"  # the first row of chunk 2 spans three
    rows[2 * CHUNK + 2][COLUMNS.index("occurred_at")] = "not a time"  # a bad value
    rows[3 * CHUNK + 3][_ID] = "INC-2"  # a repeat of an earlier unique value
    rows[CHUNK + 2][_SUMMARY] = "=SUM(A1)"  # a formula-like text: kept, with a warning
    records = [_record(COLUMNS), *(_record(row) for row in rows)]
    records[3 * CHUNK] = "INC-short,only two cells"  # a broken row: the last of chunk 3
    records[3 * CHUNK + 1] = records[3 * CHUNK + 1].replace("INC-", '"INC"-', 1)  # and the first of chunk 4
    records.insert(4 * CHUNK + 1, "")  # a blank line where chunk 4 ends: not a row
    return (b"\xef\xbb\xbf" if bom else b"") + (end.join(records) + end).encode("utf-8")


def _stored(area: Area) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a run, in the order stored; the run's own ids and clock left out."""
    tables = {
        "feed": f"SELECT * EXCLUDE (_batch_id) FROM feed_{FEED.name} ORDER BY rowid",
        "quarantine": "SELECT * EXCLUDE (batch_id) FROM quarantine ORDER BY rowid",
        "warnings": "SELECT * EXCLUDE (batch_id) FROM ingest_warnings ORDER BY rowid",
        "batches": "SELECT * EXCLUDE (run_id, loaded_at) FROM ingest_batches ORDER BY rowid",
    }
    return {name: area.query(sql) for name, sql in tables.items()}


Run = tuple[dict[str, list[tuple[Any, ...]]], list[dict[str, Any]], int]


def _ingest(tmp_path: Path, data: bytes, *, fast: bool, chunk_rows: int, read_bytes: int = 2**20) -> Run:
    """The stored tables and the report of one run over ``data``, and how many chunks the fast path read."""
    area = Area(tmp_path / f"{fast}-{chunk_rows}-{read_bytes}")
    area.write(f"{FEED.name}.csv", data)
    fast_chunks: list[int] = []
    real = reader.read_rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        table = real(*args, **kwargs)
        fast_chunks.extend([] if table is None else [table.num_rows])
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "FAST_CSV", fast)
        patch.setattr(reader, "CHUNK_ROWS", chunk_rows)
        patch.setattr(reader, "read_rows", counted)
        patch.setattr(window, "READ_BYTES", read_bytes)
        result = area.ingest()
    report = [{k: v for k, v in f.items() if k != "batch_id"} for f in json.loads(result.to_json())["files"]]
    for entry in report:
        assert entry["rows_read"] == entry["rows_accepted"] + entry["rows_quarantined"]
    return _stored(area), report, len(fast_chunks)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_a_troubled_file_stores_the_same_in_chunks(tmp_path: Path, end: str, bom: bool) -> None:
    data = _file(end, bom)
    whole, whole_report, whole_fast = _ingest(tmp_path, data, fast=True, chunk_rows=10**6)
    assert whole_fast == 0  # in one piece, a file with broken rows is the robust reader's, as before #18
    assert whole_report[0]["status"] == "loaded"
    counts = [whole_report[0][k] for k in ("rows_read", "rows_accepted", "rows_quarantined", "warnings")]
    assert counts == [40, 36, 4, 1]  # two broken rows, a bad value, a repeat; a formula-like text
    robust, robust_report, _ = _ingest(tmp_path, data, fast=False, chunk_rows=CHUNK)
    for read_bytes in (1, 4096):  # every boundary a read can end on; then the usual case, a read per chunk
        chunked, report, fast_chunks = _ingest(tmp_path, data, fast=True, chunk_rows=CHUNK, read_bytes=read_bytes)
        assert fast_chunks >= 3  # the chunks without trouble took the fast path
        assert (chunked, report) == (robust, robust_report)  # byte for byte, in the order stored
        assert report == whole_report
        for table in ("feed", "warnings", "batches"):
            assert chunked[table] == whole[table]
        # Only the order of the quarantine may differ from the file read in one chunk: a chunk's broken rows are
        # stored before its rows with bad values, in chunks of any size and by either reader.
        assert sorted(chunked["quarantine"]) == sorted(whole["quarantine"]) != []


@pytest.mark.parametrize("end", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_a_clean_file_stores_the_same_in_chunks(tmp_path: Path, end: str, bom: bool) -> None:
    rows = [good_row(FEED, n) for n in range(1, 41)]
    for n, row in enumerate(rows):
        row[_ID] = f"INC-{n}"
    data = (b"\xef\xbb\xbf" if bom else b"") + csv_text(COLUMNS, rows, end=end).encode("utf-8")
    whole, whole_report, whole_fast = _ingest(tmp_path, data, fast=True, chunk_rows=10**6)
    assert whole_fast == 1  # the whole file in one piece by the fast path: what ingest did before #18
    for read_bytes in (1, 4096):  # every boundary a read can end on; then the usual case, a read per chunk
        chunked, report, fast_chunks = _ingest(tmp_path, data, fast=True, chunk_rows=CHUNK, read_bytes=read_bytes)
        assert fast_chunks == 40 // CHUNK
        assert (chunked, report) == (whole, whole_report)
