"""A record's life in the ingest store (#16): a partner resends a record as a new version, or retracts it; every
version is kept, the current one is what a build reads, and rows read = accepted + quarantined still holds."""

from __future__ import annotations

import json

import pytest
from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS
from commonground.ingest import FileResult, ingest_report

FEED = FEEDS["police_incidents"]
COLS = list(FEED.column_names)


def _row(n: int, **changes: str) -> list[str]:
    row = good_row(FEED, n)
    for name, value in changes.items():
        row[COLS.index(name)] = value
    return row


def _send(area: Area, rows: list[list[str]], name: str = "police_incidents.csv") -> FileResult:
    for old in area.source.iterdir():
        old.unlink()
    area.write(name, csv_text(COLS, rows))
    return file_result(area.ingest(), name)


def _retract(area: Area, lines: list[str], feed: str = "police_incidents") -> FileResult:
    for old in area.source.iterdir():
        old.unlink()
    name = f"{feed}.retractions.csv"
    area.write(name, "record_id,retracted_on,reason\n" + "".join(line + "\n" for line in lines))
    return file_result(area.ingest(), name)


def test_a_resent_record_with_other_values_is_a_new_version_and_the_current_one(area: Area) -> None:
    _send(area, [_row(1), _row(2)])
    entry = _send(area, [_row(1, summary="Corrected account"), _row(3)])
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (2, 2, 0)
    assert (entry.rows_new_versions, entry.rows_unchanged) == (1, 0)
    assert entry.note() == "1 new version of an earlier record"
    record = _row(1)[COLS.index("record_id")]
    current = area.query("SELECT summary, _batch_id FROM feed_police_incidents WHERE record_id = ?", [record])
    assert current == [("Corrected account", entry.batch_id)]
    history = area.query("SELECT summary, _ended_by, _ended_as FROM history_police_incidents")
    assert history == [("Flat 2, 10 High St", entry.batch_id, "new_version")]  # the earlier version is kept
    assert area.query("SELECT count(*) FROM feed_police_incidents") == [(3,)]
    assert area.query("SELECT count(*) FROM quarantine") == [(0,)]


def test_a_resent_row_identical_to_its_current_version_is_unchanged(area: Area) -> None:
    first = _send(area, [_row(1), _row(2)])
    entry = _send(area, [_row(2), _row(1), _row(4)])
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (3, 3, 0)
    assert (entry.rows_new_versions, entry.rows_unchanged) == (0, 2)
    assert entry.note() == "2 unchanged"
    batches = dict(area.query("SELECT record_id, _batch_id FROM feed_police_incidents"))
    assert batches[_row(1)[COLS.index("record_id")]] == first.batch_id  # nothing was written again
    assert area.query("SELECT count(*) FROM history_police_incidents") == [(0,)]
    report = {b.file_name: b for b in ingest_report(data_dir=area.data)}
    assert report["police_incidents.csv"].rows_unchanged == 2


def test_a_record_repeated_within_one_file_is_still_quarantined(area: Area) -> None:
    _send(area, [_row(1)])
    entry = _send(area, [_row(1, summary="One"), _row(1, summary="Two"), _row(1)])
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined, entry.rows_new_versions) == (3, 1, 2, 1)
    reasons = area.query("SELECT row_number, reason FROM quarantine ORDER BY row_number")
    assert reasons == [(3, "repeats the value on row 2 of this file"), (4, "repeats the value on row 2 of this file")]


def test_an_unchanged_row_repeated_in_a_later_chunk_is_quarantined(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    import commonground.ingest.reader as reader

    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    _send(area, [_row(1)])
    entry = _send(area, [_row(1), _row(2), _row(3), _row(1)])
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined, entry.rows_unchanged) == (4, 3, 1, 1)
    assert area.query("SELECT row_number, reason FROM quarantine") == [(5, "repeats the value on row 2 of this file")]


def test_a_new_version_keeps_its_own_incident_id_but_may_not_take_anothers(area: Area) -> None:
    _send(area, [_row(1), _row(2)])
    other_incident = _row(2)[COLS.index("incident_id")]
    entry = _send(area, [_row(1, summary="Corrected"), _row(5, incident_id=other_incident)])
    assert (entry.rows_accepted, entry.rows_quarantined, entry.rows_new_versions) == (1, 1, 1)
    ((field, reason),) = area.query("SELECT field, reason FROM quarantine")
    assert field == "incident_id" and reason.startswith("repeats a value already loaded (batch ")


def test_a_retraction_list_marks_records_retracted_and_keeps_them(area: Area) -> None:
    _send(area, [_row(1), _row(2), _row(3)])
    one, two = (_row(n)[COLS.index("record_id")] for n in (1, 2))
    entry = _retract(
        area,
        [
            f"{one},2026-12-07,recorded_in_error",
            f"{two},2026-12-07,not_a_reason",
            "NEVER-SENT,2026-12-07,duplicate",
            f"{one},2026-12-07,duplicate",
            "",
        ],
    )
    assert (entry.feed, entry.status) == ("police_incidents", "loaded")
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined, entry.rows_retracted) == (4, 1, 3, 1)
    assert entry.note() == "1 record retracted"
    assert {r for (r,) in area.query("SELECT record_id FROM feed_police_incidents")} == {
        two,
        _row(3)[COLS.index("record_id")],
    }
    assert area.query("SELECT record_id, _ended_as FROM history_police_incidents") == [(one, "retracted")]
    assert area.query("SELECT record_id, reason, CAST(retracted_on AS VARCHAR) FROM retractions") == [
        (one, "recorded_in_error", "2026-12-07")
    ]
    quarantined = area.query("SELECT row_number, field, reason FROM quarantine ORDER BY row_number")
    assert [(r, f) for r, f, _ in quarantined] == [(3, "reason"), (4, "record_id"), (5, "record_id")]
    assert quarantined[1][2].startswith("no record of the feed has this record_id")
    assert quarantined[2][2] == "repeats the value on row 2 of this file"
    assert json.loads(area.query("SELECT raw FROM quarantine WHERE row_number = 4")[0][0]) == {
        "cells": ["NEVER-SENT", "2026-12-07", "duplicate"]
    }


def test_a_record_already_retracted_is_counted_unchanged_when_the_list_comes_again(area: Area) -> None:
    _send(area, [_row(1), _row(2)])
    one, two = (_row(n)[COLS.index("record_id")] for n in (1, 2))
    _retract(area, [f"{one},2026-12-01,wrong_person"])
    entry = _retract(area, [f"{one},2026-12-01,wrong_person", f"{two},2026-12-07,sent_in_error"])
    assert (entry.rows_read, entry.rows_accepted, entry.rows_retracted, entry.rows_unchanged) == (2, 2, 1, 1)
    assert area.query("SELECT count(*) FROM feed_police_incidents") == [(0,)]


def test_a_record_sent_again_after_its_retraction_is_current_again(area: Area) -> None:
    _send(area, [_row(1)])
    one = _row(1)[COLS.index("record_id")]
    _retract(area, [f"{one},2026-12-01,recorded_in_error"])
    entry = _send(area, [_row(1, summary="Sent again")])
    assert (entry.rows_accepted, entry.rows_quarantined) == (1, 0)
    assert area.query("SELECT summary FROM feed_police_incidents") == [("Sent again",)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("record_id,reason\nX,duplicate\n", "exactly the columns record_id, retracted_on, reason"),
        ("", "empty"),
        ("record_id,retracted_on,reason,summary\n", "exactly the columns"),
    ],
)
def test_a_retraction_list_with_the_wrong_header_is_refused(area: Area, text: str, words: str) -> None:
    _send(area, [_row(1)])
    for old in area.source.iterdir():
        old.unlink()
    area.write("police_incidents.retractions.csv", text)
    entry = file_result(area.ingest(), "police_incidents.retractions.csv")
    assert entry.status == "refused" and words in entry.error
    assert area.query("SELECT count(*) FROM feed_police_incidents") == [(1,)]


def test_a_retraction_list_for_no_feed_is_refused(area: Area) -> None:
    area.write("nothing.retractions.csv", "record_id,retracted_on,reason\n")
    entry = file_result(area.ingest(), "nothing.retractions.csv")
    assert entry.status == "refused" and "<feed>.retractions.csv" in entry.error


def test_the_ingest_command_says_what_was_a_new_version_retracted_or_unchanged(area: Area) -> None:
    from typer.testing import CliRunner

    from commonground.cli import app

    _send(area, [_row(1), _row(2)])
    for old in area.source.iterdir():
        old.unlink()
    area.write("police_incidents.csv", csv_text(COLS, [_row(1, summary="Corrected account"), _row(2)]))
    area.write("police_incidents.retractions.csv", "record_id,retracted_on,reason\nID-2/x,2026-12-07,duplicate\n")
    result = CliRunner().invoke(app, ["--data-dir", str(area.data), "ingest", str(area.source)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "police_incidents.csv: 1 new version of an earlier record; 1 unchanged." in result.output
    assert "police_incidents.retractions.csv: 1 record retracted." in result.output


def test_a_store_written_before_versions_still_reports_and_gains_the_counts(area: Area) -> None:
    import duckdb

    from commonground.ingest import store_path

    path = store_path(area.data)
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    con.execute(  # ingest_batches as it was before #16
        "CREATE TABLE ingest_batches (batch_id VARCHAR PRIMARY KEY, feed VARCHAR NOT NULL, file_name VARCHAR NOT NULL, "
        "run_id VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL, file_format VARCHAR NOT NULL, header VARCHAR NOT NULL, "
        "rows_read BIGINT NOT NULL, rows_accepted BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, "
        "rows_with_warnings BIGINT NOT NULL, warnings BIGINT NOT NULL)"
    )
    con.execute(
        "INSERT INTO ingest_batches VALUES ('b0', 'schools', 'schools.csv', 'r0', now(), 'csv', '[]', 1, 1, 0, 0, 0)"
    )
    con.close()
    (before,) = ingest_report(data_dir=area.data)
    assert (before.rows_new_versions, before.rows_unchanged, before.rows_retracted) == (0, 0, 0)
    _send(area, [_row(1)])
    old, new = ingest_report(data_dir=area.data)
    assert old.batch_id == "b0" and old.rows_new_versions == 0 and new.rows_accepted == 1
