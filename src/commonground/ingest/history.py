"""What became of records a partner sent: still current, corrected (a new version arrived) or retracted (#16).

The hub asks this after a build, for the records behind work whose flag the build no longer raises, to say why in
words (:mod:`commonground.cases.withdrawals`). It reads the ingest store's ``history_<feed>`` tables read-only and
returns states, never a record's values.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from commonground.contracts import FEEDS
from commonground.ingest.store import NEW_VERSION, RETRACTED, feed_table, history_table, open_reader, run_sql


@dataclass(frozen=True)
class RecordState:
    """One record's life so far. ``retracted``: its last version was retracted and none came after;
    ``corrected_at``: when its latest new version replaced an earlier one (None if never)."""

    current: bool
    retracted: bool
    corrected_at: dt.datetime | None
    retraction_reason: str | None = None


def record_states(*, data_dir: Path, records: Iterable[tuple[str, str]]) -> dict[tuple[str, str], RecordState]:
    """The state of each (feed, record_id) the store knows of; records of unknown feeds, or never loaded, are left
    out. Opens the store read-only; an empty answer when nothing has been ingested."""
    by_feed: dict[str, set[str]] = defaultdict(set)
    for feed, record_id in records:
        if feed in FEEDS:
            by_feed[feed].add(record_id)
    if not by_feed:
        return {}
    con = open_reader(data_dir)
    if con is None:
        return {}
    states: dict[tuple[str, str], RecordState] = {}
    try:
        tables = {t for (t,) in run_sql(con, "SELECT table_name FROM duckdb_tables()")}
        for name, ids in sorted(by_feed.items()):
            contract = FEEDS[name]
            if history_table(contract) not in tables:
                continue
            con.register("_asked", pa.table({"record_id": pa.array(sorted(ids), pa.string())}))
            try:
                current = {
                    str(r)
                    for (r,) in run_sql(
                        con, f"SELECT record_id FROM {feed_table(contract)} SEMI JOIN _asked USING (record_id)"
                    )
                }
                ended = run_sql(
                    con,
                    f"SELECT h.record_id, max(h._ended_at) FILTER (WHERE h._ended_as = ?), "
                    f"bool_or(h._ended_as = ?), max(r.reason) "
                    f"FROM {history_table(contract)} h SEMI JOIN _asked USING (record_id) "
                    "LEFT JOIN retractions r ON r.batch_id = h._ended_by AND r.record_id = h.record_id "
                    "GROUP BY h.record_id",
                    [NEW_VERSION, RETRACTED],
                )
            finally:
                con.unregister("_asked")
            for record_id, corrected_at, was_retracted, reason in ended:
                held = str(record_id) in current
                states[(name, str(record_id))] = RecordState(
                    current=held,
                    retracted=bool(was_retracted) and not held,
                    corrected_at=corrected_at,
                    retraction_reason=None if held else reason,
                )
            for record_id in current:
                states.setdefault((name, record_id), RecordState(current=True, retracted=False, corrected_at=None))
    finally:
        con.close()
    return states
