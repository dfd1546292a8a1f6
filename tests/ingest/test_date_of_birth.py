"""A blank date of birth keeps the event where the world has people who would not or could not say (#15).

Literal rows: a custody record, an emergency attendance, a person on an incident, a street-triage contact and a
missing episode with a blank (or impossible) date of birth load with a warning naming the file, the row and the
field; a school-roll row with a blank one is still quarantined, named the same way. Rows read = rows accepted +
rows quarantined throughout, and the command line says it in words.
"""

from __future__ import annotations

import re

import pytest
from ingest_helpers import Area, csv_text, file_result, good_row
from typer.testing import CliRunner

from commonground.cli import app
from commonground.contracts import FEEDS
from commonground.contracts.feeds import DATE_OF_BIRTH_CHOICES
from commonground.ingest import quarantine_rows, warning_rows
from commonground.ingest.validate import BLANK_REASON, UNKNOWN_REASON

MAY_BE_BLANK = ("police_incident_persons", "custody_records", "missing_episodes", "street_triage", "ed_attendances")
NEEDED = (
    "mental_health_contacts",
    "substance_treatment",
    "childrens_social_care",
    "custodial_sentences",
    "school_roll",
)


def _rows(feed_name: str, *dates_of_birth: str) -> str:
    feed = FEEDS[feed_name]
    cols = list(feed.column_names)
    rows = []
    for n, dob in enumerate(dates_of_birth, start=1):
        row = good_row(feed, n)
        row[cols.index("date_of_birth")] = dob
        rows.append(row)
    return csv_text(cols, rows)


def test_the_contract_says_where_a_date_of_birth_may_be_blank() -> None:
    person_feeds = {name for name, feed in FEEDS.items() if feed.person_level}
    assert set(DATE_OF_BIRTH_CHOICES) == person_feeds  # every choice is made, and said why
    assert {n for n in person_feeds if FEEDS[n].column("date_of_birth").unknown_allowed} == set(MAY_BE_BLANK)
    for name in NEEDED:
        column = FEEDS[name].column("date_of_birth")
        assert not column.nullable and not column.blank_keeps_row


@pytest.mark.parametrize("feed_name", MAY_BE_BLANK)
def test_a_blank_date_of_birth_loads_with_a_warning(area: Area, feed_name: str) -> None:
    area.write(f"{feed_name}.csv", _rows(feed_name, "", "1985-02-30", "1985-02-03", "   "))
    entry = file_result(area.ingest(), f"{feed_name}.csv")
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (4, 4, 0)
    assert entry.rows_read == entry.rows_accepted + entry.rows_quarantined
    assert (entry.rows_with_warnings, entry.warnings) == (3, 3)
    warnings = warning_rows(data_dir=area.data, feed=feed_name)
    assert [(w.file, w.row_number, w.field) for w in warnings] == [
        (f"{feed_name}.csv", 2, "date_of_birth"),
        (f"{feed_name}.csv", 3, "date_of_birth"),
        (f"{feed_name}.csv", 5, "date_of_birth"),
    ]
    assert warnings[0].reason == UNKNOWN_REASON == warnings[2].reason
    assert "1985" not in warnings[1].reason  # an impossible date: blanked, its value never repeated
    stored = area.query(f"SELECT _row_number, date_of_birth FROM feed_{feed_name} ORDER BY _row_number")
    assert [(n, None if d is None else d.isoformat()) for n, d in stored] == [
        (2, None),
        (3, None),
        (4, "1985-02-03"),
        (5, None),
    ]
    assert area.query("SELECT count(*) FROM quarantine") == [(0,)]


@pytest.mark.parametrize("feed_name", NEEDED)
def test_a_blank_date_of_birth_where_it_is_needed_is_quarantined(area: Area, feed_name: str) -> None:
    area.write(f"{feed_name}.csv", _rows(feed_name, "1985-02-03", ""))
    entry = file_result(area.ingest(), f"{feed_name}.csv")
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (2, 1, 1)
    (row,) = quarantine_rows(data_dir=area.data, feed=feed_name)
    assert (row.file, row.row_number, row.field, row.reason) == (
        f"{feed_name}.csv",
        3,
        "date_of_birth",
        BLANK_REASON,
    )


def test_the_command_line_says_so_in_words(area: Area) -> None:
    area.write("custody_records.csv", _rows("custody_records", "1985-02-03", ""))
    area.write("school_roll.csv", _rows("school_roll", ""))
    runner = CliRunner()
    data = ["--data-dir", str(area.data)]
    ingested = runner.invoke(app, [*data, "ingest", str(area.source)], env={"COLUMNS": "200"})
    assert ingested.exit_code == 0, ingested.output
    assert re.search(r"custody_records\.csv\s*│\s*loaded\s*│\s*2\s*│\s*2\s*│\s*0\s*│\s*1", ingested.output)
    assert re.search(r"school_roll\.csv\s*│\s*loaded\s*│\s*1\s*│\s*0\s*│\s*1\s*│\s*0", ingested.output)
    assert "Rows loaded with a warning (a value blanked, a date of birth not known): `commonground warnings`." in (
        ingested.output
    )
    warned = runner.invoke(app, [*data, "warnings"], env={"COLUMNS": "200"})
    assert warned.exit_code == 0, warned.output
    assert re.search(
        r"custody_records\.csv\s*│\s*3\s*│\s*date_of_birth\s*│\s*blank: not known; the record is kept", warned.output
    )
    held = runner.invoke(app, [*data, "quarantine"], env={"COLUMNS": "200"})
    assert re.search(
        r"school_roll\.csv\s*│\s*2\s*│\s*date_of_birth\s*│\s*blank, but the column requires a value", held.output
    )
    report = runner.invoke(app, [*data, "ingest-report"], env={"COLUMNS": "200"})
    assert re.search(r"custody_records\.csv\s*│\s*\w+\s*│\s*2\s*│\s*2\s*│\s*0\s*│\s*1", report.output), report.output
    none = runner.invoke(app, [*data, "warnings", "--feed", "school_roll"], env={"COLUMNS": "200"})
    assert "No loaded row has a warning." in none.output
