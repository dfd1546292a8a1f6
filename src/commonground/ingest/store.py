"""The analytical store of ingested batches: one DuckDB file, ``<data_dir>/analytical/ingest.duckdb``.

Tables (documented for the linkage stage in ``docs/ingest.md``):

- ``feed_<name>``: the accepted rows of each feed, standardised and typed, in contract order, then
  ``given_name_key`` and ``family_name_key`` (person-level feeds), ``_batch_id`` and ``_row_number``;
- ``ingest_runs``, ``ingest_batches``, ``quarantine``, ``ingest_warnings``.

Identifiers come from the contracts (checked ``^[a-z][a-z0-9_]*$``); values are always bound or
passed as Arrow tables, never pasted into SQL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from commonground.contracts import FEEDS, FeedContract
from commonground.errors import UserError
from commonground.ingest.validate import ChunkOutcome, store_columns

STORE_FILE = Path("analytical") / "ingest.duckdb"

_SQL_TYPES = {
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
    pa.bool_(): "BOOLEAN",
    pa.int64(): "BIGINT",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.string(): "VARCHAR",
}

_BOOKKEEPING = (
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
        source VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingest_batches (
        batch_id VARCHAR PRIMARY KEY, feed VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL, file_format VARCHAR NOT NULL,
        header VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_accepted BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL, rows_with_warnings BIGINT NOT NULL, warnings BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR NOT NULL, feed VARCHAR NOT NULL, row_number BIGINT NOT NULL, field VARCHAR,
        reason VARCHAR NOT NULL, raw VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingest_warnings (
        batch_id VARCHAR NOT NULL, feed VARCHAR NOT NULL, row_number BIGINT NOT NULL,
        field VARCHAR NOT NULL, reason VARCHAR NOT NULL)""",
)

_QUARANTINE_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("feed", pa.string()),
        ("row_number", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
_WARNING_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("feed", pa.string()),
        ("row_number", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),
    ]
)


def store_path(data_dir: Path) -> Path:
    return data_dir / STORE_FILE


def feed_table(feed: FeedContract) -> str:
    return f"feed_{feed.name}"


def _feed_ddl(feed: FeedContract) -> str:
    columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, kind in store_columns(feed))
    return f"CREATE TABLE IF NOT EXISTS {feed_table(feed)} ({columns})"


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement to completion (DuckDB 2 allows one unfinished result per connection)."""
    return con.execute(sql, params).fetchall()


class StoreBusy(UserError):
    """Another process holds the analytical store (DuckDB allows one writer at a time)."""


def _connect(path: Path, **options: Any) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), **options)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise StoreBusy(
            f"the analytical store {path} is in use by another commonground command; try again when it has finished"
        ) from None


def open_writer(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if need be) the store for an ingest run. Tables are made by ``begin_run``."""
    path = store_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, config={"memory_limit": "3GB", "threads": "2"})
    run_sql(con, "SET enable_progress_bar = false")
    return con


def open_reader(data_dir: Path) -> duckdb.DuckDBPyConnection | None:
    """Open the store read-only, or ``None`` when nothing has been ingested yet."""
    path = store_path(data_dir)
    if not path.exists():
        return None
    con = _connect(path, read_only=True)
    run_sql(con, "SET enable_progress_bar = false")
    return con


class StoreWriter:
    """Writes one run inside a single transaction: all of it is there, or none of it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def begin_run(self, *, run_id: str, started_at: datetime, source: str) -> None:
        run_sql(self.con, "BEGIN TRANSACTION")
        for statement in (*_BOOKKEEPING, *(_feed_ddl(feed) for feed in FEEDS.values())):
            run_sql(self.con, statement)  # in the run's transaction too: a killed first run leaves no tables
        run_sql(self.con, "INSERT INTO ingest_runs VALUES (?, ?, NULL, ?)", [run_id, started_at, source])

    def finish_run(self, *, run_id: str, finished_at: datetime) -> None:
        run_sql(self.con, "UPDATE ingest_runs SET finished_at = ? WHERE run_id = ?", [finished_at, run_id])
        run_sql(self.con, "COMMIT")

    def abandon_run(self) -> None:
        run_sql(self.con, "ROLLBACK")

    def batch_loaded(self, batch_id: str) -> bool:
        found = run_sql(self.con, "SELECT count(*) FROM ingest_batches WHERE batch_id = ?", [batch_id])
        return bool(found[0][0])

    def lookup(self, feed: FeedContract, column: str, values: pa.Array) -> dict[str, tuple[str, int]]:
        """Values of a unique column already in the store, with the batch and row holding each."""
        if len(values) == 0 or column not in feed.column_names:
            return {}
        wanted = pa.table({"v": values})
        self.con.register("_wanted", wanted)
        try:
            rows = self.con.execute(
                f'SELECT t."{column}", min_by(t._batch_id, t._row_number), min(t._row_number) '
                f'FROM {feed_table(feed)} t SEMI JOIN _wanted w ON t."{column}" = w.v GROUP BY t."{column}"'
            ).fetchall()
        finally:
            self.con.unregister("_wanted")
        return {str(v): (str(b), int(r)) for v, b, r in rows}

    def write_chunk(self, *, feed: FeedContract, batch_id: str, outcome: ChunkOutcome) -> None:
        self._append(feed_table(feed), outcome.accepted)
        if outcome.quarantined:
            q = outcome.quarantined
            self._append(
                "quarantine",
                pa.table(
                    {
                        "batch_id": [batch_id] * len(q),
                        "feed": [feed.name] * len(q),
                        "row_number": [e.row_number for e in q],
                        "field": [e.field for e in q],
                        "reason": [e.reason for e in q],
                        "raw": [e.raw for e in q],
                    },
                    schema=_QUARANTINE_SCHEMA,
                ),
            )
        if outcome.warnings:
            w = outcome.warnings
            self._append(
                "ingest_warnings",
                pa.table(
                    {
                        "batch_id": [batch_id] * len(w),
                        "feed": [feed.name] * len(w),
                        "row_number": [p.row_number for p in w],
                        "field": [p.field for p in w],
                        "reason": [p.reason for p in w],
                    },
                    schema=_WARNING_SCHEMA,
                ),
            )

    def _append(self, table: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        self.con.register("_incoming", rows)
        try:
            run_sql(self.con, f"INSERT INTO {table} SELECT * FROM _incoming")
        finally:
            self.con.unregister("_incoming")

    def record_batch(self, **batch: Any) -> None:
        names = ", ".join(batch)
        marks = ", ".join("?" for _ in batch)
        run_sql(self.con, f"INSERT INTO ingest_batches ({names}) VALUES ({marks})", list(batch.values()))

    def forget_batch(self, *, feed: FeedContract, batch_id: str) -> None:
        """Remove what a file that failed part-way had written (inside the run's transaction)."""
        for table in (feed_table(feed), "quarantine", "ingest_warnings"):
            key = "_batch_id" if table.startswith("feed_") else "batch_id"
            run_sql(self.con, f"DELETE FROM {table} WHERE {key} = ?", [batch_id])
