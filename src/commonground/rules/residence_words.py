"""Residence inferred, said in words (#15).

Linkage infers that a person lived at an address before their first record there, when the other people of the
household were recorded there continuously since earlier (``households.start_inferred_from``). An exposure that
rests on such a period (the child's, or the adult's whose record it is) must say so, or a practitioner would read a
guess as a fact. The words name only person ids and months: never a name or an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

HOUSEHOLD_FEEDS = frozenset({"households", "police_incidents"})
"""Evidence that reaches a person through a household: a departure, an incident at the home."""


@dataclass(frozen=True)
class InferredPeriod:
    person_id: str
    start: date
    first_sighting: date

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment.date() < self.first_sighting


def inferred_periods(build_dir: Path, person_ids: set[str]) -> list[InferredPeriod]:
    """The periods of these people whose start linkage inferred (none on a build made before #15)."""
    path = build_dir / "build.duckdb"
    if not person_ids or not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as con:
        has = con.execute(
            "SELECT COUNT(*) FROM duckdb_columns() "
            "WHERE table_name = 'households' AND column_name = 'start_inferred_from'"
        ).fetchone()
        if not has or not has[0]:
            return []
        rows = con.execute(
            "SELECT CAST(person_id AS VARCHAR), start_date, first_sighting FROM households "
            "WHERE start_inferred_from IS NOT NULL AND CAST(person_id AS VARCHAR) IN (SELECT UNNEST(?)) "
            "ORDER BY person_id, start_date",
            [sorted(person_ids)],
        ).fetchall()
    return [InferredPeriod(person_id=r[0], start=r[1], first_sighting=r[2]) for r in rows]


def residence_note(period: InferredPeriod, *, subject: str) -> str:
    """One inferred period in words. ``subject`` is whose period it is: the explained person or another one."""
    if period.person_id == subject:
        who, them = "this person", "them"
    else:
        who, them = f"person {period.person_id}", "them"
    return (
        f"Residence inferred: {who} was first recorded at the address in {period.first_sighting:%B %Y}; "
        f"the people living there were recorded there from {period.start:%B %Y}, so the rules count {them} as "
        "living there from then. Who lived with whom, and how they are related, is inferred from addresses, "
        "not recorded."
    )
