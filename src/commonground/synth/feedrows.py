"""Collecting the rows of a feed from several sources, and drawing times of day.

Each observation stage adds rows to a :class:`FeedRows` as column arrays (strings for the
feed's own columns, integers for the person and the time). ``finish`` puts the rows in time
order and numbers them, so record ids rise with time as a partner's system would issue them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from commonground.contracts import FEEDS
from commonground.synth.arrays import IntArray, ObjArray, blanks, ints, pick, texts
from commonground.synth.timeline import NO_DAY, SECONDS_PER_DAY, T1, civil

# Relative frequency of each hour of the day (0-23) for different kinds of event.
HOURS: dict[str, tuple[float, ...]] = {
    # Emergency-department arrivals: a morning rise, busiest 10:00-20:00 (HES A&E).
    "ed": (2, 1.6, 1.3, 1.1, 1, 1, 1.3, 2, 3.5, 5, 5.8, 5.8, 5.6, 5.4, 5.3, 5.3, 5.4, 5.5, 5.5, 5.2, 4.6, 4, 3.3, 2.6),
    # Domestic abuse and violence: evenings and nights, peaking around midnight.
    "evening": (5, 4.5, 3.5, 2.5, 1.5, 1, 1, 1, 1.2, 1.5, 1.8, 2, 2.2, 2.4, 2.6, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6, 5.5),
    # Ordinary police and agency business: office hours with a long tail.
    "day": (1, 0.7, 0.5, 0.4, 0.4, 0.6, 1, 2, 3.5, 4.5, 5, 5, 5, 5, 5, 5, 4.8, 4.5, 4, 3.5, 3, 2.5, 2, 1.5),
    # Mental-health crises: late afternoon to the small hours.
    "night": (4, 3.5, 3, 2.5, 2, 1.5, 1.2, 1.2, 1.5, 2, 2.5, 3, 3.2, 3.4, 3.6, 3.8, 4, 4.2, 4.5, 4.8, 5, 5, 4.8, 4.5),
}


def at_time(rng: np.random.Generator, day: IntArray, profile: str) -> IntArray:
    """Seconds since 1970 on each day, at an hour drawn from the profile."""
    weights = np.asarray(HOURS[profile], dtype=np.float64)
    cum = np.cumsum(weights / weights.sum())
    hour = np.minimum(np.searchsorted(cum, rng.random(len(day)), side="right"), 23)
    within = rng.integers(0, 3600, size=len(day))
    return np.asarray(day.astype(np.int64) * SECONDS_PER_DAY + hour * 3600 + within, dtype=np.int64)


def clip_to_window(seconds: IntArray) -> IntArray:
    """Instants after the end of the window become unknown (NO_DAY): not yet happened at extract."""
    return np.where(seconds < T1 * SECONDS_PER_DAY, seconds, NO_DAY)


def code_cells(values: tuple[str, ...], index: IntArray) -> ObjArray:
    """Code-list values by index (negative index: blank)."""
    return pick(texts(list(values)), index)


def bool_cells(value: np.ndarray, blank: np.ndarray | None = None) -> ObjArray:
    """``true``/``false`` cells, blank where ``blank`` is set."""
    out = np.where(np.asarray(value, dtype=bool), "true", "false").astype(object)
    if blank is not None:
        out[np.asarray(blank, dtype=bool)] = ""
    return out


def int_cells(value: IntArray, blank: np.ndarray | None = None) -> ObjArray:
    out = texts([str(v) for v in value.tolist()])
    if blank is not None:
        out[np.asarray(blank, dtype=bool)] = ""
    return out


class FeedRows:
    """The rows of one feed, gathered from every source that feeds it."""

    def __init__(self, feed: str) -> None:
        self.contract = FEEDS[feed]
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, *, pid: IntArray, day: IntArray, sort: IntArray, **cols: ObjArray) -> None:
        """Rows for people ``pid`` whose identity is as on ``day``; ``sort`` orders the feed."""
        n = len(pid)
        unknown = set(cols) - set(self.contract.column_names)
        if unknown:
            raise KeyError(f"{self.contract.name}: no columns {sorted(unknown)}")
        part: dict[str, np.ndarray] = {"_pid": ints(pid), "_day": ints(day), "_sort": ints(sort)}
        for name, values in cols.items():
            if len(values) != n:
                raise ValueError(f"{self.contract.name}.{name}: {len(values)} values for {n} rows")
            part[name] = values
        self.parts.append(part)

    def __len__(self) -> int:
        return sum(len(p["_pid"]) for p in self.parts)

    def finish(self, record_ids: Callable[[IntArray, IntArray], ObjArray]) -> dict[str, np.ndarray]:
        """All rows in time order with their record ids; missing columns are blank."""
        n = len(self)
        out: dict[str, np.ndarray] = {}
        for name in ("_pid", "_day", "_sort"):
            out[name] = np.concatenate([p[name] for p in self.parts]) if self.parts else ints()
        for col in self.contract.column_names:
            vals = [p[col] if col in p else blanks(len(p["_pid"])) for p in self.parts]
            out[col] = np.concatenate(vals).astype(object) if vals else blanks(0)
        order = np.lexsort((np.arange(n), out["_pid"], out["_sort"]))
        out = {k: v[order] for k, v in out.items()}
        out["record_id"] = record_ids(np.arange(n, dtype=np.int64), out["_sort"])
        return out


def sequential_ids(prefix: str, width: int = 8) -> Callable[[IntArray, IntArray], ObjArray]:
    """Ids like ``PI-00012345``: one running number for the whole feed."""

    def make(seq: IntArray, _: IntArray) -> ObjArray:
        w = max(width, len(str(len(seq))))
        return texts([f"{prefix}{i + 1:0{w}d}" for i in seq.tolist()])

    return make


def yearly_ids(
    prefix: str, width: int = 6, sep: str = "-", two_digit: bool = False
) -> Callable[[IntArray, IntArray], ObjArray]:
    """Ids like ``ED2023-000123`` or ``CR/23/004512``: the number restarts each calendar year."""

    def make(seq: IntArray, sort: IntArray) -> ObjArray:
        day = np.where(sort > 0, sort // SECONDS_PER_DAY, 0)
        year, _, _ = civil(day)
        first = np.searchsorted(year, year, side="left")
        number = seq - first + 1
        w = max(width, len(str(int(number.max()) if len(number) else 0)))
        fmt = [
            f"{prefix}{y % 100 if two_digit else y:02d}{sep}{k:0{w}d}"
            for y, k in zip(year.tolist(), number.tolist(), strict=True)
        ]
        return texts(fmt)

    return make
