"""Read a feed file, CSV or Parquet, into chunks of raw text cells, losing nothing.

CSV is read with Python's ``csv`` module (strict quoting), decoding UTF-8 with
``errors='surrogateescape'``: bytes that are not UTF-8 survive as lone surrogates in the cells
that hold them, and ``parse_cell`` rejects exactly those cells. A UTF-8 byte-order mark is
dropped. Where :mod:`commonground.ingest.fastcsv` can show that pyarrow's much faster reader gives
exactly the same rows and row numbers for a chunk, that is used for the chunk instead. Either way a
CSV file is read a chunk at a time (:mod:`commonground.ingest.window`), never held whole.

Rows are numbered by the line of the file they start on, the header being line 1, as a text
editor counts them. Parquet columns are turned into text (dates in ISO form) so that both kinds of
file go through the same checks; a Parquet row's number is its position + 1, as if the header
were row 1.

Nothing here ever puts a cell's value into a message.
"""

from __future__ import annotations

import csv
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from commonground.ingest.cells import strings_to_arrow, utf8_ok
from commonground.ingest.fastcsv import read_rows
from commonground.ingest.window import LineWindow

if TYPE_CHECKING:
    from _csv import Reader

CHUNK_ROWS = 100_000
"""Rows validated and written at a time."""

FAST_CSV = True
"""Read CSV with pyarrow where :mod:`commonground.ingest.fastcsv` can show the result is the same."""

FAST_CHUNK_BYTES = 128 * 2**20
"""The most bytes a chunk's rows may take for the fast path to read them; a chunk of longer rows is read by the
robust reader, a line at a time, which ends a chunk once its cells hold this many characters (never more than the
fast path's bytes for the same rows, so both readers cut a file into the same chunks), whatever the row count: a
file of long rows is held a bounded stretch at a time (#18)."""

FIELD_LIMIT = 64 * 2**20
"""The longest cell, in characters, the CSV reader holds in memory. A longer one (a quote that
never closes, or a runaway field) ends its row as a broken row; reading goes on at the next line."""

MAX_CELL_BYTES = 2**20
"""The longest Parquet text cell, in bytes, that ingest reads: a longer one refuses the file (no feed column holds
anything near this; a file that does is broken or hostile)."""

MAX_ROW_BYTES = 256 * 2**10
"""The most a Parquet row may hold once decompressed, on average over a row group (from the file's own metadata,
before anything is read). A few hundred bytes is usual; a file over this is refused, because a small compressed
file can otherwise expand to gigabytes (a 5 KB file of 2,000 rows of 17 repeated 20 KB strings expands to
680 MB, and took 9.9 GB to check)."""

MAX_FILE_BYTES = 16 * 2**30
"""The most a whole Parquet file may hold once decompressed (from its metadata)."""

MAX_BATCH_BYTES = 64 * 2**20
"""About how much decompressed data a Parquet file is read in at a time: fewer rows a batch for wider rows, so
that memory stays bounded whatever the file holds."""

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


class FileRefused(Exception):
    """The whole file is refused. ``reason`` names what is wrong and never holds a cell value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BrokenRow:
    """A row that cannot be lined up with the header: quarantined as a whole."""

    row_number: int
    reason: str
    raw: str
    """JSON: ``{"cells": [...]}`` when the row parsed, ``{"text": "..."}`` when it did not."""


@dataclass
class RawChunk:
    """Up to CHUNK_ROWS rows of one file: the rows that line up with the header, by column, and
    the broken rows, each with their row numbers."""

    row_numbers: np.ndarray
    columns: dict[str, pa.Array]
    """Header name -> string column (null: no value, as Parquet can say)."""
    odd_cells: dict[str, dict[int, str]] = field(default_factory=dict)
    """Cells Arrow cannot hold (bytes that are not UTF-8), by column and position; null in ``columns``."""
    broken: list[BrokenRow] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.row_numbers)

    def cell(self, name: str, index: int) -> str | None:
        odd = self.odd_cells.get(name)
        if odd and index in odd:
            return odd[index]
        value = self.columns[name][index].as_py()
        return value if value is None else str(value)

    def raw_json(self, header: list[str], index: int) -> str:
        return cells_json([self.cell(name, index) for name in header])


def cells_json(cells: list[str | None]) -> str:
    """The raw cells of a row as JSON (ASCII, so stray bytes survive as ``\\udcXX`` escapes)."""
    return json.dumps({"cells": cells}, ensure_ascii=True)


def normalise_header(name: str) -> str:
    return name.strip().lower()


class FeedFile(ABC):
    """A feed file opened for reading: its normalised header, and its rows in chunks."""

    header: list[str]
    expected_rows: int | None
    """Rows to expect, for progress: the line count less the header for CSV (an estimate)."""

    @abstractmethod
    def chunks(self) -> Iterator[RawChunk]:
        """The rows, CHUNK_ROWS at a time, in file order."""

    @abstractmethod
    def close(self) -> None:
        """Release the file."""


def open_feed_file(path: Path, *, line_count: int | None = None, chunk_rows: int | None = None) -> FeedFile:
    """Open a CSV or Parquet feed file; raises FileRefused when no rows can be read at all."""
    rows = chunk_rows or CHUNK_ROWS
    if path.suffix.lower() == ".parquet":
        return ParquetFeedFile(path, chunk_rows=rows)
    return CsvFeedFile(path, line_count=line_count, chunk_rows=rows)


def _csv_reason(error: csv.Error) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return "a quoted cell that starts on this row never closes: the rest of the file is this one broken row"
    if "field larger than field limit" in message:
        return (
            f"a cell longer than {FIELD_LIMIT:,} characters (often a quote that never closes); "
            "reading went on at the next line"
        )
    if "expected after" in message:
        return "a closing quote is followed by other characters before the next comma"
    return "the row cannot be read as CSV"


class _LineFetcher:
    """Fetches the raw text of given lines, for rows the CSV reader could not parse. It only moves
    forward through its own handle on the file, so the cost is at most one more pass."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None
        self._line = 0

    def text(self, first: int, last: int) -> str:
        if self._handle is None:
            self._handle = self._path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        parts: list[str] = []
        size = 0
        for line in self._handle:
            self._line += 1
            if self._line >= first and size <= FIELD_LIMIT:
                parts.append(line)
                size += len(line)
            if self._line >= last:
                break
        return "".join(parts)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


class CsvFeedFile(FeedFile):
    def __init__(self, path: Path, *, line_count: int | None, chunk_rows: int) -> None:
        self._path = path
        self._chunk_rows = chunk_rows
        with path.open("rb") as probe:
            start = probe.read(4)
        for bom, encoding in _BOMS.items():
            if start.startswith(bom):
                raise FileRefused(f"the file is encoded as {encoding}; feeds must be UTF-8 text")
        self._previous_limit = csv.field_size_limit(FIELD_LIMIT)  # put back by close()
        self._handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        self._reader = csv.reader(self._handle, strict=True)
        self._fetcher = _LineFetcher(path)
        self._last_line = 0
        self.header = self._read_header()
        self.expected_rows = None if line_count is None else max(line_count - self._last_line, 0)

    def _read_header(self) -> list[str]:
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                self.close()
                raise FileRefused("the file is empty: there is no header row") from None
            except csv.Error:
                self.close()
                raise FileRefused("the header row cannot be read as CSV") from None
            self._last_line = self._reader.line_num
            if cells:
                break
        if not all(utf8_ok(c) for c in cells):
            self.close()
            raise FileRefused("the header row holds bytes that are not UTF-8; feeds must be UTF-8 text")
        return [normalise_header(c) for c in cells]

    def chunks(self) -> Iterator[RawChunk]:
        if FAST_CSV and self._last_line == 1:  # the header is line 1, one line: line 2 starts a row (condition 1)
            yield from self._mixed_chunks()
        else:
            yield from self._robust_chunks()

    def _mixed_chunks(self) -> Iterator[RawChunk]:
        """Each chunk by the fast path where it can show the rows are the robust reader's, else by the robust
        reader. Either way a chunk is the next ``chunk_rows`` rows (broken ones included) and ends where a row
        does, so the chunks are those the robust reader alone would give, and the next starts on a row."""
        with self._path.open("rb") as handle:
            window = LineWindow(handle, offset=0, line=1)
            window.skip_lines(1)  # the header
            while not window.exhausted:
                stretch = window.peek_rows(self._chunk_rows, limit=FAST_CHUNK_BYTES)
                table = None if stretch is None else read_rows(*stretch, len(self.header), field_limit=FIELD_LIMIT)
                if stretch is not None and table is not None:
                    data, lines = stretch
                    numbers = window.line + np.flatnonzero(~lines.blank).astype(np.int64)
                    window.advance(len(data), len(lines.starts))
                    columns = {name: table.column(i).combine_chunks() for i, name in enumerate(self.header)}
                    yield RawChunk(numbers, columns)
                    continue
                chunk, lines_read = self._robust_chunk_at(window.offset, window.line)
                window.skip_lines(lines_read)
                if chunk is not None:
                    yield chunk

    def _robust_chunk_at(self, offset: int, line: int) -> tuple[RawChunk | None, int]:
        """The robust reader's next chunk from ``offset``, where line ``line`` starts a row, and how many lines it
        read. Decoding starts afresh there, as it may: a line starts after a \n or \r, where no UTF-8 sequence
        can be left open."""
        with self._path.open("rb") as raw:
            raw.seek(offset)
            with io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="") as text:
                reader = csv.reader(text, strict=True)
                return self._robust_chunk(reader, line - 1), reader.line_num

    def _robust_chunks(self) -> Iterator[RawChunk]:
        while (chunk := self._robust_chunk(self._reader, 0)) is not None:
            yield chunk

    def _robust_chunk(self, reader: Reader, before: int) -> RawChunk | None:
        """The next ``chunk_rows`` rows (broken ones included) from ``reader``, whose line n is line ``before`` + n
        of the file; None when it has no more."""
        width = len(self.header)
        rows: list[list[str]] = []
        numbers: list[int] = []
        broken: list[BrokenRow] = []
        held = 0  # characters of the cells taken: a chunk of long rows ends early, so memory is bounded by bytes too
        while len(rows) + len(broken) < self._chunk_rows and held < FAST_CHUNK_BYTES:
            start = before + reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                text = self._fetcher.text(start, before + reader.line_num)
                broken.append(BrokenRow(start, _csv_reason(error), json.dumps({"text": text}, ensure_ascii=True)))
                continue
            if not cells:
                continue  # a blank line: not a row
            if len(cells) != width:
                reason = f"row has {len(cells)} cells, header has {width}"
                broken.append(BrokenRow(start, reason, cells_json(list(cells))))
            else:
                rows.append(cells)
                numbers.append(start)
            held += sum(map(len, cells))
        return self._chunk(rows, numbers, broken) if rows or broken else None

    def _chunk(self, rows: list[list[str]], numbers: list[int], broken: list[BrokenRow]) -> RawChunk:
        columns: dict[str, pa.Array] = {}
        odd_cells: dict[str, dict[int, str]] = {}
        by_column = list(zip(*rows, strict=True)) if rows else [() for _ in self.header]
        for name, values in zip(self.header, by_column, strict=True):
            columns[name], odd = strings_to_arrow(values)
            if odd:
                odd_cells[name] = odd
        return RawChunk(np.asarray(numbers, dtype=np.int64), columns, odd_cells, broken)

    def close(self) -> None:
        self._handle.close()
        self._fetcher.close()
        csv.field_size_limit(self._previous_limit)


def looks_like_column(name: str) -> bool:
    """Whether a header name may be quoted in a message: short, letters, digits and underscores (anything else
    could be a row of data where the header should be)."""
    return len(name) <= 64 and name.replace("_", "a").isascii() and name.replace("_", "a").isalnum()


def column_label(name: str, index: int) -> str:
    """A column as a message names it: by name where that looks like a column name, else by position."""
    return f"'{name}'" if looks_like_column(name) else f"at position {index + 1}"


def _readable(kind: pa.DataType) -> bool:
    """Whether :func:`_as_text` takes a Parquet column of this type: scalars, and lists of scalars."""
    if pa.types.is_dictionary(kind):
        return _readable(kind.value_type)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _scalar(kind.value_type)
    return bool(pa.types.is_null(kind)) or _scalar(kind)


def _scalar(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
    )


def _check_sizes(metadata: pq.FileMetaData) -> int:
    """Refuse a file whose rows would expand beyond the limits; returns the rows to read a batch."""
    total = 0
    widest = 1.0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        total += group.total_byte_size
        if group.num_rows:
            widest = max(widest, group.total_byte_size / group.num_rows)
    if widest > MAX_ROW_BYTES:
        raise FileRefused(
            f"its rows expand to {widest / 2**10:,.0f} KiB each once decompressed (at most "
            f"{MAX_ROW_BYTES // 2**10} KiB is read)"
        )
    if total > MAX_FILE_BYTES:
        raise FileRefused(
            f"it expands to {total / 2**30:,.1f} GiB once decompressed (at most {MAX_FILE_BYTES // 2**30} GiB is read)"
        )
    return max(1, int(MAX_BATCH_BYTES // widest))


def _check_batch(batch: pa.RecordBatch, header: list[str]) -> None:
    """Checked again on what was actually read, in case the file's metadata understated it."""
    if batch.num_rows and batch.nbytes / batch.num_rows > 2 * MAX_ROW_BYTES:
        raise FileRefused(f"its rows hold more than {MAX_ROW_BYTES // 2**10} KiB each once decompressed")
    for index, name in enumerate(header):
        column = batch.column(index)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        values = column.dictionary if pa.types.is_dictionary(column.type) else column
        longest = pc.max(pc.binary_length(values)).as_py() if len(values) else None
        if longest is not None and longest > MAX_CELL_BYTES:
            raise FileRefused(
                f"a cell of the column {column_label(name, index)} holds more than "
                f"{MAX_CELL_BYTES // 2**20} MiB of text"
            )


def _as_text(array: pa.Array) -> pa.Array:
    """A Parquet column as text cells, in the forms the contracts read."""
    kind = array.type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_dictionary(kind):
        return _as_text(array.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.cast(array, pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(array, "true", "false")
    if pa.types.is_timestamp(kind):
        # Whole seconds, as the contracts read them (Arrow's %S would add the fraction).
        seconds = pc.cast(array, pa.timestamp("s", tz=kind.tz), safe=False)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_date(kind):
        return pc.strftime(array, format="%Y-%m-%d")
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pc.binary_join(pc.cast(array, pa.list_(pa.string())), ";")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pc.cast(array, pa.string())
    raise FileRefused(f"a column holds Parquet data of type {kind}, which no feed column takes")


class ParquetFeedFile(FeedFile):
    def __init__(self, path: Path, *, chunk_rows: int) -> None:
        self._chunk_rows = chunk_rows
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError):
            raise FileRefused("the file is not a readable Parquet file") from None
        self.header = [normalise_header(n) for n in self._file.schema_arrow.names]
        self.expected_rows = self._file.metadata.num_rows
        if not self.header:
            raise FileRefused("the Parquet file has no columns")
        for index, (name, kind) in enumerate(zip(self.header, self._file.schema_arrow.types, strict=True)):
            if not _readable(kind):
                raise FileRefused(
                    f"the column {column_label(name, index)} holds Parquet data of type {kind}, "
                    "which no feed column takes"
                )
        self._batch_rows = min(chunk_rows, _check_sizes(self._file.metadata))

    def chunks(self) -> Iterator[RawChunk]:
        done = 0
        for batch in self._file.iter_batches(batch_size=self._batch_rows):
            _check_batch(batch, self.header)
            columns = {name: _as_text(batch.column(i)) for i, name in enumerate(self.header)}
            numbers = np.arange(done + 2, done + 2 + batch.num_rows, dtype=np.int64)
            done += batch.num_rows
            yield RawChunk(numbers, columns)

    def close(self) -> None:
        self._file.close()
