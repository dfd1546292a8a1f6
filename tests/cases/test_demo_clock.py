"""The demo's clock (#17), in its parts: how long a trainer asks for, the ticks an advance crosses (the same however
it is split), what a day's extract holds, that ingest checks dates against the moved clock only inside the advance,
and that the service reads the clock from a demo's data directory, never in production."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from commonground.cases.demo_advance import check_advance
from commonground.cases.demo_clock import DemoClock, parse_duration, read_clock, service_offset, write_clock
from commonground.contracts.feeds import FEEDS
from commonground.contracts.values import ValueProblem, clock_moved_on, parse_cell
from commonground.errors import UserError
from commonground.store.settings import HubSettings
from commonground.synth.release import Span, release
from commonground.web.deps import service_now

ORIGIN = dt.datetime(2026, 12, 7, 18, 40)
CLOCK = DemoClock(area="area", origin=ORIGIN, last_day=dt.date(2026, 12, 20), released_through=dt.date(2026, 12, 6))


@pytest.mark.parametrize(
    ("text", "hours"), [("1d", 24), ("6h", 6), ("2d12h", 60), ("1w", 168), ("90m", 1.5), (" 2D ", 48)]
)
def test_a_length_of_time_is_read_as_a_trainer_writes_it(text: str, hours: float) -> None:
    assert parse_duration(text) == dt.timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "1", "d", "1x", "-1d", "0d", "1d and a bit", "1.5d"])
def test_anything_else_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(UserError, match="1d"):
        parse_duration(text)


def test_the_ticks_crossed_do_not_depend_on_how_the_advance_is_split() -> None:
    def walk(steps: list[str]) -> tuple[list[dt.datetime], list[dt.date], dt.timedelta]:
        clock, moments, days = CLOCK, [], []
        for step in steps:
            target = clock.advanced + parse_duration(step)
            for tick in clock.ticks_until(target):
                moments.append(tick.at)
                days.append(tick.day)
                clock = clock.moved_to(tick)
            clock = replace(clock, advanced=target)
        return moments, days, clock.advanced

    whole = walk(["2d"])
    assert whole == walk(["1d", "1d"]) == walk(["6h", "6h", "12h", "1d"]) == walk(["1d12h", "12h"])
    moments, days, advanced = whole
    assert moments == [ORIGIN + dt.timedelta(days=1), ORIGIN + dt.timedelta(days=2)]
    assert days == [dt.date(2026, 12, 7), dt.date(2026, 12, 8)]  # each tick delivers the day before it
    assert advanced == dt.timedelta(days=2)
    assert walk(["6h"])[0] == []  # no tick crossed: the clock moves, nothing arrives


def test_the_clock_can_move_on_until_the_last_day_is_delivered_and_no_further() -> None:
    assert CLOCK.limit == dt.timedelta(days=14)
    check_advance(CLOCK, dt.timedelta(days=14))
    with pytest.raises(UserError, match=r"by 14 days at most \(the synthetic area's records end on Sunday 20 December"):
        check_advance(CLOCK, dt.timedelta(days=14, hours=1))
    done = replace(CLOCK, advanced=dt.timedelta(days=14))
    with pytest.raises(UserError, match="all of them have been delivered"):
        check_advance(done, dt.timedelta(hours=1))


def test_the_clock_is_kept_in_the_data_directory(tmp_path: Path) -> None:
    assert read_clock(tmp_path) is None and service_offset(tmp_path) is None
    moved = replace(CLOCK, advanced=dt.timedelta(days=2, hours=6))
    write_clock(tmp_path, moved)
    assert read_clock(tmp_path) == moved
    assert service_offset(tmp_path) == dt.timedelta(days=2, hours=6)


def test_the_service_runs_on_a_demos_moved_clock_but_never_in_production(tmp_path: Path) -> None:
    real = dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)
    demo = HubSettings(data_dir=tmp_path)
    assert service_now(demo, real) == real  # no clock: the real one
    write_clock(tmp_path, replace(CLOCK, advanced=dt.timedelta(days=1)))
    assert service_now(demo, real) == real + dt.timedelta(days=1)
    production = HubSettings(
        data_dir=tmp_path,
        environment="production",
        secret_key="s" * 40,
        database_url="postgresql+psycopg://example/none",
    )
    assert service_now(production, real) == real


def test_ingest_checks_dates_against_the_moved_clock_only_inside_the_advance() -> None:
    column = next(c for c in FEEDS["police_incidents"].columns if c.name == "occurred_at")
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).replace(microsecond=0).isoformat()
    with pytest.raises(ValueProblem, match="in the future"):
        parse_cell(tomorrow, column)
    with clock_moved_on(dt.timedelta(days=2)):
        assert parse_cell(tomorrow, column) == dt.datetime.fromisoformat(tomorrow)
    with pytest.raises(ValueProblem, match="in the future"):
        parse_cell(tomorrow, column)


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _read(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def test_each_row_is_delivered_once_on_its_day(tmp_path: Path) -> None:
    """A release holds the rows of its days; the first also holds what no day reaches (reference data, a broken or
    blank date, a date past the area's end); a person named on an incident comes with the incident."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    incidents = [
        ["record_id", "incident_id", "occurred_at", "category"],
        ["PI-1", "QXP-1", "2026-12-05T10:00:00", "theft"],
        ["PI-2", "QXP-2", "2026-12-07T23:59:00", "domestic"],
        ["PI-3", "QXP-3", "2026-12-08T00:00:00", "theft"],
        ["PI-4", "QXP-4", "2026-12-07T27:51:00", "theft"],  # not a real time: ingest must still see it
        ["PI-5", "QXP-5", "2066-12-08T09:00:00", "theft"],  # a date moved 40 years on: a defect
        ["PI-6", "QXP-6", "", "theft"],
    ]
    _write(feeds / "police_incidents.csv", incidents)
    _write(
        feeds / "police_incident_persons.csv",
        [["record_id", "incident_id", "role"], ["PIP-1", "QXP-2", "victim"], ["PIP-2", "QXP-1", "suspect"]],
    )
    _write(feeds / "schools.csv", [["record_id", "school_urn", "name"], ["SCH-1", "100001", "A school"]])
    last = dt.date(2026, 12, 20)
    first = release(feeds=feeds, out=tmp_path / "initial", span=Span(None, dt.date(2026, 12, 6), last))
    day7 = release(feeds=feeds, out=tmp_path / "d7", span=Span(dt.date(2026, 12, 6), dt.date(2026, 12, 7), last))
    day8 = release(feeds=feeds, out=tmp_path / "d8", span=Span(dt.date(2026, 12, 7), dt.date(2026, 12, 8), last))
    ids = {name: [r[0] for r in _read(tmp_path / name / "police_incidents.csv")] for name in ("initial", "d7", "d8")}
    assert ids == {"initial": ["PI-1", "PI-4", "PI-5", "PI-6"], "d7": ["PI-2"], "d8": ["PI-3"]}
    assert [r[0] for r in _read(tmp_path / "d7" / "police_incident_persons.csv")] == ["PIP-1"]
    assert [r[0] for r in _read(tmp_path / "initial" / "police_incident_persons.csv")] == ["PIP-2"]
    assert _read(tmp_path / "initial" / "schools.csv") == [["SCH-1", "100001", "A school"]]
    assert "schools" not in day7.rows and not (tmp_path / "d8" / "police_incident_persons.csv").exists()
    assert first.rows["police_incidents"] + day7.rows["police_incidents"] + day8.rows["police_incidents"] == 6
    delivered = sorted(r for name in ("initial", "d7", "d8") for r in _read(tmp_path / name / "police_incidents.csv"))
    assert delivered == sorted(incidents[1:])  # every row once, exactly as it was


def test_a_data_directory_without_a_demo_clock_is_told_why_the_clock_cannot_move(tmp_path: Path) -> None:
    """Refused in words, before anything is read or changed: no demo at all, or one built before its clock could
    move (its store loaded, nothing held back)."""
    from typer.testing import CliRunner

    from commonground.cli import app
    from commonground.ingest import store_path

    runner = CliRunner()
    empty = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--advance", "1d"])
    assert empty.exit_code != 0 and "Traceback" not in empty.output
    assert "There is no demo in this data directory" in " ".join(empty.output.split())
    store_path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    store_path(tmp_path).touch()
    old = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--advance", "1d"])
    assert old.exit_code != 0
    assert "built before its clock could move on" in " ".join(old.output.split())
    wrong = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--advance", "tomorrow"])
    assert wrong.exit_code != 0 and "such as 1d" in " ".join(wrong.output.split())
    assert read_clock(tmp_path) is None
