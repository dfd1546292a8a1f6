"""Retention of the ingest store (#16): a batch past its feed's period is removed with everything it brought, and
leaves a tombstone of counts; what is due is exactly what goes; nothing else is touched."""

from __future__ import annotations

import datetime as dt

from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS
from commonground.contracts.retention import Period, RetentionSchedule, retention_schedule
from commonground.ingest.retention import apply_retention, due_for_removal

POLICE = FEEDS["police_incidents"]
SCHOOLS = FEEDS["schools"]


def _schedule(police_years: int = 6, school_years: int = 2) -> RetentionSchedule:
    feeds = dict(retention_schedule().feeds)
    feeds["police_incidents"] = Period(years=police_years, source="Test police schedule, incidents")
    feeds["schools"] = Period(years=school_years, source="Test register of schools")
    return RetentionSchedule(builds_kept=2, feeds=feeds)


def _load(area: Area) -> None:
    cols = list(POLICE.column_names)
    first = [good_row(POLICE, n) for n in (1, 2, 3)]
    first[2][cols.index("record_id")] = first[0][cols.index("record_id")]  # a repeat: quarantined
    area.write("police_incidents.csv", csv_text(cols, first))
    area.write("schools.csv", csv_text(list(SCHOOLS.column_names), [good_row(SCHOOLS, n) for n in (1, 2)]))
    area.ingest()
    for old in area.source.iterdir():
        old.unlink()
    changed = good_row(POLICE, 1)
    changed[cols.index("summary")] = "Corrected"
    area.write("police_incidents.csv", csv_text(cols, [changed, good_row(POLICE, 4)]))
    record = good_row(POLICE, 2)[cols.index("record_id")]
    area.write("police_incidents.retractions.csv", f"record_id,retracted_on,reason\n{record},2026-12-07,duplicate\n")
    result = area.ingest()
    assert file_result(result, "police_incidents.retractions.csv").rows_retracted == 1


def test_the_schedule_names_a_period_and_its_source_for_every_feed() -> None:
    schedule = retention_schedule()
    assert set(schedule.feeds) == set(FEEDS)
    assert all(p.years >= 1 and len(p.source) >= 10 for p in schedule.feeds.values())
    assert schedule.builds_kept >= 1


def test_nothing_is_due_before_its_period_ends(area: Area) -> None:
    _load(area)
    in_a_year = dt.datetime.now() + dt.timedelta(days=366)
    assert not due_for_removal(data_dir=area.data, schedule=_schedule(), now=in_a_year)
    assert due_for_removal(data_dir=area.data, schedule=_schedule(school_years=1), now=in_a_year)


def test_an_expired_batch_goes_with_all_it_brought_and_leaves_a_tombstone(area: Area) -> None:
    _load(area)
    before = area.counts()
    in_three_years = dt.datetime.now() + dt.timedelta(days=3 * 366)
    due = due_for_removal(data_dir=area.data, schedule=_schedule(), now=in_three_years)
    assert [(b.feed, b.current_rows, b.history_rows) for b in due] == [("schools", 2, 0)]  # police kept for 6 years
    gone = apply_retention(data_dir=area.data, schedule=_schedule(), now=in_three_years)
    assert gone == due
    after = area.counts()
    assert after["feed_schools"] == 0 and after["feed_police_incidents"] == before["feed_police_incidents"]
    assert after["ingest_batches"] == before["ingest_batches"] - 1
    assert area.query("SELECT feed, current_rows, history_rows FROM retention_tombstones") == [("schools", 2, 0)]

    in_seven_years = dt.datetime.now() + dt.timedelta(days=7 * 366)
    due = due_for_removal(data_dir=area.data, schedule=_schedule(), now=in_seven_years)
    expected = {
        "feed_police_incidents": before["feed_police_incidents"],
        "history_police_incidents": before["history_police_incidents"],
        "quarantine": before["quarantine"],
        "retractions": before["retractions"],
    }
    assert sum(b.current_rows for b in due) == expected["feed_police_incidents"] == 2  # record 1 (v2), 4
    assert sum(b.history_rows for b in due) == expected["history_police_incidents"] == 2  # record 1 (v1), 2
    assert sum(b.quarantined_rows for b in due) == expected["quarantine"] == 1
    assert sum(b.retractions for b in due) == expected["retractions"] == 1
    apply_retention(data_dir=area.data, schedule=_schedule(), now=in_seven_years)
    after = area.counts()
    for table in (*expected, "ingest_batches", "ingest_warnings"):
        assert after[table] == 0, table
    tombstones = area.query("SELECT feed, current_rows + history_rows FROM retention_tombstones ORDER BY loaded_at")
    assert sum(n for _, n in tombstones) == 2 + 2 + 2 and len(tombstones) == 4
    assert apply_retention(data_dir=area.data, schedule=_schedule(), now=in_seven_years) == []  # once


def test_a_store_never_written_has_nothing_due(area: Area) -> None:
    assert apply_retention(data_dir=area.data, schedule=_schedule(), now=dt.datetime.now()) == []
