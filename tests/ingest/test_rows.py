"""Table-driven: for every feed, a good row loads with the right standardised values, and a bad or
blank cell of every column is quarantined (or, in a nullable column, blanked with a warning; in a column whose value
is expected but may be unknown, a date of birth in some feeds, loaded with a warning either way)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_helpers import Area, csv_text, file_result, good, good_row
from rowgen import BAD, unique_postcode

from commonground.contracts import FEEDS, ColumnType, FeedContract
from commonground.ingest import IngestResult
from commonground.ingest.validate import BLANK_REASON, ORDERED_PAIRS, UNKNOWN_REASON

T = ColumnType


FEED_NAMES = sorted(FEEDS)


@pytest.fixture(scope="module", params=["fast-csv", "robust-csv"])
def reader_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """The table-driven cases run through both CSV readers (see ingest/fastcsv.py): results must match."""
    import commonground.ingest.reader as reader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "FAST_CSV", request.param == "fast-csv")
        yield str(request.param)


Loaded = tuple[Area, IngestResult]


def _load_every_feed(root: Path, rows_for: Callable[[FeedContract], list[list[str]]]) -> Loaded:
    """One file per feed, ingested in one run (one run per case keeps the suite fast)."""
    area = Area(root)
    for name, feed in FEEDS.items():
        area.write(f"{name}.csv", csv_text(list(feed.column_names), rows_for(feed)))
    return area, area.ingest()


def _bad_rows(feed: FeedContract) -> list[list[str]]:
    rows = []
    for i, column in enumerate(feed.columns, start=1):
        row = good_row(feed, i)
        row[i - 1] = BAD[column.type][0]
        rows.append(row)
    return rows


def _blank_rows(feed: FeedContract) -> list[list[str]]:
    rows = []
    for n, i in enumerate(_valued(feed), start=1):
        row = good_row(feed, n)
        row[i] = "  " if n % 2 else ""
        rows.append(row)
    return rows


def _strict(feed: FeedContract) -> list[int]:
    """The columns whose blank or bad value sends the row to quarantine."""
    return [i for i, c in enumerate(feed.columns) if not c.blank_keeps_row]


def _valued(feed: FeedContract) -> list[int]:
    """The columns that expect a value: the strict ones, and those whose value may be unknown (with a warning)."""
    return [i for i, c in enumerate(feed.columns) if not c.nullable]


@pytest.fixture(scope="module")
def good_rows(reader_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return _load_every_feed(tmp_path_factory.mktemp("good"), lambda feed: [good_row(feed, 1)])


@pytest.fixture(scope="module")
def bad_rows(reader_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return _load_every_feed(tmp_path_factory.mktemp("bad"), _bad_rows)


@pytest.fixture(scope="module")
def blank_rows(reader_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return _load_every_feed(tmp_path_factory.mktemp("blank"), _blank_rows)


@pytest.mark.parametrize("name", FEED_NAMES)
def test_a_good_row_loads_standardised(good_rows: Loaded, name: str) -> None:
    area, result = good_rows
    feed = FEEDS[name]
    entry = file_result(result, f"{name}.csv")
    assert (entry.status, entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == ("loaded", 1, 1, 0)
    names = ", ".join(f'"{c}"' for c in feed.column_names)
    (row,) = area.query(f"SELECT {names}, _row_number FROM feed_{name}")
    expected = [good(c, 1)[1] for c in feed.columns]
    assert list(row[:-1]) == expected
    assert row[-1] == 2  # the header is row 1
    if feed.person_level:
        assert area.query(f"SELECT given_name_key, family_name_key FROM feed_{name}") == [("SIAN", "SIAN")]


@pytest.mark.parametrize("name", FEED_NAMES)
def test_a_bad_cell_in_each_column(bad_rows: Loaded, name: str) -> None:
    area, result = bad_rows
    feed = FEEDS[name]
    entry = file_result(result, f"{name}.csv")
    strict = _strict(feed)
    rows = len(feed.columns)
    assert (entry.rows_read, entry.rows_quarantined, entry.rows_accepted) == (rows, len(strict), rows - len(strict))
    where = " WHERE feed = ? ORDER BY row_number"
    quarantined = area.query("SELECT row_number, field, reason FROM quarantine" + where, [name])
    warned = area.query("SELECT row_number, field, reason FROM ingest_warnings" + where, [name])
    for i, column in enumerate(feed.columns, start=1):
        expected_start = BAD[column.type][1]
        found = warned if column.blank_keeps_row else quarantined
        matches = [(f, r) for n, f, r in found if n == i + 1]
        assert len(matches) == 1, (column.name, matches)
        assert matches[0][0] == column.name and matches[0][1].startswith(expected_start), (column.name, matches)
        if column.blank_keeps_row:  # blanked, the row kept
            (value,) = area.query(f'SELECT "{column.name}" FROM feed_{name} WHERE _row_number = ?', [i + 1])[0]
            assert value is None


@pytest.mark.parametrize("name", FEED_NAMES)
def test_a_blank_in_each_required_column(blank_rows: Loaded, name: str) -> None:
    area, result = blank_rows
    feed = FEEDS[name]
    valued = _valued(feed)
    strict = [(n, i) for n, i in enumerate(valued, start=1) if not feed.columns[i].unknown_allowed]
    unknown = [(n, i) for n, i in enumerate(valued, start=1) if feed.columns[i].unknown_allowed]
    entry = file_result(result, f"{name}.csv")
    assert (entry.rows_read, entry.rows_quarantined, entry.rows_accepted) == (len(valued), len(strict), len(unknown))
    found = area.query("SELECT row_number, field, reason FROM quarantine WHERE feed = ? ORDER BY row_number", [name])
    assert found == [(n + 1, feed.columns[i].name, BLANK_REASON) for n, i in strict]
    warned = area.query(
        "SELECT row_number, field, reason FROM ingest_warnings WHERE feed = ? ORDER BY row_number", [name]
    )
    assert warned == [(n + 1, feed.columns[i].name, UNKNOWN_REASON) for n, i in unknown]
    for n, i in unknown:  # loaded, the value blank
        (value,) = area.query(f'SELECT "{feed.columns[i].name}" FROM feed_{name} WHERE _row_number = ?', [n + 1])[0]
        assert value is None


def test_every_failing_field_of_a_row_is_recorded(area: Area) -> None:
    feed = FEEDS["ed_attendances"]
    row = good_row(feed, 1)
    cols = list(feed.column_names)
    row[cols.index("arrived_at")] = "yesterday"
    row[cols.index("sex")] = ""
    row[cols.index("given_name")] = "R2D2"
    row[cols.index("weapon")] = "spoon"  # nullable: a warning, but the row is quarantined anyway
    area.write("ed_attendances.csv", csv_text(cols, [row]))
    area.ingest()
    fields = area.query("SELECT field FROM quarantine ORDER BY field")
    assert [f for (f,) in fields] == ["arrived_at", "given_name", "sex"]
    assert area.query("SELECT count(*) FROM ingest_warnings") == [(0,)]  # warnings are for loaded rows


BLANKED_WHEN_OUT_OF_ORDER = {
    "custody_records": ("arrested_at", "released_at", "released_at"),
    "missing_episodes": ("reported_at", "returned_at", "returned_at"),
    "substance_treatment": ("start_date", "end_date", "end_date"),
    "childrens_social_care": ("referral_date", "closure_date", "closure_date"),
    "custodial_sentences": ("received_at", "released_at", "released_at"),
    "ed_attendances": ("assault_at", "arrived_at", "assault_at"),  # the optional one is the start
    "school_roll": ("enrolled_on", "left_on", "left_on"),  # both optional: the end goes
}


def test_every_cross_field_check_is_on_a_field_that_may_be_blank() -> None:
    """Every ordered pair of every feed is checked below, and each has a field that may be blank: a wrong optional
    value loses that value, never the event (#15)."""
    pairs = {feed: [(a, b) for a, b, _ in checks] for feed, checks in ORDERED_PAIRS.items()}
    assert pairs == {feed: [(a, b)] for feed, (a, b, _) in BLANKED_WHEN_OUT_OF_ORDER.items()}
    for feed, (earlier, later, blanked) in BLANKED_WHEN_OUT_OF_ORDER.items():
        assert FEEDS[feed].column(blanked).blank_keeps_row, (feed, blanked)
        if blanked == earlier:
            assert not FEEDS[feed].column(later).blank_keeps_row, (feed, "the later field goes first when it may")


@pytest.mark.parametrize(
    ("feed_name", "earlier", "later", "blanked"),
    [(feed, *pair) for feed, pair in BLANKED_WHEN_OUT_OF_ORDER.items()],
)
def test_an_end_before_its_start_blanks_the_optional_field_and_keeps_the_event(
    area: Area, feed_name: str, earlier: str, later: str, blanked: str
) -> None:
    """A wrong optional value never loses the record (#15): it is blanked with a warning naming the field."""
    feed = FEEDS[feed_name]
    cols = list(feed.column_names)
    row = good_row(feed, 1)
    is_date = feed.column(earlier).type is T.DATE
    row[cols.index(earlier)] = "2020-05-02" if is_date else "2020-05-02T10:00"
    row[cols.index(later)] = "2020-05-01" if is_date else "2020-05-01T10:00"
    same = good_row(feed, 2)
    same[cols.index(earlier)] = same[cols.index(later)] = "2020-05-02" if is_date else "2020-05-02T10:00"
    area.write(f"{feed_name}.csv", csv_text(cols, [row, same]))
    entry = file_result(area.ingest(), f"{feed_name}.csv")
    assert (entry.rows_accepted, entry.rows_quarantined, entry.rows_with_warnings) == (2, 0, 1)
    ((field, reason),) = area.query("SELECT field, reason FROM ingest_warnings WHERE row_number = 2")
    assert field == blanked and f"the {blanked} was blanked, the record kept" in reason
    other = later if blanked == earlier else earlier
    stored = area.query(f"SELECT {blanked}, {other} FROM feed_{feed_name} ORDER BY _row_number")
    assert stored[0][0] is None and stored[0][1] is not None  # only the optional field is blanked
    assert None not in stored[1]


def test_duplicates_within_a_file_and_across_batches(area: Area) -> None:
    feed = FEEDS["police_incidents"]
    cols = list(feed.column_names)
    rows = [good_row(feed, i) for i in range(1, 5)]
    rows[2][cols.index("record_id")] = rows[0][cols.index("record_id")]  # same record_id as the first row
    rows[3][cols.index("incident_id")] = rows[1][cols.index("incident_id")]  # same incident_id as the second
    area.write("police_incidents.csv", csv_text(cols, rows))
    first = file_result(area.ingest(), "police_incidents.csv")
    assert (first.rows_accepted, first.rows_quarantined) == (2, 2)
    assert area.query("SELECT row_number, field, reason FROM quarantine ORDER BY row_number") == [
        (4, "record_id", "repeats the value on row 2 of this file"),
        (5, "incident_id", "repeats the value on row 3 of this file"),
    ]
    # A later batch: a loaded record sent again as it was is unchanged (#16: the same record_id is a version of the
    # record, not a repeat); another record taking a loaded incident_id is quarantined; a new record loads.
    (area.source / "police_incidents.csv").unlink()
    taken = good_row(feed, 8)
    taken[cols.index("incident_id")] = rows[1][cols.index("incident_id")]
    again = [good_row(feed, 1), taken, good_row(feed, 9)]
    area.write("police_incidents.csv", csv_text(cols, again))
    second = file_result(area.ingest(), "police_incidents.csv")
    assert (second.rows_accepted, second.rows_quarantined, second.rows_unchanged) == (2, 1, 1)
    reasons = {r for (r,) in area.query("SELECT reason FROM quarantine WHERE row_number = 3")}
    assert reasons and all(r.startswith("repeats a value already loaded (batch ") for r in reasons)
    assert area.query("SELECT count(*) FROM feed_police_incidents") == [(3,)]


def test_duplicates_across_chunks_of_one_file(area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    import commonground.ingest.reader as reader

    monkeypatch.setattr(reader, "CHUNK_ROWS", 3)
    feed = FEEDS["schools"]
    rows = [good_row(feed, i) for i in range(1, 8)]
    rows[6][0] = rows[0][0]
    area.write("schools.csv", csv_text(list(feed.column_names), rows))
    entry = file_result(area.ingest(), "schools.csv")
    assert (entry.rows_read, entry.rows_accepted, entry.rows_quarantined) == (7, 6, 1)
    assert area.query("SELECT row_number, reason FROM quarantine") == [(8, "repeats the value on row 2 of this file")]


def test_optional_columns_may_be_left_out(area: Area) -> None:
    feed = FEEDS["custody_records"]
    required = [i for i, c in enumerate(feed.columns) if c.required]
    row = good_row(feed, 1)
    area.write("custody_records.csv", csv_text([feed.columns[i].name for i in required], [[row[i] for i in required]]))
    entry = file_result(area.ingest(), "custody_records.csv")
    assert (entry.status, entry.rows_accepted) == ("loaded", 1)
    assert area.query("SELECT released_at, nhs_number FROM feed_custody_records") == [(None, None)]


def test_columns_may_come_in_any_order(area: Area) -> None:
    feed = FEEDS["postcode_areas"]
    cols = list(feed.column_names)
    row = good_row(feed, 3)
    area.write("postcode_areas.csv", csv_text(cols[::-1], [row[::-1]]))
    area.ingest()
    assert area.query("SELECT postcode, deprivation_decile FROM feed_postcode_areas") == [
        (unique_postcode(3), feed.column("deprivation_decile").values[-1])
    ]


def test_a_parser_slip_in_the_contracts_never_leaks_the_value(area: Area) -> None:
    """parse_cell raises a plain ValueError (quoting the cell) for a superscript digit in a UPRN or an
    NHS number; ingest turns it into a reason of its own, and the row is handled like any bad value."""
    feed = FEEDS["ed_attendances"]
    cols = list(feed.column_names)
    row = good_row(feed, 1)
    row[cols.index("uprn")] = "12³"
    row[cols.index("nhs_number")] = "943476591²"
    area.write("ed_attendances.csv", csv_text(cols, [row]))
    entry = file_result(area.ingest(), "ed_attendances.csv")
    assert (entry.rows_accepted, entry.warnings) == (1, 2)
    reasons = area.query("SELECT field, reason FROM ingest_warnings ORDER BY field")
    assert [f for f, _ in reasons] == ["nhs_number", "uprn"]
    assert all("²" not in r and "³" not in r for _, r in reasons)
