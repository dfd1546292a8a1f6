"""An intervention cohort: pseudonymous person ids of the current build and the day each one started.

From a CSV (``person_id,start_date``; ``start`` is accepted for the date column) or from a list of
``(person_id, start_date)`` pairs, as the hub's referrals will give it. A person listed twice
keeps their earliest start; the file's values never appear in an error message.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from commonground.errors import UserError

_DATE_COLUMNS = ("start_date", "start")


@dataclass(frozen=True)
class Cohort:
    """Who received the intervention and from when, one entry per person (earliest start)."""

    entries: tuple[tuple[str, date], ...]
    duplicates: int = 0
    """Rows dropped because the person was already listed."""

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def person_ids(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.entries)


def cohort_from_pairs(pairs: Iterable[tuple[str, date]]) -> Cohort:
    """A cohort from ``(person_id, start_date)`` pairs."""
    first: dict[str, date] = {}
    rows = 0
    for index, (person_id, start) in enumerate(pairs, start=1):
        rows += 1
        pid = str(person_id).strip()
        if not pid:
            raise UserError(f"cohort entry {index}: blank person id")
        if not isinstance(start, date):
            raise UserError(f"cohort entry {index}: the start is not a date")
        if pid not in first or start < first[pid]:
            first[pid] = start
    if not first:
        raise UserError("the cohort is empty")
    entries = tuple(sorted(first.items(), key=lambda e: (e[1], e[0])))
    return Cohort(entries=entries, duplicates=rows - len(entries))


def read_cohort_csv(path: Path) -> Cohort:
    """A cohort from a CSV with columns ``person_id`` and ``start_date`` (ISO dates, ``YYYY-MM-DD``)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            date_column = next((c for c in _DATE_COLUMNS if c in columns), None)
            if "person_id" not in columns or date_column is None:
                raise UserError(
                    f"{path.name}: needs the columns person_id and start_date (found: {', '.join(columns)})"
                )
            pairs = []
            for line, row in enumerate(reader, start=2):
                try:
                    start = date.fromisoformat((row[date_column] or "").strip())
                except ValueError:
                    raise UserError(f"{path.name} line {line}: {date_column} is not a date (YYYY-MM-DD)") from None
                pairs.append((row["person_id"] or "", start))
    except OSError as error:
        raise UserError(f"{path}: {error.strerror or error}") from error
    return cohort_from_pairs(pairs)


def read_person_ids(path: Path) -> tuple[str, ...]:
    """The ``person_id`` column of a CSV (other columns ignored), blanks skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if "person_id" not in (reader.fieldnames or []):
                raise UserError(f"{path.name}: needs a person_id column")
            return tuple(dict.fromkeys(v for row in reader if (v := (row["person_id"] or "").strip())))
    except OSError as error:
        raise UserError(f"{path}: {error.strerror or error}") from error
