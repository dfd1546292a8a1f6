"""Read a partner's retraction list (``<feed>.retractions.csv``, :mod:`commonground.contracts.retractions`) into the
store: each listed record that is held is retracted (its current version moves to the history, marked), the list
itself is kept, and rows that cannot be applied are quarantined with a reason, as a feed's rows are.

A row is quarantined when a cell fails its column (a bad date, a reason that is not a code), the ``record_id``
repeats an earlier row of the list, or no record of the feed has that ``record_id`` (never loaded: there is
nothing to retract). A record already retracted by an earlier list is counted ``unchanged``: partners may send
their whole list each time. Rows read = accepted (retracted now, or already) + quarantined, as for a feed.

The list is small (a few rows a month); it is read whole, with the standard CSV reader, after the same checks on
the file as a feed's: a regular file, opened without following a link, at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from commonground.contracts.retractions import COLUMNS
from commonground.contracts.spec import FeedContract
from commonground.contracts.values import ValueProblem, parse_cell
from commonground.ingest.reader import FileRefused
from commonground.ingest.store import StoreWriter
from commonground.ingest.validate import ChunkOutcome, QuarantineEntry, store_columns

MAX_BYTES = 64 * 2**20
"""A retraction list is a few rows; a file this big is not one."""

NOT_HELD = "no record of the feed has this record_id (never loaded): nothing to retract"


@dataclass(frozen=True)
class RetractionCounts:
    rows_read: int
    retracted: int
    already_retracted: int
    quarantined: int

    @property
    def accepted(self) -> int:
        return self.retracted + self.already_retracted


@dataclass(frozen=True)
class _Row:
    row_number: int
    cells: list[str]


def _read_text(path: Path) -> str:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise FileRefused("not a regular file")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FileRefused(f"larger than {MAX_BYTES // 2**20} MiB: not a retraction list")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused("UTF-16 or UTF-32 text; send it as UTF-8")
    return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")


def _rows(text: str) -> tuple[list[str], list[_Row]]:
    """The normalised header and the data rows, each with the line it starts on (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[_Row] = []
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                continue
            rows.append(_Row(start, cells))
    except csv.Error as error:
        raise FileRefused(f"the CSV cannot be read past line {reader.line_num} ({type(error).__name__})") from None
    if header is None:
        raise FileRefused("the file is empty (no header row)")
    expected = sorted(c.name for c in COLUMNS)
    if sorted(header) != expected:
        raise FileRefused(f"a retraction list has exactly the columns {', '.join(c.name for c in COLUMNS)}")
    return header, rows


def load_retractions(writer: StoreWriter, *, path: Path, feed: FeedContract, batch_id: str) -> RetractionCounts:
    """Check the list at ``path`` and apply it to ``feed`` in the run's transaction."""
    header, rows = _rows(_read_text(path))
    quarantined: list[QuarantineEntry] = []
    good: dict[str, tuple[int, object, object]] = {}  # record_id -> (row, retracted_on, reason)
    broken = 0
    for row in rows:
        raw = json.dumps({"cells": row.cells}, ensure_ascii=True)
        problems: list[tuple[str | None, str]] = []
        parsed: dict[str, object] = {}
        if len(row.cells) != len(header):
            problems.append((None, f"row has {len(row.cells)} cells, header has {len(header)}"))
        else:
            for column in COLUMNS:
                try:
                    value = parse_cell(row.cells[header.index(column.name)].strip() or None, column)
                except ValueProblem as problem:
                    problems.append((column.name, problem.reason))
                    continue
                if value is None:
                    problems.append((column.name, "blank, but the column requires a value"))
                parsed[column.name] = value
        record_id = str(parsed.get("record_id") or "")
        if not problems and record_id in good:
            problems.append(("record_id", f"repeats the value on row {good[record_id][0]} of this file"))
        if problems:
            broken += 1
            quarantined += [QuarantineEntry(row.row_number, name, reason, raw) for name, reason in problems]
            continue
        good[record_id] = (row.row_number, parsed["retracted_on"], parsed["reason"])
    held, already = writer.current_and_retracted(feed, list(good))
    for record_id in sorted(set(good) - held - already, key=lambda r: good[r][0]):
        number = good.pop(record_id)[0]
        broken += 1
        raw = next(json.dumps({"cells": r.cells}, ensure_ascii=True) for r in rows if r.row_number == number)
        quarantined.append(QuarantineEntry(number, "record_id", NOT_HELD, raw))
    to_retract = {r: v for r, v in good.items() if r in held}
    listed = pa.table(
        {
            "row_number": pa.array([v[0] for v in to_retract.values()], pa.int64()),
            "record_id": pa.array(list(to_retract), pa.string()),
            "retracted_on": pa.array([v[1] for v in to_retract.values()], pa.date32()),
            "reason": pa.array([v[2] for v in to_retract.values()], pa.string()),
        }
    )
    retracted = writer.retract(feed=feed, batch_id=batch_id, retractions=listed)
    empty = pa.schema(store_columns(feed)).empty_table()
    writer.write_chunk(
        feed=feed,
        batch_id=batch_id,
        outcome=ChunkOutcome(accepted=empty, quarantined=sorted(quarantined, key=lambda e: e.row_number)),
    )
    return RetractionCounts(
        rows_read=len(rows), retracted=retracted, already_retracted=len(good) - len(to_retract), quarantined=broken
    )
