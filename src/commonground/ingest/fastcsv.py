"""A fast path for reading well-behaved CSV files with pyarrow, used only when it is provably the same.

Python's ``csv`` module (the robust reader in :mod:`commonground.ingest.reader`) is the reference:
strict quoting, rows numbered by the line they start on, blank lines skipped, bytes that are not
UTF-8 kept. pyarrow's CSV reader is several times faster and uses every core, but differs on hostile
input (it accepts ``"abc"def``, does not number lines, cannot keep stray bytes). So it is used for a
file only when all of these hold, and otherwise the file is read by the robust reader:

1. the header is on line 1 and is a single line;
2. pyarrow reads the file without error: every row has the header's number of cells, every cell is
   valid UTF-8, no row is longer than pyarrow's block (nor than the robust reader's field limit);
3. pyarrow finds exactly one row for each non-blank line after the header (so no row spans lines,
   and every blank line is one both readers skip), which also gives each row its line number;
4. every line holding a quote character, parsed on its own by the robust reader, gives exactly the
   cells pyarrow gave for that row (and does not fail, as a quote left open would).

A line without a quote character is split on commas alone by both readers, so (4) covers every
place where quoting rules could make them differ. ``tests/ingest/test_fastcsv.py`` checks with
hypothesis that the two readers agree on random and hostile files.
"""

from __future__ import annotations

import csv
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from commonground.ingest.cells import strings_to_arrow

_SCAN_BLOCK = 16 * 2**20
_BLOCK_SIZE = 4 * 2**20
"""pyarrow's block: a row longer than this makes pyarrow fail, and the robust reader takes over."""

_NL, _CR, _QUOTE = 10, 13, 34


@dataclass(frozen=True)
class _Lines:
    """Where each line of a file starts and ends (terminator excluded), and which hold a quote."""

    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray


def _scan(data: np.ndarray) -> _Lines:
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
        starts = starts[:-1]  # the file ends with a terminator: no last, unterminated line
    else:
        ends = np.concatenate([ends, [size]])
    quote_positions = np.concatenate(quotes) if quotes else np.zeros(0, dtype=np.int64)
    quoted = np.zeros(len(starts), dtype=bool)
    if len(quote_positions):
        quoted[np.searchsorted(starts, quote_positions, side="right") - 1] = True
    return _Lines(starts=starts, ends=ends.astype(np.int64), quoted=quoted)


def _read_arrow(path: Path, width: int) -> pa.Table | None:
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None


def _quoted_lines_agree(raw: mmap.mmap, lines: _Lines, data_lines: np.ndarray, table: pa.Table) -> bool:
    """Each data line holding a quote, parsed alone by Python's csv module, gives pyarrow's cells."""
    rows = np.flatnonzero(lines.quoted[data_lines])
    if len(rows) == 0:
        return True
    picked = data_lines[rows]
    spans = zip(lines.starts[picked].tolist(), lines.ends[picked].tolist(), strict=True)
    try:
        texts = b"\n".join([raw[start:end] for start, end in spans]).decode("utf-8").split("\n")
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


def read_fast(path: Path, width: int, *, field_limit: int) -> tuple[pa.Table, np.ndarray] | None:
    """The file's data rows as a table of strings and each row's line number, or None when the fast
    path cannot show it gives exactly what the robust reader gives."""
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        data = np.frombuffer(raw, dtype=np.uint8)
        try:
            lines = _scan(data)
        finally:
            del data  # release the buffer before the map closes
        blank = lines.ends == lines.starts
        if len(lines.starts) == 0 or blank[0]:
            return None  # condition 1: the header is on line 1
        if int((lines.ends - lines.starts).max()) > field_limit:
            return None  # the robust reader would cut a cell this long short
        data_lines = np.flatnonzero(~blank)[1:]
        table = _read_arrow(path, width)
        if table is None or table.num_rows != len(data_lines):
            return None  # conditions 2 and 3
        if not _quoted_lines_agree(raw, lines, data_lines, table):
            return None  # condition 4
    return table, (data_lines + 1).astype(np.int64)
