"""Formula-like text (#18): a text cell that begins like a spreadsheet formula loads as sent, with a warning naming
the row and the field, in a nullable column and in a required one; files people open neutralise it later."""

from __future__ import annotations

from ingest_helpers import Area, csv_text, file_result, good_row

from commonground.contracts import FEEDS
from commonground.contracts.values import FORMULA_WARNING

INCIDENTS = FEEDS["police_incidents"]
SCHOOLS = FEEDS["schools"]
ATTACK = "-2+3+cmd|' /C calc'!A0"


def _cols(feed: str) -> list[str]:
    return list(FEEDS[feed].column_names)


def test_an_address_and_a_note_that_look_like_formulas_load_unchanged_with_warnings(area: Area) -> None:
    cols = _cols("police_incidents")
    body = [good_row(INCIDENTS, i) for i in range(1, 4)]
    body[0][cols.index("address")] = ATTACK
    body[0][cols.index("summary")] = "=1+1"
    body[2][cols.index("summary")] = "\t@SUM(A1:A9) "  # spaces at either end are trimmed; the '@' stays first
    area.write("police_incidents.csv", csv_text(cols, body))
    entry = file_result(area.ingest(), "police_incidents.csv")
    assert (entry.status, entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == ("loaded", 3, 3, 0)
    assert (entry.warnings, entry.rows_with_warnings) == (3, 2)
    warnings = area.query(
        "SELECT row_number, field, reason FROM ingest_warnings WHERE feed = 'police_incidents' "
        "ORDER BY row_number, field"
    )
    assert warnings == [
        (2, "address", FORMULA_WARNING),
        (2, "summary", FORMULA_WARNING),
        (4, "summary", FORMULA_WARNING),
    ]
    stored = area.query("SELECT _row_number, address, summary FROM feed_police_incidents ORDER BY _row_number")
    assert stored[0] == (2, ATTACK, "=1+1")
    assert stored[2][2] == "@SUM(A1:A9)"
    assert area.query("SELECT count(*) FROM quarantine") == [(0,)]


def test_a_required_text_column_keeps_a_formula_too(area: Area) -> None:
    cols = _cols("schools")
    body = [good_row(SCHOOLS, i) for i in range(1, 3)]
    body[1][cols.index("name")] = '=HYPERLINK("http://x","click")'
    area.write("schools.csv", csv_text(cols, body))
    entry = file_result(area.ingest(), "schools.csv")
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (2, 2, 0)
    assert area.query("SELECT row_number, field, reason FROM ingest_warnings") == [(3, "name", FORMULA_WARNING)]
    assert area.query("SELECT name FROM feed_schools WHERE _row_number = 3") == [('=HYPERLINK("http://x","click")',)]


def test_plain_numbers_and_ordinary_text_give_no_warning(area: Area) -> None:
    cols = _cols("police_incidents")
    body = [good_row(INCIDENTS, i) for i in range(1, 5)]
    for row, summary in zip(body, ("-5", "+44 20 7946 0000", "a=b", "12 Acacia Avenue"), strict=True):
        row[cols.index("summary")] = summary
    area.write("police_incidents.csv", csv_text(cols, body))
    entry = file_result(area.ingest(), "police_incidents.csv")
    assert (entry.rows_accepted, entry.warnings) == (4, 0)


def test_a_quarantined_row_records_no_formula_warning(area: Area) -> None:
    cols = _cols("schools")
    body = [good_row(SCHOOLS, 1)]
    body[0][cols.index("name")] = "=1+1"
    body[0][cols.index("dsl_name")] = ""  # required: the row is quarantined
    area.write("schools.csv", csv_text(cols, body))
    entry = file_result(area.ingest(), "schools.csv")
    assert (entry.rows_accepted, entry.rows_quarantined, entry.warnings) == (0, 1, 0)
    assert area.query("SELECT field FROM quarantine") == [("dsl_name",)]
