"""The published statistics of the current build, for the public-health analyst's pages (issue #19).

The tables are :mod:`commonground.stats`' (every figure through its disclosure control): made once per build, the
first time anyone asks, into ``<build>/stats/`` (written under a temporary name and renamed, so a reader sees a
whole output or none), then read from there. Nothing here names or identifies anyone: small areas, bands, rules
and counts. Reading them is checked (``view-statistics``) but not audited as a read of identifiable records,
because none is read.
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Subject
from commonground.contracts import FEEDS
from commonground.errors import NotFound
from commonground.stats import run_stats

STATS_FOLDER = "stats"
SOURCE_TITLES = {"population": "the linked population (every partner's records)"}
_making = threading.Lock()
_read: dict[Path, Published] = {}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    counts: str
    rows_are: str
    cols_are: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: dict[tuple[str, str], str]
    percents: dict[tuple[str, str], str]
    rule: str
    """The small-number rule applied, in words."""
    sources: tuple[str, ...]
    figures: int
    hidden: int
    labels: dict[str, str] = field(default_factory=dict)
    """Words for row keys (a rule's title for its id)."""

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    @property
    def source_titles(self) -> list[str]:
        """The sources in words (a feed's title; "the linked population")."""
        return [SOURCE_TITLES.get(s) or (FEEDS[s].title if s in FEEDS else s) for s in self.sources]

    def bars(self) -> list[tuple[str, int | None]]:
        """Each row's total ("all" column) as a number, or None where it is hidden: for the chart."""
        total = "all" if "all" in self.cols else self.cols[-1]
        out: list[tuple[str, int | None]] = []
        for row in self.rows:
            if row == "all":
                continue
            value = self.cells.get((row, total), "")
            out.append((self.label(row), int(value) if value.isdigit() else None))
        return out


@dataclass(frozen=True)
class Published:
    build_id: str
    as_of: str
    folder: Path
    tables: tuple[Table, ...]
    totals_note: str

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise NotFound()


def _subject() -> Subject:
    return Subject(kind=SubjectKind.SERVICE)


def published(ctx: Context, *, build_dir: Path | None) -> Published | None:
    """The build's published tables (made the first time they are asked for); None when there is no build with
    rules to count from yet."""
    ctx.require("view-statistics", _subject())
    if build_dir is None or not (build_dir / "build.duckdb").exists() or not (build_dir / "rules.duckdb").exists():
        return None
    folder = build_dir / STATS_FOLDER
    with _making:
        if folder in _read:
            return _read[folder]
        if not (folder / "manifest.json").exists():
            run_stats(build_dir=build_dir, out_dir=folder)
        found = _load(folder)
        _read[folder] = found
        return found


def make_statistics(build_dir: Path) -> bool:
    """Publish the build's statistics if its rules have run and they are not published yet (``hub sync`` does,
    so that no analyst waits for them); whether they are there now."""
    if not (build_dir / "rules.duckdb").exists():
        return False
    folder = build_dir / STATS_FOLDER
    with _making:
        if not (folder / "manifest.json").exists():
            run_stats(build_dir=build_dir, out_dir=folder)
    return True


def table_file(ctx: Context, *, build_dir: Path | None, name: str) -> Path:
    """A table's CSV, for download: only a table the manifest lists."""
    stats = published(ctx, build_dir=build_dir)
    if stats is None:
        raise NotFound()
    return stats.folder / f"{stats.table(name).name}.csv"


def _load(folder: Path) -> Published:
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    tables = tuple(_table(folder, name) for name in manifest["tables"])
    return Published(
        build_id=str(manifest.get("build_id", "")),
        as_of=str(manifest.get("as_of", "")),
        folder=folder,
        tables=tables,
        totals_note=str(manifest.get("totals", "")),
    )


def _table(folder: Path, name: str) -> Table:
    meta: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    rows: list[str] = []
    cols: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    percents: dict[tuple[str, str], str] = {}
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for line in reader:
            row, col, value = line[0], line[1], line[2]
            if row not in rows:
                rows.append(row)
            if col not in cols:
                cols.append(col)
            cells[(row, col)] = value
            if len(line) > 3 and line[3]:
                percents[(row, col)] = line[3]
    rule = meta.get("small_numbers", {})
    return Table(
        name=name,
        title=str(meta.get("title", name)),
        description=str(meta.get("description", "")),
        counts=str(meta.get("counts", header[2] if len(header) > 2 else "")),
        rows_are=header[0],
        cols_are=header[1],
        rows=tuple(rows),
        cols=tuple(cols),
        cells=cells,
        percents=percents,
        rule=str(rule.get("in_words", "")),
        sources=tuple(meta.get("sources", ())),
        figures=int(meta.get("figures", len(cells))),
        hidden=int(meta.get("figures_hidden", 0)),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
    )
