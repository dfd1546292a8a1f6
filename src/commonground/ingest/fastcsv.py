"""A fast path for reading well-behaved CSV rows with pyarrow, used only when it is provably the same.

Python's ``csv`` module (the robust reader in :mod:`commonground.ingest.reader`) is the reference:
strict quoting, rows numbered by the line they start on, blank lines skipped, bytes that are not
UTF-8 kept. pyarrow's CSV reader is several times faster, but differs on hostile input (it accepts
``"abc"def``, does not number lines, cannot keep stray bytes). So it is used for a stretch of a file
(a chunk of rows, starting where the robust reader would start a row) only when all of these hold,
and otherwise that stretch is read by the robust reader:

1. the stretch starts on a line where the robust reader starts a row (the line after the one-line
   header, or after a stretch either reader has read to the end of a row);
2. pyarrow reads the stretch without error: every row has the header's number of cells, every cell
   is valid UTF-8, no row is longer than pyarrow's block (nor than the robust reader's field limit);
3. pyarrow finds exactly one row for each non-blank line of the stretch (so no row spans lines, and
   every blank line is one both readers skip), which also gives each row its line number;
4. every line holding a quote character, parsed on its own by the robust reader, gives exactly the
   cells pyarrow gave for that row (and does not fail, as a quote left open would).

A line without a quote character is split on commas alone by both readers, so (4) covers every
place where quoting rules could make them differ. After a stretch that passes, every one of its
lines was one whole row to the robust reader too, so the next stretch starts on a row again (1).
``tests/ingest/test_fastcsv.py`` checks with hypothesis that the two readers agree on random and
hostile files, and ``tests/ingest/test_chunked_csv.py`` that reading in stretches stores what
reading the whole file does.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from commonground.ingest.cells import strings_to_arrow

_SCAN_BLOCK = 16 * 2**20
_BLOCK_SIZE = 4 * 2**20
"""pyarrow's block: a row longer than this makes pyarrow fail, and the robust reader takes over."""

_NL, _CR, _QUOTE = 10, 13, 34


@dataclass(frozen=True)
class Lines:
    """Where each line of a stretch starts and ends (terminator excluded), and which hold a quote."""

    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray

    @property
    def blank(self) -> np.ndarray:
        return np.asarray(self.ends == self.starts, dtype=bool)


def complete(data: np.ndarray, *, final: bool) -> int:
    """How many bytes at the start of ``data`` are whole lines. Without ``final`` (more of the file follows), a
    line is whole once its terminator is known: a ``\\n``, or a ``\\r`` with a byte after it (which says whether it
    is ``\\r\\n``)."""
    size = len(data)
    if final or size == 0:
        return size
    newline = np.flatnonzero(data == _NL)
    ret = np.flatnonzero(data[: size - 1] == _CR)
    last = max(int(newline[-1]) if len(newline) else -1, int(ret[-1]) if len(ret) else -1)
    return last + 1  # a \r followed by \n is not the last: the \n after it is


def scan(data: np.ndarray) -> Lines:
    """Lines as Python's universal newlines see them: split at \\n, \\r\\n and a lone \\r."""
    size = len(data)
    terminators: list[np.ndarray] = []
    content_ends: list[np.ndarray] = []
    quotes: list[np.ndarray] = []
    for start in range(0, size, _SCAN_BLOCK):
        block = data[start : start + _SCAN_BLOCK]
        newline = np.flatnonzero(block == _NL) + start
        ret = np.flatnonzero(block == _CR) + start
        lone = ret[(ret + 1 >= size) | (data[np.minimum(ret + 1, size - 1)] != _NL)]
        after_cr = newline[(newline > 0) & (data[np.maximum(newline - 1, 0)] == _CR)]
        ends_here = np.concatenate([newline, lone])
        order = np.argsort(ends_here, kind="stable")
        ends_here = ends_here[order]
        content = ends_here.copy()
        content[np.isin(ends_here, after_cr)] -= 1  # \r\n: the content ends before the \r
        terminators.append(ends_here)
        content_ends.append(content)
        quotes.append(np.flatnonzero(block == _QUOTE) + start)
    term = np.concatenate(terminators) if terminators else np.zeros(0, dtype=np.int64)
    ends = np.concatenate(content_ends) if content_ends else np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[0], term + 1]).astype(np.int64)
    if len(starts) and starts[-1] >= size:
        starts = starts[:-1]  # the stretch ends with a terminator: no last, unterminated line
    else:
        ends = np.concatenate([ends, [size]])
    quote_positions = np.concatenate(quotes) if quotes else np.zeros(0, dtype=np.int64)
    quoted = np.zeros(len(starts), dtype=bool)
    if len(quote_positions):
        quoted[np.searchsorted(starts, quote_positions, side="right") - 1] = True
    return Lines(starts=starts, ends=ends.astype(np.int64), quoted=quoted)


def _read_arrow(data: bytes, width: int) -> pa.Table | None:
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None


def _quoted_lines_agree(data: bytes, lines: Lines, data_lines: np.ndarray, table: pa.Table) -> bool:
    """Each data line holding a quote, parsed alone by Python's csv module, gives pyarrow's cells."""
    rows = np.flatnonzero(lines.quoted[data_lines])
    if len(rows) == 0:
        return True
    picked = data_lines[rows]
    spans = zip(lines.starts[picked].tolist(), lines.ends[picked].tolist(), strict=True)
    try:
        texts = b"\n".join([data[start:end] for start, end in spans]).decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return False
    if len(texts) != len(rows):
        return False  # cannot happen: a line holds no \n
    try:
        records = list(csv.reader(texts, strict=True))
    except csv.Error:
        return False  # a quote left open at the end
    # One record per line: a quote left open would have run into the next line and merged two.
    width = table.num_columns
    if len(records) != len(rows) or any(len(record) != width for record in records):
        return False
    taken = table.take(pa.array(rows, pa.int64()))
    for j, column in enumerate(zip(*records, strict=True)):
        cells, odd = strings_to_arrow(column)
        if odd or not taken.column(j).combine_chunks().equals(cells):
            return False
    return True


def read_rows(data: bytes, lines: Lines, width: int, *, field_limit: int) -> pa.Table | None:
    """The rows of a stretch of whole lines that starts on a row (condition 1, the caller's to keep), as a table of
    strings, one row for each non-blank line in order; or None when the fast path cannot show it gives exactly what
    the robust reader gives."""
    if len(lines.starts) and int((lines.ends - lines.starts).max()) > field_limit:
        return None  # the robust reader would cut a cell this long short
    data_lines = np.flatnonzero(~lines.blank)
    table = _read_arrow(data, width) if len(data_lines) else None
    if table is None or table.num_rows != len(data_lines):
        return None  # conditions 2 and 3
    if not _quoted_lines_agree(data, lines, data_lines, table):
        return None  # condition 4
    return table
