"""pyarrow's CSV fast path is taken only when it gives exactly what the robust csv-module reader gives."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commonground.ingest.reader as reader
from commonground.ingest.fastcsv import read_fast
from commonground.ingest.reader import CsvFeedFile, FileRefused

HEADER = ["record_id", "name", "note"]
CELLS = st.one_of(
    st.sampled_from(["", "ED1", "Flat 2, High St", 'say "hi"', "a\nb", "a\r\nb", "x\ry", "\x00", "é", "=1+1", " "]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)
RAW = [b'"', b'""', b",", b"\n", b"\r", b"\r\n", b"\xff", b"\xe9", b'"x"y', b"\xef\xbb\xbf", b"\x00", b"\n\n"]


def robust(path: Path) -> tuple[list[int], list[list[str | None]], int]:
    """Row numbers, rows and broken-row count from the robust reader alone."""
    source = CsvFeedFile(path, line_count=None, chunk_rows=7)
    numbers: list[int] = []
    rows: list[list[str | None]] = []
    broken = 0
    try:
        for chunk in source._robust_chunks():
            broken += len(chunk.broken)
            numbers += chunk.row_numbers.tolist()
            rows += [[chunk.cell(h, i) for h in source.header] for i in range(chunk.size)]
    finally:
        source.close()
    return numbers, rows, broken


def agree(path: Path) -> bool:
    """The fast path declines, or gives the robust reader's rows and numbers. True if it was taken."""
    try:
        numbers, rows, broken = robust(path)
    except FileRefused:
        return False
    fast = read_fast(path, len(HEADER), field_limit=reader.FIELD_LIMIT)
    if fast is None:
        return False
    table, fast_numbers = fast
    assert broken == 0, "the fast path read a file the robust reader found broken rows in"
    assert fast_numbers.tolist() == numbers
    assert [list(r.values()) for r in table.to_pylist()] == rows
    return True


def _write(path: Path, header: list[str], rows: list[list[str]], end: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=end).writerows([header, *rows])
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=12), end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_well_formed_files(tmp_path: Path, rows: list[list[str]], end: str) -> None:
    path = tmp_path / "f.csv"
    _write(path, HEADER, rows, end)
    taken = agree(path)
    one_line_rows = not any("\n" in c or "\r" in c for row in rows for c in row)
    assert taken or not one_line_rows, "a well-formed one-line-per-row file missed the fast path"


@SETTINGS
@given(
    rows=st.lists(st.lists(CELLS, min_size=2, max_size=4), max_size=10),
    edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(RAW)), max_size=5),
)
def test_hostile_files(tmp_path: Path, rows: list[list[str]], edits: list[tuple[float, bytes]]) -> None:
    path = tmp_path / "f.csv"
    data = _write(path, HEADER, rows, "\n")
    head = data.index(b"\n") + 1
    for where, insert in edits:  # the header line is left alone
        at = head + int(where * (len(data) - head))
        data = data[:at] + insert + data[at:]
    path.write_bytes(data)
    agree(path)


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
    fast = read_fast(path, 3, field_limit=reader.FIELD_LIMIT)
    assert fast is not None
    assert fast[1].tolist() == [3, 5]
