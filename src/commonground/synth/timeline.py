"""The observation window and how the synth counts and writes time.

Days are whole days since 1970-01-01 and instants are whole seconds since then, both int64,
so that every stage works on plain integer arrays. The window is fixed (never today's date):
the same seed gives the same area whenever it is run.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from commonground.synth.arrays import IntArray, ObjArray, blanks

WINDOW_START = date(2020, 11, 1)
WINDOW_END = date(2026, 10, 31)
"""The last day observed (inclusive)."""

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25
NO_DAY = np.int64(-(10**9))
"""Marks a missing date in a day array; written as a blank cell."""


def day_of(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


T0 = day_of(WINDOW_START)
T1 = day_of(WINDOW_END) + 1
"""The window is the half-open day range [T0, T1)."""
WINDOW_DAYS = T1 - T0
WINDOW_YEARS = WINDOW_DAYS / DAYS_PER_YEAR


def years(n: float) -> int:
    """A number of years as whole days."""
    return round(n * DAYS_PER_YEAR)


def format_days(days: IntArray) -> ObjArray:
    """``YYYY-MM-DD`` strings; NO_DAY (or anything before year 1) gives a blank."""
    out = blanks(len(days))
    ok = days > -700_000
    if ok.any():
        out[ok] = np.datetime_as_string(days[ok].astype("datetime64[D]"), unit="D").astype(object)
    return out


def format_seconds(seconds: IntArray) -> ObjArray:
    """``YYYY-MM-DDTHH:MM:SS`` strings; NO_DAY gives a blank."""
    out = blanks(len(seconds))
    ok = seconds > NO_DAY
    if ok.any():
        out[ok] = np.datetime_as_string(seconds[ok].astype("datetime64[s]"), unit="s").astype(object)
    return out


def civil(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month and day of month of each day number."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    dom = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def from_civil(year: IntArray, month: IntArray, dom: IntArray) -> IntArray:
    """Day numbers from year, month and day of month (which must be valid)."""
    months = (year - 1970) * 12 + (month - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + dom - 1


def school_year_start(year: IntArray) -> IntArray:
    """The first day of the English school year starting in the autumn of ``year`` (about 4 Sept)."""
    return from_civil(year, np.full_like(year, 9), np.full_like(year, 4))


def school_year_end(year: IntArray) -> IntArray:
    """The last day of the English school year that ends in the summer of ``year`` (about 21 July)."""
    return from_civil(year, np.full_like(year, 7), np.full_like(year, 21))
