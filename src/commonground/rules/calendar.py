"""School days and deadlines: weekends, England's bank holidays, the area's school holidays.

Bank holidays come from the copy of the GOV.UK list that ships with ``govuk-bank-holidays``
(``use_cached_holidays=True``): nothing is downloaded at run time. Beyond the end of that list
only weekends and the configured holidays are known; :attr:`SchoolCalendar.known_until` says
where that is.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

import pyarrow as pa

from commonground.rules.routing import SchoolDays

_ONE_DAY = timedelta(days=1)


@functools.cache
def bank_holidays(division: str = "england-and-wales") -> frozenset[date]:
    """The bank holidays of a GOV.UK division, from the cached list (no network)."""
    from govuk_bank_holidays.bank_holidays import BankHolidays

    holidays = BankHolidays(use_cached_holidays=True)
    return frozenset(h["date"] for h in holidays.get_holidays(division=division))


class SchoolCalendar:
    """Which days are school days, and when the next one starts."""

    def __init__(self, spec: SchoolDays, *, bank_holiday_dates: frozenset[date] | None = None) -> None:
        self.spec = spec
        self.bank_holidays = bank_holidays(spec.bank_holidays) if bank_holiday_dates is None else bank_holiday_dates
        self.known_until = max(self.bank_holidays) if self.bank_holidays else None

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.bank_holidays:
            return False
        return not any(h.start <= day <= h.end for h in self.spec.holidays)

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, self.spec.starts_at)

    def next_school_day_start(self, after: datetime) -> datetime:
        """The start of the first school day that begins after ``after``.

        An incident on a Friday evening is due on Monday at the start time; one on a Monday at
        06:00 (a school day) is due that Monday at the start time.
        """
        day = after.date()
        if self.is_school_day(day) and after < self.day_start(day):
            return self.day_start(day)
        day += _ONE_DAY
        for _ in range(400):
            if self.is_school_day(day):
                return self.day_start(day)
            day += _ONE_DAY
        raise ValueError("no school day within 400 days: check the school holidays")

    def table(self, first: date, last: date) -> pa.Table:
        """One row per day: ``day``, ``is_school_day``, ``day_start``, ``next_start`` (the next
        school day's start strictly after that day), for the engine to join flags against."""
        days: list[date] = []
        flags: list[bool] = []
        starts: list[datetime] = []
        nexts: list[datetime] = []
        day = first
        while day <= last:
            days.append(day)
            flags.append(self.is_school_day(day))
            starts.append(self.day_start(day))
            nexts.append(self.next_school_day_start(datetime.combine(day, datetime.max.time())))
            day += _ONE_DAY
        return pa.table(
            {
                "day": pa.array(days, pa.date32()),
                "is_school_day": pa.array(flags, pa.bool_()),
                "day_start": pa.array(starts, pa.timestamp("us")),
                "next_start": pa.array(nexts, pa.timestamp("us")),
            }
        )
