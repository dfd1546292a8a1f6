"""What an ingest run did, and what the store holds: plain records that never carry a cell value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from commonground.ingest.store import open_reader, run_sql

FileStatus = Literal["loaded", "refused", "already_loaded"]


@dataclass(frozen=True)
class FileResult:
    """One file of a run. Counts are what this run read from it (all 0 unless ``loaded``)."""

    file: str
    feed: str | None
    status: FileStatus
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_with_warnings: int = 0
    warnings: int = 0
    rows_new_versions: int = 0
    """Accepted rows that are a new version of an earlier record (the same ``record_id``, other values)."""
    rows_unchanged: int = 0
    """Accepted rows identical to the current version of their record (nothing new written); in a retraction list,
    records already retracted."""
    rows_retracted: int = 0
    """A retraction list's records retracted by this file."""
    batch_id: str | None = None
    error: str | None = None
    """Why a refused file was refused: names the file's problem, never a value."""

    def note(self) -> str:
        """The counts that need words: new versions, retractions, unchanged rows (the table's last column)."""
        return versions_note(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The file's entry in ``commonground ingest --json``."""
        entry: dict[str, Any] = {
            "file": self.file,
            "feed": self.feed,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "rows_with_warnings": self.rows_with_warnings,
            "warnings": self.warnings,
            "rows_new_versions": self.rows_new_versions,
            "rows_unchanged": self.rows_unchanged,
            "rows_retracted": self.rows_retracted,
        }
        if self.status == "refused":
            entry["error"] = self.error
        return entry


@dataclass(frozen=True)
class IngestResult:
    run_id: str
    source: str
    """The source directory's name only (not its full path)."""
    started_at: datetime
    finished_at: datetime
    files: tuple[FileResult, ...]

    @property
    def ok(self) -> bool:
        """No file was refused (a CLI may exit non-zero otherwise)."""
        return all(f.status != "refused" for f in self.files)

    def totals(self) -> dict[str, int]:
        statuses = [f.status for f in self.files]
        return {
            "files": len(self.files),
            "loaded": statuses.count("loaded"),
            "already_loaded": statuses.count("already_loaded"),
            "refused": statuses.count("refused"),
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_accepted": sum(f.rows_accepted for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "rows_with_warnings": sum(f.rows_with_warnings for f in self.files),
            "warnings": sum(f.warnings for f in self.files),
            "rows_new_versions": sum(f.rows_new_versions for f in self.files),
            "rows_unchanged": sum(f.rows_unchanged for f in self.files),
            "rows_retracted": sum(f.rows_retracted for f in self.files),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": self.finished_at.isoformat(timespec="seconds"),
            "seconds": round((self.finished_at - self.started_at).total_seconds(), 3),
            "files": [f.to_dict() for f in self.files],
            "totals": self.totals(),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The document ``commonground ingest --json`` prints."""
        return json.dumps(self.to_dict(), indent=indent)

    def table(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """Column headings and rows for a short human table, one row per file (the last says why
        a file was refused)."""
        headings: tuple[str, ...] = ("file", "feed", "status", "read", "accepted", "quarantined", "warnings", "note")
        rows: list[tuple[str, ...]] = [
            (
                f.file,
                f.feed or "-",
                f.status.replace("_", " "),
                f"{f.rows_read:,}",
                f"{f.rows_accepted:,}",
                f"{f.rows_quarantined:,}",
                f"{f.warnings:,}",
                f.error or f.note(),
            )
            for f in self.files
        ]
        return headings, rows


def versions_note(entry: dict[str, Any]) -> str:
    """A loaded file's rows that were not simply new records, in words (#16): "3 new versions of an earlier record;
    2 unchanged", from a file's entry of the ``--json`` document; empty when there are none."""
    parts = []
    if n := entry.get("rows_new_versions", 0):
        parts.append(f"{n:,} new version{'' if n == 1 else 's'} of an earlier record")
    if n := entry.get("rows_retracted", 0):
        parts.append(f"{n:,} record{'' if n == 1 else 's'} retracted")
    if n := entry.get("rows_unchanged", 0):
        parts.append(f"{n:,} unchanged")
    return "; ".join(parts)


@dataclass(frozen=True)
class BatchReport:
    """One loaded batch (one file's content) as the store records it."""

    batch_id: str
    feed: str
    file_name: str
    run_id: str
    loaded_at: datetime
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_with_warnings: int
    warnings: int
    rows_new_versions: int = 0
    rows_unchanged: int = 0
    rows_retracted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "loaded_at": self.loaded_at.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class QuarantinedRow:
    """One reason one row was quarantined. ``field`` is None when the row as a whole is broken."""

    file: str
    feed: str
    batch_id: str
    row_number: int
    field: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RowWarning:
    """One warning about a row that was loaded: the field was blanked (a bad or out-of-order optional value, or a
    date of birth the partner did not have) or kept with a caution (formula-like text). Never the cell's value."""

    file: str
    feed: str
    batch_id: str
    row_number: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ingest_report(*, data_dir: Path) -> list[BatchReport]:
    """Every batch loaded so far, oldest first, with its counts. Opens the store read-only."""
    con = open_reader(data_dir)
    if con is None:
        return []
    try:
        have = {
            str(c)
            for (c,) in run_sql(
                con, "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", ["ingest_batches"]
            )
        }
        counts = ", ".join(  # a store last written before #16 has none of these yet: 0 each
            f"coalesce({c}, 0)" if c in have else "0" for c in ("rows_new_versions", "rows_unchanged", "rows_retracted")
        )
        rows = run_sql(
            con,
            "SELECT batch_id, feed, file_name, run_id, loaded_at, rows_read, rows_accepted, rows_quarantined, "
            f"rows_with_warnings, warnings, {counts} FROM ingest_batches ORDER BY loaded_at, file_name",
        )
    finally:
        con.close()
    return [BatchReport(*row) for row in rows]


def quarantine_rows(*, data_dir: Path, feed: str | None = None, limit: int = 100) -> list[QuarantinedRow]:
    """Quarantined rows (file, row, field, reason; never the cell values), in load and row order."""
    con = open_reader(data_dir)
    if con is None:
        return []
    try:
        rows = run_sql(
            con,
            "SELECT b.file_name, q.feed, q.batch_id, q.row_number, q.field, q.reason "
            "FROM quarantine q JOIN ingest_batches b USING (batch_id) "
            "WHERE ? IS NULL OR q.feed = ? ORDER BY b.loaded_at, b.file_name, q.row_number, q.field NULLS FIRST "
            "LIMIT ?",
            [feed, feed, max(limit, 0)],
        )
    finally:
        con.close()
    return [QuarantinedRow(*row) for row in rows]


def warning_rows(
    *, data_dir: Path, feed: str | None = None, field: str | None = None, limit: int = 100
) -> list[RowWarning]:
    """Warnings on loaded rows (file, row, field, reason; never the cell values), in load and row order; only one
    feed's or one field's if given."""
    con = open_reader(data_dir)
    if con is None:
        return []
    try:
        rows = run_sql(
            con,
            "SELECT b.file_name, w.feed, w.batch_id, w.row_number, w.field, w.reason "
            "FROM ingest_warnings w JOIN ingest_batches b USING (batch_id) "
            "WHERE (? IS NULL OR w.feed = ?) AND (? IS NULL OR w.field = ?) "
            "ORDER BY b.loaded_at, b.file_name, w.row_number, w.field LIMIT ?",
            [feed, feed, field, field, max(limit, 0)],
        )
    finally:
        con.close()
    return [RowWarning(*row) for row in rows]
