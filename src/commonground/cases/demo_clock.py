"""The demo's clock: how far a trainer has moved a demonstration on, kept in its data directory.

``commonground demo`` holds back the synthetic area's last :data:`HELD_BACK_DAYS` days when it builds a demo, and
writes this file (``demo-clock.json``): the demo's first present moment (``origin``, UK wall-clock time), the last
day its feeds have delivered, and how far the clock has been moved on since (``advanced``). ``commonground demo
--advance 1d`` delivers the next day's records, runs the rules as of the new moment and moves the clock; the
service reads the file and shows every deadline by the real clock moved on by ``advanced`` (:func:`service_offset`).

The demo's feeds arrive once a day, at the time of day the demo was built: a day's records are delivered, linked
and flagged at that time on the next day (a *tick*). So the moments the rules run at do not depend on how the
trainer moves the clock: ``--advance 1d`` twice and ``--advance 2d`` once deliver the same days and run the rules at
the same moments, and leave the same work and the same notices. An advance that crosses no tick moves only the
clock (deadlines pass, nothing new arrives).

A data directory without the file is not a demo whose clock moves (a real service, or a demo built before the clock
could move): its clock is the real one. A production service never reads the file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from commonground.errors import UserError

UK = ZoneInfo("Europe/London")
CLOCK_FILE = "demo-clock.json"
HELD_BACK_DAYS = 14
"""The area's last days a new demo holds back, for a trainer to move the clock through."""
DAY = dt.timedelta(days=1)

_PART = re.compile(r"(\d+)\s*([wdhm])", re.ASCII)
_UNITS = {"w": dt.timedelta(weeks=1), "d": DAY, "h": dt.timedelta(hours=1), "m": dt.timedelta(minutes=1)}
RUN_DAYS_AGO = (6, 3, 1, 0)
"""When a new demo's rules run, in days before its first present moment: the hub has been live for a week."""


@dataclass(frozen=True)
class DemoClock:
    area: str
    """The moved area's folder name under ``demo-area/`` in the data directory."""
    origin: dt.datetime
    """The demo's present moment when it was built (UK wall-clock time, naive as the rules take it)."""
    last_day: dt.date
    """The moved area's last day: the clock can move on until its records are all delivered."""
    released_through: dt.date
    """The last day whose records the feeds have delivered."""
    advanced: dt.timedelta = dt.timedelta(0)
    """How far the clock has been moved on from ``origin``."""

    @property
    def now(self) -> dt.datetime:
        """The demo's present moment: the moment of the last tick or advance (UK wall-clock time, naive)."""
        return self.origin + self.advanced

    @property
    def live_from(self) -> dt.datetime:
        """When the demo's hub began (its first rules run, a week before the origin): aware, UK."""
        return (self.origin - dt.timedelta(days=max(RUN_DAYS_AGO))).replace(tzinfo=UK)

    @property
    def limit(self) -> dt.timedelta:
        """How far the clock can be moved on from ``origin`` at most: to the tick that delivers the last day."""
        return max(self.last_day - self.origin.date() + DAY, dt.timedelta(0))

    def tick(self, k: int) -> Tick:
        """The ``k``-th tick after the origin (k >= 1)."""
        return Tick(at=self.origin + k * DAY, day=self.origin.date() + (k - 1) * DAY)

    def ticks_until(self, advanced: dt.timedelta) -> list[Tick]:
        """The ticks after the clock's present moment up to ``advanced`` from the origin, whose day is not yet
        delivered."""
        first, last = self.advanced // DAY + 1, advanced // DAY
        return [t for t in (self.tick(k) for k in range(first, last + 1)) if t.day > self.released_through]

    def moved_to(self, tick: Tick) -> DemoClock:
        return replace(self, advanced=tick.at - self.origin, released_through=max(self.released_through, tick.day))


@dataclass(frozen=True)
class Tick:
    at: dt.datetime
    """When the feeds deliver and the rules run (UK wall-clock time, naive)."""
    day: dt.date
    """The day whose records are delivered."""


def clock_path(data_dir: Path) -> Path:
    return data_dir / CLOCK_FILE


def read_clock(data_dir: Path) -> DemoClock | None:
    """The demo's clock kept in ``data_dir``, or ``None`` if there is none."""
    path = clock_path(data_dir)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return DemoClock(
        area=str(data["area"]),
        origin=dt.datetime.fromisoformat(data["origin"]),
        last_day=dt.date.fromisoformat(data["last_day"]),
        released_through=dt.date.fromisoformat(data["released_through"]),
        advanced=dt.timedelta(seconds=int(data["advanced_seconds"])),
    )


def write_clock(data_dir: Path, clock: DemoClock) -> None:
    """Keep the clock (written whole, then moved into place: a reader never sees half a file)."""
    data = {
        "area": clock.area,
        "origin": clock.origin.isoformat(),
        "last_day": clock.last_day.isoformat(),
        "released_through": clock.released_through.isoformat(),
        "advanced_seconds": int(clock.advanced.total_seconds()),
        "now": clock.now.isoformat(),
    }
    path = clock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


_offsets: dict[Path, tuple[int, dt.timedelta | None]] = {}


def service_offset(data_dir: Path) -> dt.timedelta | None:
    """How far the service's clock is ahead of the real one in this data directory: a demo's ``advanced``, or
    ``None`` when the data directory holds no demo clock. Read again only when the file changes (a request
    costs a ``stat``), so a demo served while a trainer moves its clock on follows it."""
    path = clock_path(data_dir)
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    known = _offsets.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        clock = read_clock(data_dir)
    except (OSError, ValueError, KeyError):
        return None  # being replaced: the next request reads it
    offset = clock.advanced if clock is not None else None
    _offsets[path] = (stamp, offset)
    return offset


def parse_duration(text: str) -> dt.timedelta:
    """``1d``, ``6h``, ``2d12h``, ``1w``, ``90m``: how far to move the clock on (more than nothing)."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not cleaned or _PART.sub("", cleaned).strip() or not parts:
        raise UserError("--advance takes a length of time such as 1d (a day), 6h (six hours), 2d12h or 1w (a week)")
    total = sum((int(n) * _UNITS[unit] for n, unit in parts), dt.timedelta(0))
    if total <= dt.timedelta(0):
        raise UserError("--advance needs a length of time of more than nothing, such as 1d or 6h")
    return total


def describe(span: dt.timedelta) -> str:
    """A length of time in words: '2 days', '1 day and 6 hours', '45 minutes'."""
    days, rest = divmod(int(span.total_seconds()), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [
        f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n
    ]
    if not parts:
        return "no time"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
