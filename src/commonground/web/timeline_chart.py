"""A person's timeline as a picture: one row per agency, a dot per event, over the years the records cover.
Drawn as SVG on the server (no JavaScript), with a text description for screen readers; the list below the chart
carries the same events in words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from commonground.cases.person_view import Event
from commonground.web.present import agency

WIDTH = 700
LABEL = 200
ROW = 26


@dataclass(frozen=True)
class Chart:
    height: int
    rows: list[tuple[str, int, list[float]]]
    """(agency, y, x of each event)."""
    ticks: list[tuple[float, str]]
    description: str


def timeline_chart(events: list[Event], *, today: dt.date) -> Chart | None:
    dated = [e for e in events if e.at is not None]
    if not dated:
        return None
    start = min(e.at for e in dated if e.at is not None).date().replace(month=1, day=1)
    end = max(today, max(e.at for e in dated if e.at is not None).date())
    span = max((end - start).days, 1)
    by_agency: dict[str, list[float]] = {}
    for event in dated:
        assert event.at is not None
        x = LABEL + (event.at.date() - start).days / span * (WIDTH - LABEL - 10)
        by_agency.setdefault(agency(event.feed), []).append(round(x, 1))
    rows = [(name, 20 + i * ROW, xs) for i, (name, xs) in enumerate(sorted(by_agency.items()))]
    ticks = []
    for year in range(start.year, end.year + 1):
        x = LABEL + (dt.date(year, 1, 1) - start).days / span * (WIDTH - LABEL - 10)
        ticks.append((round(x, 1), str(year)))
    description = "; ".join(f"{name}: {len(xs)} event{'s' if len(xs) != 1 else ''}" for name, _, xs in rows)
    return Chart(height=30 + len(rows) * ROW + 20, rows=rows, ticks=ticks, description=description)
