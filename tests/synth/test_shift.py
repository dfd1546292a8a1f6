"""Moving a synthetic area in time (``commonground.synth.shift``): literal rows in, literal rows out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from commonground.contracts import FEEDS
from commonground.synth.shift import (
    FEEDS_FOLDER,
    dated_columns,
    days_to_end_on,
    read_shift,
    shift_area,
    shift_date_text,
    shift_datetime_text,
    shift_file,
)

INCIDENTS = (
    "record_id,incident_id,occurred_at,postcode,address,uprn,category,qualifiers,summary,officer_contact\n"
    'PI-1,QXP-20261031-0001,2026-10-31T23:15:00,QX1 0AU,1 Mill Lane,,domestic,,"Row on 2026-10-31, shouting.",'
    '"PC 1, Team, 01632 960904"\n'
    "PI-2,QXP-20220414-0001,2022-04-14T27:51:00,,Heather Street,,theft,,,PC 2\n"
    "PI-3,QXP-20240229-0001,2024-02-29 08:05,QX1 0BG,,,other,,,\n"
    "PI-4,QXP-20240101-0001,,QX1 0BG,,,other,,,\n"
)
"""A date-time with seconds, an impossible time (a deliberate defect), one with a space and no seconds (29 February
of a leap year), and a blank; an incident id and a summary that merely contain dates."""

EXPECTED = (
    "record_id,incident_id,occurred_at,postcode,address,uprn,category,qualifiers,summary,officer_contact\n"
    'PI-1,QXP-20261031-0001,2026-12-06T23:15:00,QX1 0AU,1 Mill Lane,,domestic,,"Row on 2026-10-31, shouting.",'
    '"PC 1, Team, 01632 960904"\n'
    "PI-2,QXP-20220414-0001,2022-04-14T27:51:00,,Heather Street,,theft,,,PC 2\n"
    "PI-3,QXP-20240229-0001,2024-04-05 08:05,QX1 0BG,,,other,,,\n"
    "PI-4,QXP-20240101-0001,,QX1 0BG,,,other,,,\n"
)


@pytest.mark.parametrize(
    ("text", "days", "expected"),
    [
        ("2026-10-31", 36, "2026-12-06"),
        ("2024-02-28", 1, "2024-02-29"),
        (" 2020-01-01 ", -1, " 2019-12-31 "),
        ("2026-02-30", 36, None),  # not a real date: kept as it is
        ("31/10/2026", 36, None),
        ("", 36, None),
    ],
)
def test_a_date_moves_by_whole_days_or_is_left_alone(text: str, days: int, expected: str | None) -> None:
    assert shift_date_text(text, days) == expected


@pytest.mark.parametrize(
    ("text", "days", "expected"),
    [
        ("2026-10-31T23:15:00", 36, "2026-12-06T23:15:00"),
        ("2026-10-31 23:15", 36, "2026-12-06 23:15"),  # the form it came in is kept
        ("2026-03-28T01:30:00", 1, "2026-03-29T01:30:00"),  # the wall-clock time is kept across a clock change
        ("2022-04-14T27:51:00", 36, None),  # an impossible time of day
        ("2026-10-31", 36, None),  # a date where a date and time is expected
    ],
)
def test_a_datetime_moves_by_whole_days_or_is_left_alone(text: str, days: int, expected: str | None) -> None:
    assert shift_datetime_text(text, days) == expected


def test_the_days_put_the_last_day_on_the_day_wanted() -> None:
    assert days_to_end_on(last_day=dt.date(2026, 10, 31), end_on=dt.date(2026, 12, 6)) == 36


def test_a_feed_file_moves_its_dated_columns_only_and_keeps_every_row(tmp_path: Path) -> None:
    source, target = tmp_path / "police_incidents.csv", tmp_path / "out.csv"
    source.write_text(INCIDENTS, encoding="utf-8")
    rows, moved, kept = shift_file(source, target, columns=dated_columns(FEEDS["police_incidents"]), days=36)
    assert target.read_text(encoding="utf-8") == EXPECTED
    assert (rows, moved, kept) == (4, 2, 2)


def test_a_date_of_birth_moves_and_bytes_that_are_not_utf8_are_kept(tmp_path: Path) -> None:
    feed = FEEDS["mental_health_contacts"]
    header = ",".join(feed.column_names)
    values = {name: "" for name in feed.column_names}
    values.update(record_id="MHC1", contact_date="2026-10-30", date_of_birth="1990-01-31", given_name="Ann")
    row = ",".join(values[name] for name in feed.column_names)
    source = tmp_path / "mental_health_contacts.csv"
    source.write_bytes(f"{header}\n{row}\n".replace("Ann", "A\udcffnn").encode("utf-8", "surrogateescape"))
    shift_file(source, tmp_path / "out.csv", columns=dated_columns(feed), days=2)
    out = (tmp_path / "out.csv").read_bytes()
    assert b"2026-11-01" in out and b"1990-02-02" in out
    assert b"A\xffnn" in out  # a defect's raw bytes go through unchanged


def test_an_area_is_copied_moved_never_changed_in_place(tmp_path: Path) -> None:
    area = tmp_path / "area"
    (area / "truth").mkdir(parents=True)
    (area / "police_incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    (area / "truth" / "manifest.json").write_text(
        json.dumps({"window": {"start": "2020-11-01", "end": "2026-10-31"}}), encoding="utf-8"
    )
    exposures = "person_id,kind,start,end,ace,other_person_id\nP1,domestic_violence,2026-10-01,,ace.domestic_abuse,P2\n"
    (area / "truth" / "exposures.csv").write_text(exposures, encoding="utf-8")
    (area / "truth" / "records.csv").write_text(
        "feed,record_id,person_id\npolice_incidents,PI-1,P1\n", encoding="utf-8"
    )
    summary = shift_area(source=area, out=tmp_path / "moved", days=36)
    assert (area / "police_incidents.csv").read_text(encoding="utf-8") == INCIDENTS
    assert (tmp_path / "moved" / FEEDS_FOLDER / "police_incidents.csv").read_text(encoding="utf-8") == EXPECTED
    assert sorted(p.name for p in (tmp_path / "moved" / FEEDS_FOLDER).iterdir()) == ["police_incidents.csv"]
    assert (summary.files, summary.rows, summary.cells_moved, summary.cells_kept) == (1, 4, 2, 2)
    truth = tmp_path / "moved" / "truth"
    assert (truth / "exposures.csv").read_text(encoding="utf-8") == exposures.replace("2026-10-01", "2026-11-06")
    assert (truth / "records.csv").read_text(encoding="utf-8") == "feed,record_id,person_id\npolice_incidents,PI-1,P1\n"
    assert json.loads((truth / "manifest.json").read_text(encoding="utf-8"))["window"] == {
        "start": "2020-12-07",
        "end": "2026-12-06",
    }
    assert read_shift(tmp_path / "moved") == {
        "days": 36,
        "source": str(area.resolve()),
        "window": {"start": "2020-11-01", "end": "2026-10-31"},
        "shifted_window": {"start": "2020-12-07", "end": "2026-12-06"},
    }
