"""Releasing a moved area a day at a time: the extracts a partnership would have received by a given day, so that a
demonstration can hold back the area's last days and deliver them later, as its clock moves on
(``commonground demo --advance``).

Each row of a feed has a **day**: the day its event happened, read from the feed's event column
(:data:`EVENT_COLUMNS`: an incident's ``occurred_at``, a custody record's ``arrested_at``, a referral's
``referral_date`` ...). A person named on an incident has the incident's day (``police_incident_persons`` has no
moment of its own). A release writes, for each feed, the rows whose day falls in a span, in the area's order and
byte for byte as they are, so that ingest finds in them exactly what it would have found in the whole area.

Rows that belong to no day of the area are in the first release: reference feeds (schools, postcode areas), a row
whose event cell is blank or not a real date (the area's deliberate defects), and a row dated outside the area's
window (a date moved 40 years on, another defect), since no clock ever reaches it and ingest must still find it.
A record is delivered once, as the area holds it: its end (a release from custody, a return from a missing episode)
comes with it even when that end is later than the day it is delivered on.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from commonground.contracts import feed_for_filename
from commonground.synth.shift import shift_date_text, shift_datetime_text

EVENT_COLUMNS: dict[str, str] = {
    "police_incidents": "occurred_at",
    "custody_records": "arrested_at",
    "missing_episodes": "reported_at",
    "street_triage": "contacted_at",
    "ed_attendances": "arrived_at",
    "mental_health_contacts": "contact_date",
    "substance_treatment": "start_date",
    "childrens_social_care": "referral_date",
    "custodial_sentences": "received_at",
    "school_roll": "enrolled_on",
}
"""Each dated feed's event column: the moment the partner would first have recorded the row."""

INCIDENT_PERSONS = "police_incident_persons"
"""Named on an incident: released with the incident (its ``incident_id``)."""


@dataclass(frozen=True)
class Span:
    """The days a release covers: after ``after`` (``None``: from the beginning, the first release) up to and
    including ``through``; ``last_day`` is the area's last day (rows after it belong to no day a clock reaches)."""

    after: dt.date | None
    through: dt.date
    last_day: dt.date

    def holds(self, day: dt.date | None) -> bool:
        if self.after is None:
            return day is None or day <= self.through or day > self.last_day
        return day is not None and self.after < day <= self.through


@dataclass(frozen=True)
class Release:
    folder: Path
    rows: dict[str, int]
    """Rows written per feed (a feed with none in the span has no file, except in the first release)."""


def event_day(text: str) -> dt.date | None:
    """The day of a date or date-time cell (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]``), or ``None`` if the cell is
    blank or not a real date or date-time (as :mod:`commonground.synth.shift` judges it, which left such a cell
    unmoved)."""
    if shift_date_text(text, 0) is None and shift_datetime_text(text, 0) is None:
        return None
    text = text.strip()
    return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))


def _rows(path: Path) -> Iterator[list[str]]:
    # surrogateescape: bytes that are not UTF-8 (a defect) go through unchanged
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as f:
        yield from csv.reader(f)


def _column(header: list[str], name: str) -> int | None:
    """The position of a column as ingest matches it (no regard to case or surrounding spaces)."""
    wanted = [i for i, h in enumerate(header) if h.strip().lower() == name]
    return wanted[0] if wanted else None


def incident_days(feeds: Path) -> dict[str, dt.date | None]:
    """Each incident's day, by its ``incident_id``."""
    path = feeds / "police_incidents.csv"
    if not path.exists():
        return {}
    rows = _rows(path)
    header = next(rows, None) or []
    key, moment = _column(header, "incident_id"), _column(header, EVENT_COLUMNS["police_incidents"])
    if key is None or moment is None:
        return {}
    return {row[key]: event_day(row[moment]) for row in rows if len(row) > max(key, moment)}


def release(*, feeds: Path, out: Path, span: Span) -> Release:
    """Write into ``out`` (made; emptied of CSV files first) the rows of every feed file of ``feeds`` whose day
    falls in ``span``; returns how many rows of each feed were written."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.csv"):
        old.unlink()
    incidents = incident_days(feeds)
    written: dict[str, int] = {}
    for path in sorted(feeds.glob("*.csv")):
        feed = feed_for_filename(path)
        if feed is None:
            continue
        rows = _rows(path)
        header = next(rows, None)
        if header is None:
            continue
        day_of = _day_reader(feed.name, header, incidents)
        kept = [row for row in rows if span.holds(day_of(row))]
        if not kept and span.after is not None:
            continue
        with (out / path.name).open("w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(kept)
        written[feed.name] = len(kept)
    return Release(folder=out, rows=written)


def _day_reader(feed: str, header: list[str], incidents: dict[str, dt.date | None]) -> _DayOf:
    if feed == INCIDENT_PERSONS:
        key = _column(header, "incident_id")
        return _DayOf(key, lambda cell: incidents.get(cell))
    name = EVENT_COLUMNS.get(feed)
    return _DayOf(_column(header, name) if name else None, event_day)


@dataclass(frozen=True)
class _DayOf:
    """A row's day: ``read`` of the cell at ``column`` (no column: no day, so the first release)."""

    column: int | None
    read: Callable[[str], dt.date | None]

    def __call__(self, row: list[str]) -> dt.date | None:
        if self.column is None or self.column >= len(row):
            return None
        return self.read(row[self.column])
