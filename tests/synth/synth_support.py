"""Helpers for the synth tests: reading a generated area, and checking a cell against its column."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from commonground.contracts.spec import Column
from commonground.contracts.values import ValueProblem, parse_cell
from commonground.synth import SynthSummary

PEOPLE = 4_000
SEED = 7


@dataclass
class Area:
    out: Path
    summary: SynthSummary
    progress: list[tuple[str, int, int | None]] = field(default_factory=list)

    def rows(self, name: str) -> list[dict[str, str]]:
        """A feed (``ed_attendances``) or a truth file (``truth/people``) as dicts."""
        with (self.out / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def raw(self, name: str) -> Iterator[list[str]]:
        with (self.out / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            yield from csv.reader(f)


def cell_ok(raw: str, column: Column) -> bool:
    """The cell passes its column's contract (and is not blank where it must be filled)."""
    try:
        value = parse_cell(raw, column)
    except ValueProblem:
        return False
    return value is not None or column.nullable


def digest(folder: Path) -> str:
    """One hash over every file under ``folder`` (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()
