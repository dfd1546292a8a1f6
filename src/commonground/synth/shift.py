"""Moving a synthetic area in time: a copy of its feeds with every date and date-time moved by the same whole number
of days, so that a demonstration's records end yesterday while the area itself (its fixed window, its seed) stays
reproducible.

Which cells move is read from the feed contracts (columns of type ``date`` and ``datetime``), never guessed from
the text. A cell that is not a real date or date-time (the area's deliberate defects: ``2022-04-14T27:51:00``, a
blank) is copied exactly as it is, so ingest finds the same problems in the copy as in the area; every other cell,
and the number and order of rows, is unchanged. The area is never changed in place.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from commonground.contracts import ColumnType, FeedContract, feed_for_filename

FEEDS_FOLDER = "feeds"
"""The shifted feeds, in a folder of their own: what ingest reads (it reports any other file there)."""

SHIFT_FILE = "shift.json"
"""Written beside that folder: how many days, from which area, and the area's window before and after."""

_DATE = re.compile(r"^(\s*)(\d{4})-(\d{2})-(\d{2})(\s*)$", re.ASCII)
_DATETIME = re.compile(r"^(\s*)(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2})(:\d{2})?(\s*)$", re.ASCII)


@dataclass(frozen=True)
class ShiftSummary:
    days: int
    files: int
    rows: int
    cells_moved: int
    cells_kept: int
    """Date or date-time cells left as they were: not a real date (a defect), or blank."""


def days_to_end_on(*, last_day: dt.date, end_on: dt.date) -> int:
    """The whole number of days that moves ``last_day`` onto ``end_on``. Every day moves by the same amount, so the
    day of the week of each record moves too (by ``days % 7``); school-day deadlines are worked out afterwards, from
    the moved dates and the real calendar, so they stay right."""
    return (end_on - last_day).days


def shift_date_text(text: str, days: int) -> str | None:
    """``YYYY-MM-DD`` moved by ``days`` (surrounding spaces kept); ``None`` if the text is not a real date."""
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        day = dt.date(int(m[2]), int(m[3]), int(m[4])) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{m[1]}{day.isoformat()}{m[5]}"


def shift_datetime_text(text: str, days: int) -> str | None:
    """``YYYY-MM-DDTHH:MM[:SS]`` (or with a space for the ``T``) moved by ``days``, written as it came (separator,
    seconds or none, surrounding spaces); ``None`` if it is not a real date and time of day. The wall-clock time is
    kept: a record at 21:30 stays at 21:30 local time, whatever the clocks did in between."""
    m = _DATETIME.match(text)
    if m is None:
        return None
    hour, minute, second = int(m[6]), int(m[7]), int(m[8][1:]) if m[8] else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        day = dt.date(int(m[2]), int(m[3]), int(m[4])) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{m[1]}{day.isoformat()}{m[5]}{m[6]}:{m[7]}{m[8] or ''}{m[9]}"


_SHIFTERS = {ColumnType.DATE: shift_date_text, ColumnType.DATETIME: shift_datetime_text}


TRUTH_DATES: dict[str, tuple[str, ...]] = {
    "exposures.csv": ("start", "end"),
    "households.csv": ("start", "end"),
    "interventions.csv": ("start",),
    "people.csv": ("family_name_changed_on", "date_of_birth"),
}
"""The date columns of the ground truth's files, as :mod:`commonground.synth.output` writes them (the truth has no
contract); its other files (``records.csv``, ``defects.csv``) hold no dates."""


def dated_columns(feed: FeedContract) -> dict[str, ColumnType]:
    """The feed's date and date-time columns, from its contract."""
    return {c.name: c.type for c in feed.columns if c.type in _SHIFTERS}


def shift_file(source: Path, target: Path, *, columns: Mapping[str, ColumnType], days: int) -> tuple[int, int, int]:
    """Copy one CSV file with the cells of ``columns`` (name to date or date-time; a header matches as ingest
    matches it, without regard to case or surrounding spaces) moved; returns (rows, moved, kept)."""
    rows = moved = kept = 0
    # surrogateescape: bytes that are not UTF-8 (a defect) go through unchanged
    with (
        source.open(encoding="utf-8", errors="surrogateescape", newline="") as f_in,
        target.open("w", encoding="utf-8", errors="surrogateescape", newline="") as f_out,
    ):
        reader = csv.reader(f_in)
        writer = csv.writer(f_out, lineterminator="\n")
        header = next(reader, None)
        if header is None:
            return 0, 0, 0
        writer.writerow(header)
        wanted = [(i, columns[h.strip().lower()]) for i, h in enumerate(header) if h.strip().lower() in columns]
        for row in reader:
            rows += 1
            for i, kind in wanted:
                if i >= len(row):
                    continue
                new = _SHIFTERS[kind](row[i], days)
                if new is None:
                    kept += 1
                else:
                    row[i] = new
                    moved += 1
            writer.writerow(row)
    return rows, moved, kept


def shift_area(*, source: Path, out: Path, days: int) -> ShiftSummary:
    """Write into ``out/feeds`` (made, or emptied of CSV files first) a copy of every feed file of ``source`` (not
    its subfolders, as ingest reads it) with every date and date-time moved by ``days``; into ``out/truth`` the
    ground truth moved alike (so that ``rules-report --truth`` and ``evaluate --truth`` can be pointed at it); and
    ``out/shift.json``. Files that are not a feed's CSV are not copied."""
    feeds = out / FEEDS_FOLDER
    feeds.mkdir(parents=True, exist_ok=True)
    for old in feeds.glob("*.csv"):
        old.unlink()
    files = rows = moved = kept = 0
    for path in sorted(source.iterdir()):
        feed = feed_for_filename(path)
        if not path.is_file() or feed is None or path.suffix.lower() != ".csv":
            continue
        n, m, k = shift_file(path, feeds / path.name, columns=dated_columns(feed), days=days)
        files, rows, moved, kept = files + 1, rows + n, moved + m, kept + k
    record: dict[str, object] = {"days": days, "source": str(source.resolve())}
    if (source / "truth").is_dir():
        record.update(_shift_truth(source / "truth", out / "truth", days=days))
    (out / SHIFT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return ShiftSummary(days=days, files=files, rows=rows, cells_moved=moved, cells_kept=kept)


def _shift_truth(source: Path, out: Path, *, days: int) -> dict[str, object]:
    """The ground truth moved by ``days`` (files without dates copied as they are); returns the window before and
    after, for ``shift.json``."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.csv")):
        names = TRUTH_DATES.get(path.name, ())
        shift_file(path, out / path.name, columns=dict.fromkeys(names, ColumnType.DATE), days=days)
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    window = dict(manifest["window"])
    manifest["window"] = {k: shift_date_text(v, days) or v for k, v in window.items()}
    for intervention in manifest.get("interventions", {}).values():
        for key in ("index_crises_from", "index_crises_to"):
            if key in intervention:
                intervention[key] = shift_date_text(intervention[key], days) or intervention[key]
    manifest["shifted_by_days"] = days
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {"window": window, "shifted_window": manifest["window"]}


def read_shift(folder: Path) -> dict[str, object] | None:
    """What :func:`shift_area` recorded in ``folder``, or ``None`` if it holds no shifted area."""
    path = folder / SHIFT_FILE
    if not path.exists():
        return None
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data
