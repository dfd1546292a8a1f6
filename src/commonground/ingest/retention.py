"""Retention of the ingest store (#16): a batch whose feed's period (:mod:`commonground.contracts.retention`) has
passed since it was loaded is removed, rows and all, and leaves a tombstone of counts in ``retention_tombstones``.
Retention overrides the immutability of batches: this is the one place a loaded batch is ever deleted.

What goes with an expired batch: its rows in ``feed_<name>`` (the records whose current version it holds) and in
``history_<name>`` (earlier versions it brought, however they ended), its quarantined rows and warnings, the list it
carried if it was a retraction list, and its ``ingest_batches`` row. The tombstone keeps the batch id, feed, when
it was loaded and removed, and how many rows of each kind went: never a value. One transaction: all of it, or none.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from commonground.contracts import FEEDS
from commonground.contracts.retention import RetentionSchedule
from commonground.ingest.store import feed_table, history_table, open_reader, open_writer, run_sql, store_path

TOMBSTONES = """CREATE TABLE IF NOT EXISTS retention_tombstones (
    batch_id VARCHAR PRIMARY KEY, feed VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL, removed_at TIMESTAMP NOT NULL,
    current_rows BIGINT NOT NULL, history_rows BIGINT NOT NULL, quarantined_rows BIGINT NOT NULL,
    warnings BIGINT NOT NULL, retractions BIGINT NOT NULL)"""


@dataclass(frozen=True)
class ExpiredBatch:
    """A batch past its feed's period, and what goes with it."""

    batch_id: str
    feed: str
    loaded_at: dt.datetime
    current_rows: int
    history_rows: int
    quarantined_rows: int
    warnings: int
    retractions: int

    @property
    def records(self) -> int:
        """Record versions removed (current and earlier)."""
        return self.current_rows + self.history_rows


def _local(moment: dt.datetime) -> dt.datetime:
    """``ingest_batches.loaded_at`` is the machine's local wall clock, naive: compare like with like."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _cutoffs(schedule: RetentionSchedule, now: dt.datetime) -> dict[str, dt.datetime]:
    """Per feed: a batch loaded before this moment is expired (a year is 365.25 days: leap years never shorten it)."""
    return {feed: _local(now) - dt.timedelta(days=round(p.years * 365.25)) for feed, p in schedule.feeds.items()}


_OWNED = (("quarantine", "batch_id"), ("ingest_warnings", "batch_id"), ("retractions", "batch_id"))
"""Bookkeeping tables whose rows belong to one batch."""


def expired_batches(
    con: duckdb.DuckDBPyConnection, schedule: RetentionSchedule, *, now: dt.datetime
) -> list[ExpiredBatch]:
    """The batches due for removal at ``now``, oldest first, with the rows each holds."""
    due: list[ExpiredBatch] = []
    for feed, cutoff in sorted(_cutoffs(schedule, now).items()):
        contract = FEEDS[feed]
        for batch_id, loaded_at in run_sql(
            con,
            "SELECT batch_id, loaded_at FROM ingest_batches WHERE feed = ? AND loaded_at < ? "
            "ORDER BY loaded_at, batch_id",
            [feed, cutoff],
        ):
            counts = [
                int(run_sql(con, f"SELECT count(*) FROM {table} WHERE {key} = ?", [batch_id])[0][0])
                for table, key in ((feed_table(contract), "_batch_id"), (history_table(contract), "_batch_id"), *_OWNED)
            ]
            due.append(ExpiredBatch(str(batch_id), feed, loaded_at, *counts))
    return sorted(due, key=lambda b: (b.loaded_at, b.batch_id))


def due_for_removal(*, data_dir: Path, schedule: RetentionSchedule, now: dt.datetime) -> list[ExpiredBatch]:
    """What ``apply_retention`` would remove at ``now`` (read-only)."""
    con = open_reader(data_dir)
    if con is None:
        return []
    try:
        return expired_batches(con, schedule, now=now)
    finally:
        con.close()


def apply_retention(*, data_dir: Path, schedule: RetentionSchedule, now: dt.datetime) -> list[ExpiredBatch]:
    """Remove every expired batch in one transaction, each leaving a tombstone; returns what was removed."""
    if not store_path(data_dir).exists():
        return []
    con = open_writer(data_dir)
    try:
        run_sql(con, "BEGIN TRANSACTION")
        run_sql(con, TOMBSTONES)
        due = expired_batches(con, schedule, now=now)
        for batch in due:
            contract = FEEDS[batch.feed]
            owned = ((feed_table(contract), "_batch_id"), (history_table(contract), "_batch_id"), *_OWNED)
            for table, key in (*owned, ("ingest_batches", "batch_id")):
                run_sql(con, f"DELETE FROM {table} WHERE {key} = ?", [batch.batch_id])
            run_sql(
                con,
                "INSERT INTO retention_tombstones VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    batch.batch_id,
                    batch.feed,
                    batch.loaded_at,
                    _local(now),
                    batch.current_rows,
                    batch.history_rows,
                    batch.quarantined_rows,
                    batch.warnings,
                    batch.retractions,
                ],
            )
        run_sql(con, "COMMIT")
    except BaseException:
        with suppress(Exception):  # nothing was committed
            run_sql(con, "ROLLBACK")
        raise
    finally:
        con.close()
    return due
