"""Ingest holds about a chunk of a file in memory, not the file, and not the files before it (#18).

Counted in Arrow's own allocator (every cell ingest reads is in an Arrow buffer), which is exact and does not
depend on the machine: no timing, no process size. Before #18 the fast CSV path read a whole file into Arrow at
once, and every chunk the store wrote stayed alive until the run committed (DuckDB keeps a table registered inside
a transaction until the transaction ends, even once unregistered).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from ingest_helpers import Area
from rowgen import make_rows, write_csv

import commonground.ingest.reader as reader
from commonground.contracts import FEEDS
from commonground.ingest import ingest_directory

ROWS = 20_000
CHUNK = 1_000


def test_reading_holds_a_chunk_and_writing_keeps_none(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ed_attendances", "police_incidents"):
        made = make_rows(FEEDS[name], ROWS, seed=3)
        write_csv(area.source / f"{name}.csv", made.header, made.rows)
    file_bytes = (area.source / "ed_attendances.csv").stat().st_size
    monkeypatch.setattr(reader, "CHUNK_ROWS", CHUNK)
    held: dict[str, list[int]] = {}

    def progress(label: str, done: int, total: int | None) -> None:
        held.setdefault(label, []).append(pa.total_allocated_bytes())

    result = ingest_directory(source=area.source, data_dir=area.data, on_progress=progress)
    assert all(f.status == "loaded" and f.rows_read == ROWS for f in result.files)
    # While a file is read, Arrow holds a few chunks' worth of it at most: a chunk is a twentieth of the file.
    assert max(held["ed_attendances.csv"]) < file_bytes / 4
    # When the next file starts, nothing of the first is left in Arrow, though the run has not committed.
    assert held["police_incidents.csv"][0] < file_bytes / 20


def test_the_fast_path_reads_files_larger_than_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file far larger than ``FAST_CHUNK_BYTES`` still goes by the fast path, a chunk at a time."""
    area = Area(tmp_path)
    made = make_rows(FEEDS["police_incidents"], 2_000, seed=4)
    path = write_csv(area.source / "police_incidents.csv", made.header, made.rows)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 100)
    monkeypatch.setattr(reader, "FAST_CHUNK_BYTES", path.stat().st_size // 10)
    taken: list[int] = []
    real = reader.read_rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        table = real(*args, **kwargs)
        taken.extend([] if table is None else [table.num_rows])
        return table

    monkeypatch.setattr(reader, "read_rows", counted)
    result = area.ingest()
    assert result.files[0].rows_read == 2_000
    assert taken == [100] * 20


def test_long_rows_are_held_a_bounded_stretch_at_a_time(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk is bounded by bytes as well as rows: a file of long rows (too long for the fast path) is read by the
    robust reader a stretch of about ``FAST_CHUNK_BYTES`` at a time, not ``CHUNK_ROWS`` rows of any length (#18:
    100,000 rows of 200 KB would have been 20 GB in one chunk)."""
    made = make_rows(FEEDS["police_incidents"], 400, seed=5)
    summary = made.header.index("summary") if "summary" in made.header else len(made.header) - 1
    rows = [[*r[:summary], "x" * 5_000, *r[summary + 1 :]] for r in made.rows]  # about 5 KB a row
    path = write_csv(area.source / "police_incidents.csv", made.header, rows)
    limit = path.stat().st_size // 20
    monkeypatch.setattr(reader, "CHUNK_ROWS", 10_000)  # by rows alone, one chunk
    monkeypatch.setattr(reader, "FAST_CHUNK_BYTES", limit)
    sizes: list[int] = []
    real = reader.CsvFeedFile._chunk

    def counted(self: Any, rows: list[list[str]], numbers: list[int], broken: list[Any]) -> Any:
        sizes.append(sum(len(c) for row in rows for c in row))
        return real(self, rows, numbers, broken)

    monkeypatch.setattr(reader.CsvFeedFile, "_chunk", counted)
    result = area.ingest()
    f = result.files[0]
    assert f.rows_read == 400 and f.rows_read == f.rows_accepted + f.rows_quarantined
    assert len(sizes) >= 15  # about twenty stretches, not one chunk of the whole file
    assert max(sizes) < limit + 6_000  # each ends at the first row that reaches the limit
