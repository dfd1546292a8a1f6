"""The analytical store of ingested batches: one DuckDB file, ``<data_dir>/analytical/ingest.duckdb``.

Tables (documented for the linkage stage in ``docs/ingest.md``):

- ``feed_<name>``: the **current** version of each record of each feed (what a build reads), standardised and typed,
  in contract order, then ``given_name_key`` and ``family_name_key`` (person-level feeds), ``_batch_id`` and
  ``_row_number``;
- ``history_<name>``: every version that is no longer current (#16), with the same columns and then ``_ended_by``
  (the batch that ended it), ``_ended_as`` (``new_version`` or ``retracted``) and ``_ended_at``: nothing a partner
  sent is lost before its retention ends;
- ``ingest_runs``, ``ingest_batches``, ``quarantine``, ``ingest_warnings``, ``retractions``.

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
    """CREATE TABLE IF NOT EXISTS retractions (
        batch_id VARCHAR NOT NULL, feed VARCHAR NOT NULL, row_number BIGINT NOT NULL, record_id VARCHAR NOT NULL,
        retracted_on DATE NOT NULL, reason VARCHAR NOT NULL)""",
    # Stores made before record versions (#16) gain the counts; their old batches count 0 of each.
    "ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS rows_new_versions BIGINT DEFAULT 0",
    "ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS rows_unchanged BIGINT DEFAULT 0",
    "ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS rows_retracted BIGINT DEFAULT 0",
)

NEW_VERSION = "new_version"
RETRACTED = "retracted"
"""How a version stopped being current (``history_<name>._ended_as``)."""

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


def history_table(feed: FeedContract) -> str:
    return f"history_{feed.name}"


def _feed_ddl(feed: FeedContract) -> str:
    columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, kind in store_columns(feed))
    return f"CREATE TABLE IF NOT EXISTS {feed_table(feed)} ({columns})"


def _history_ddl(feed: FeedContract) -> str:
    columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, kind in store_columns(feed))
    return (
        f"CREATE TABLE IF NOT EXISTS {history_table(feed)} ({columns}, "
        "_ended_by VARCHAR NOT NULL, _ended_as VARCHAR NOT NULL, _ended_at TIMESTAMP NOT NULL)"
    )


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement to completion (DuckDB 2 allows one unfinished result per connection)."""
    return con.execute(sql, params).fetchall()


def run_on_arrow(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table, sql: str) -> list[tuple[Any, ...]]:
    """Run one statement in which the table ``name`` is ``rows``. Not ``con.register``: inside a transaction DuckDB
    keeps a registered table alive until the transaction ends, unregistered or not (duckdb-python issue 469), and
    an ingest run is one transaction, so every chunk would stay in memory to the end (1 GB at 1,000,000 people)."""
    result = con.from_arrow(rows).query(name, sql)
    return [] if result is None else result.fetchall()


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
    """Open (creating if need be) the store for an ingest run. Tables are made by ``begin_run``. DuckDB may hold 1 GB:
    a run is one transaction, and what it has written waits in DuckDB's memory up to its limit (530 MB at
    1,000,000 people); beyond that it goes to disk, so ingest stays under 2 GB whatever the input (#18)."""
    path = store_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, config={"memory_limit": "1GB", "threads": "2"})
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
        tables = (*(_feed_ddl(feed) for feed in FEEDS.values()), *(_history_ddl(feed) for feed in FEEDS.values()))
        for statement in (*_BOOKKEEPING, *tables):
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

    def lookup(self, feed: FeedContract, column: str, values: pa.Array) -> dict[str, tuple[str, int, str]]:
        """Values of a unique column held by a current record, with the batch, row and record_id holding each."""
        if len(values) == 0 or column not in feed.column_names:
            return {}
        rows = run_on_arrow(
            self.con,
            "_wanted",
            pa.table({"v": values}),
            f'SELECT t."{column}", min_by(t._batch_id, t._row_number), min(t._row_number), '
            f"min_by(t.record_id, t._row_number) "
            f'FROM {feed_table(feed)} t SEMI JOIN _wanted w ON t."{column}" = w.v GROUP BY t."{column}"',
        )
        return {str(v): (str(b), int(r), str(k)) for v, b, r, k in rows}

    def unchanged(self, feed: FeedContract, rows: pa.Table) -> set[str]:
        """The record_ids of ``rows`` (the contract's columns) whose current version holds the same values in every
        column: a resent row that is not a new version. Compared in the store, column by column (NULL equals
        NULL), so a partner's full re-extract costs one join, not a Python loop."""
        if rows.num_rows == 0:
            return set()
        same = " AND ".join(f't."{c.name}" IS NOT DISTINCT FROM w."{c.name}"' for c in feed.columns)
        found = run_on_arrow(
            self.con,
            "_resent",
            rows,
            f"SELECT w.record_id FROM _resent w JOIN {feed_table(feed)} t ON t.record_id = w.record_id WHERE {same}",
        )
        return {str(r) for (r,) in found}

    def _end_versions(self, feed: FeedContract, record_ids: list[str], *, batch_id: str, ended_as: str) -> int:
        """Move the current version of each record to its history (ended by ``batch_id``); returns how many moved."""
        if not record_ids:
            return 0
        self.con.register("_ending", pa.table({"record_id": pa.array(record_ids, pa.string())}))
        try:
            run_sql(
                self.con,
                f"INSERT INTO {history_table(feed)} SELECT t.*, ?, ?, ? FROM {feed_table(feed)} t "
                "SEMI JOIN _ending e ON t.record_id = e.record_id",
                [batch_id, ended_as, datetime.now()],
            )
            moved = run_sql(
                self.con, f"DELETE FROM {feed_table(feed)} WHERE record_id IN (SELECT record_id FROM _ending)"
            )
        finally:
            self.con.unregister("_ending")
        return int(moved[0][0]) if moved else 0

    def retract(self, *, feed: FeedContract, batch_id: str, retractions: pa.Table) -> int:
        """Retract records (``retractions``: row_number, record_id, retracted_on, reason): each current version
        moves to the history marked retracted, so the next build leaves it out; the list is kept. Returns how many
        records were retracted."""
        rows = retractions.select(["row_number", "record_id", "retracted_on", "reason"])
        listed = pa.table(
            {
                "batch_id": pa.array([batch_id] * rows.num_rows, pa.string()),
                "feed": pa.array([feed.name] * rows.num_rows, pa.string()),
                **{name: rows.column(name) for name in rows.column_names},
            }
        )
        self._append("retractions", listed)
        return self._end_versions(feed, rows.column("record_id").to_pylist(), batch_id=batch_id, ended_as=RETRACTED)

    def current_and_retracted(self, feed: FeedContract, record_ids: list[str]) -> tuple[set[str], set[str]]:
        """Of ``record_ids``: those held as a current record, and those whose last version was retracted."""
        if not record_ids:
            return set(), set()
        self.con.register("_asked", pa.table({"record_id": pa.array(record_ids, pa.string())}))
        try:
            current = run_sql(self.con, f"SELECT record_id FROM {feed_table(feed)} SEMI JOIN _asked USING (record_id)")
            retracted = run_sql(
                self.con,
                f"SELECT record_id FROM {history_table(feed)} SEMI JOIN _asked USING (record_id) WHERE _ended_as = ?",
                [RETRACTED],
            )
        finally:
            self.con.unregister("_asked")
        held = {str(r) for (r,) in current}
        return held, {str(r) for (r,) in retracted} - held

    def write_chunk(self, *, feed: FeedContract, batch_id: str, outcome: ChunkOutcome) -> None:
        self._end_versions(feed, outcome.replaced, batch_id=batch_id, ended_as=NEW_VERSION)
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
        run_on_arrow(self.con, "_incoming", rows, f"INSERT INTO {table} SELECT * FROM _incoming")

    def record_batch(self, **batch: Any) -> None:
        names = ", ".join(batch)
        marks = ", ".join("?" for _ in batch)
        run_sql(self.con, f"INSERT INTO ingest_batches ({names}) VALUES ({marks})", list(batch.values()))

    def forget_batch(self, *, feed: FeedContract, batch_id: str) -> None:
        """Remove what a file that failed part-way had written (inside the run's transaction), and make the versions
        it had ended current again."""
        for table in (feed_table(feed), "quarantine", "ingest_warnings", "retractions"):
            key = "_batch_id" if table.startswith("feed_") else "batch_id"
            run_sql(self.con, f"DELETE FROM {table} WHERE {key} = ?", [batch_id])
        columns = ", ".join(f'"{name}"' for name, _ in store_columns(feed))
        run_sql(
            self.con,
            f"INSERT INTO {feed_table(feed)} SELECT {columns} FROM {history_table(feed)} WHERE _ended_by = ?",
            [batch_id],
        )
        run_sql(self.con, f"DELETE FROM {history_table(feed)} WHERE _ended_by = ?", [batch_id])
