"""pyarrow's CSV fast path is taken, chunk by chunk, only when it gives exactly what the robust csv-module reader
gives: the same chunks of rows, row numbers and broken rows, whatever the chunk size and wherever the chunks fall."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commonground.ingest.reader as reader
import commonground.ingest.window as window
from commonground.ingest.reader import CsvFeedFile, FileRefused

HEADER = ["record_id", "name", "note"]
CELLS = st.one_of(
    st.sampled_from(["", "ED1", "Flat 2, High St", 'say "hi"', "a\nb", "a\r\nb", "x\ry", "\x00", "é", "=1+1", " "]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)
RAW = [b'"', b'""', b",", b"\n", b"\r", b"\r\n", b"\xff", b"\xe9", b'"x"y', b"\xef\xbb\xbf", b"\x00", b"\n\n"]


Chunk = tuple[list[int], list[list[str | None]], list[tuple[int, str, str]]]


@contextmanager
def counting_fast_chunks() -> Iterator[list[int]]:
    """Counts the chunks the fast path read (the list's length), by wrapping the function that reads them."""
    taken: list[int] = []
    real = reader.read_rows

    def spy(*args: Any, **kwargs: Any) -> Any:
        table = real(*args, **kwargs)
        if table is not None:
            taken.append(table.num_rows)
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "read_rows", spy)
        yield taken


def read_chunks(path: Path, *, fast: bool, chunk_rows: int) -> list[Chunk]:
    """Each chunk's row numbers, rows and broken rows, read with or without the fast path."""
    chunks: list[Chunk] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "FAST_CSV", fast)
        source = CsvFeedFile(path, line_count=None, chunk_rows=chunk_rows)
        try:
            for chunk in source.chunks():
                rows = [[chunk.cell(h, i) for h in source.header] for i in range(chunk.size)]
                broken = [(b.row_number, b.reason, b.raw) for b in chunk.broken]
                chunks.append((chunk.row_numbers.tolist(), rows, broken))
        finally:
            source.close()
    return chunks


def agree(path: Path, chunk_rows: int = 1000) -> bool:
    """Reading with the fast path gives the robust reader's chunks exactly. True if the fast path read any."""
    try:
        robust = read_chunks(path, fast=False, chunk_rows=chunk_rows)
    except FileRefused:
        return False
    with counting_fast_chunks() as taken:
        mixed = read_chunks(path, fast=True, chunk_rows=chunk_rows)
    assert mixed == robust
    return bool(taken)


def _write(path: Path, header: list[str], rows: list[list[str]], end: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=end).writerows([header, *rows])
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=12),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    chunk_rows=st.sampled_from([1, 2, 3, 1000]),
    read_bytes=st.sampled_from([1, 2, 3, 7, 2**20]),
)
def test_well_formed_files(tmp_path: Path, rows: list[list[str]], end: str, chunk_rows: int, read_bytes: int) -> None:
    path = tmp_path / "f.csv"
    _write(path, HEADER, rows, end)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(window, "READ_BYTES", read_bytes)
        taken = agree(path, chunk_rows)
    one_line_rows = not any("\n" in c or "\r" in c for row in rows for c in row)
    assert taken or not one_line_rows or not rows, "a well-formed one-line-per-row file missed the fast path"


@SETTINGS
@given(
    rows=st.lists(st.lists(CELLS, min_size=2, max_size=4), max_size=10),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(RAW)), max_size=5),
    chunk_rows=st.integers(1, 4),
    read_bytes=st.sampled_from([1, 2, 5, 64]),
)
def test_hostile_files(
    tmp_path: Path, rows: list[list[str]], edits: list[tuple[float, bytes]], chunk_rows: int, read_bytes: int
) -> None:
    """Chunks of a few rows, and the file read a few bytes at a time, so that chunk ends and read ends fall
    everywhere: inside quoted cells across lines, between a \\r and its \\n, on broken rows."""
    path = tmp_path / "f.csv"
    data = _write(path, HEADER, rows, "\n")
    head = data.index(b"\n") + 1
    for where, insert in edits:  # the header line is left alone
        at = head + int(where * (len(data) - head))
        data = data[:at] + insert + data[at:]
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(window, "READ_BYTES", read_bytes)
        agree(path, chunk_rows)


@pytest.mark.parametrize(
    ("body", "taken"),
    [
        (b"ED1,Ann,x\r\nED2,Bo,y\r\n", True),
        (b'ED1,"Flat 2, High St","say ""hi"""\nED2,Bo,\n', True),
        (b"ED1,Ann,x\n\nED2,Bo,y\n\n\n", True),  # blank lines: skipped by both, numbers kept
        (b'ED1,"Ann"x,y\n', False),  # strict quoting: the robust reader quarantines the row
        (b'ED1,"a\nb",y\n', False),  # a row across two lines
        (b"ED1,Ann\n", False),  # a row short of cells
        (b"ED1,Ren\xe9e,x\n", False),  # not UTF-8
        (b'ED1,"never closed,x\nED2,Bo,y\n', False),
    ],
)
def test_which_files_take_the_fast_path(tmp_path: Path, body: bytes, taken: bool) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"record_id,name,note\n" + body)
    assert agree(path) is taken


def test_blank_lines_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"record_id,name,note\n\nED1,Ann,x\r\n\r\nED2,Bo,y")
    with counting_fast_chunks() as taken:
        chunks = read_chunks(path, fast=True, chunk_rows=1)
    assert taken == [1, 1]
    assert [numbers for numbers, _, _ in chunks] == [[3], [5]]


def test_only_the_chunk_holding_a_broken_row_leaves_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    rows = b"".join(b"ED%d,Ann,x\n" % i for i in range(1, 10))
    path.write_bytes(b"record_id,name,note\n" + rows.replace(b"ED5,Ann,x", b'ED5,"Ann"x,y'))
    with counting_fast_chunks() as taken:
        assert agree(path, chunk_rows=3)
    assert taken == [3, 3]  # rows 1-3 and 7-9; rows 4-6 by the robust reader
