"""The soak's time series (#18) as a CSV file and as a small SVG drawn by hand: p95 latency and memory over time.

No plotting library: matplotlib is not a dependency, and two polylines with their axes are a few lines of SVG. The
picture is meant for docs/reliability.md, so it carries its own title, axis labels and legend in words.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Window:
    """One 10-second window of the soak: what was answered in it, and the memory sampled at its end."""

    start_s: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    server_rss_mb: float
    postgres_backends_mb: float | None
    load_average: float


def write_csv(path: Path, windows: Sequence[Window]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Window)])
        writer.writeheader()
        for window in windows:
            row = asdict(window)
            row["postgres_backends_mb"] = "" if window.postgres_backends_mb is None else window.postgres_backends_mb
            writer.writerow(row)


WIDTH, PANEL, LEFT, RIGHT, TOP = 760, 190, 70, 20, 40
COLOURS = ("#1d70b8", "#d4351c", "#00703c")


def _nice_top(value: float) -> float:
    """A round number at or above ``value`` for the top of an axis."""
    if value <= 0:
        return 1.0
    step = 10.0 ** len(str(int(value))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def _panel(
    top: float, title: str, unit: str, series: list[tuple[str, list[tuple[float, float]]]], duration: float
) -> list[str]:
    """One chart: a title, a y axis from 0 to a round top, the time axis in minutes, a polyline per series."""
    inner = WIDTH - LEFT - RIGHT
    highest = _nice_top(max((y for _, points in series for _, y in points), default=1.0))
    parts = [
        f'<text x="{LEFT}" y="{top - 12}" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{top}" width="{inner}" height="{PANEL}" fill="none" stroke="#b1b4b6"/>',
    ]
    for k in range(5):
        value = highest * k / 4
        y = top + PANEL - PANEL * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + inner}" y1="{y:.1f}" y2="{y:.1f}" stroke="#f3f2f1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g} {unit}</text>')
    minutes = max(1, int(duration // 60))
    for minute in range(0, minutes + 1, max(1, minutes // 10)):
        x = LEFT + inner * (minute * 60) / max(duration, 1)
        parts.append(f'<text x="{x:.1f}" y="{top + PANEL + 16}" text-anchor="middle">{minute} min</text>')
    for (label, points), colour, n in zip(series, COLOURS, range(len(series)), strict=False):
        drawn = " ".join(
            f"{LEFT + inner * t / max(duration, 1):.1f},{top + PANEL - PANEL * y / highest:.1f}" for t, y in points
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{drawn}"/>')
        parts.append(f'<text x="{LEFT + 10 + 260 * n}" y="{top + 16}" fill="{colour}">{escape(label)}</text>')
    return parts


def draw_svg(path: Path, windows: Sequence[Window], *, title: str, window_seconds: int) -> None:
    """Two panels over the soak's time: p95 (and p50) latency per window; the server's RSS (and PostgreSQL's
    backends' proportional memory, where measured)."""
    duration = float(len(windows) * window_seconds)
    mid = [w.start_s + window_seconds / 2 for w in windows]
    latency = [
        ("p95 latency", [(t, w.p95_ms) for t, w in zip(mid, windows, strict=True)]),
        ("p50 latency", [(t, w.p50_ms) for t, w in zip(mid, windows, strict=True)]),
    ]
    memory = [("service RSS", [(t, w.server_rss_mb) for t, w in zip(mid, windows, strict=True)])]
    if any(w.postgres_backends_mb is not None for w in windows):
        backends = [(t, w.postgres_backends_mb or 0.0) for t, w in zip(mid, windows, strict=True)]
        memory.append(("PostgreSQL backends (PSS)", backends))
    height = TOP + 2 * PANEL + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    parts += _panel(TOP + 20, f"Latency per {window_seconds}-second window", "ms", latency, duration)
    parts += _panel(TOP + PANEL + 70, "Memory, sampled at the end of each window", "MB", memory, duration)
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
