"""Helpers for the stats tests: literal tables as cells and lines, and the attacks the properties try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import linprog

from commonground.stats import Line, Protected, cell, table_lines
from commonground.stats.suppression import Key


def grid(
    rows: Mapping[str, Sequence[int]], cols: Sequence[str], *, population: str = "p"
) -> tuple[dict[Key, int], list[Line]]:
    """A table of ``population`` by area (rows) and group (cols) with every total, as cells and lines."""
    counts: dict[Key, int] = {}
    for r, values in rows.items():
        for c, v in zip(cols, values, strict=True):
            counts[cell(population, area=r, group=c)] = v
        counts[cell(population, area=r)] = sum(values)
    for j, c in enumerate(cols):
        counts[cell(population, group=c)] = sum(v[j] for v in rows.values())
    counts[cell(population)] = sum(sum(v) for v in rows.values())
    return counts, table_lines(population, "area", list(rows), "group", list(cols))


def shown(protected: Protected, rows: Sequence[str], cols: Sequence[str], *, population: str = "p") -> list[list[str]]:
    """The table as published, totals last: one list per row, then the row of column totals."""
    out = [
        [protected.shown(cell(population, area=r, group=c)) for c in cols] + [protected.shown(cell(population, area=r))]
        for r in rows
    ]
    out.append([protected.shown(cell(population, group=c)) for c in cols] + [protected.shown(cell(population))])
    return out


def differencing_attack(counts: Mapping[Key, int], lines: Sequence[Line], hidden: set[Key]) -> dict[Key, int]:
    """What an analyst recovers by subtraction: a line with one hidden figure gives it (total minus the rest, or
    the rest minus ... ), repeated with what was recovered until nothing new comes. Uses exact visible figures,
    which is more than the rounded ones a reader has."""
    known = {k: v for k, v in counts.items() if k not in hidden}
    recovered: dict[Key, int] = {}
    changed = True
    while changed:
        changed = False
        for line in lines:
            unknown = [m for m in line.members if m not in known]
            if len(unknown) != 1:
                continue
            (target,) = unknown
            parts = sum(known[p] for p in line.parts if p in known)
            value = parts if target == line.total else known[line.total] - parts
            known[target] = recovered[target] = value
            changed = True
    return recovered


def linear_attack(lines: Sequence[Line], hidden: set[Key]) -> set[Key]:
    """Hidden figures fixed by any combination of the lines: those whose unit vector is in the row space
    (by rank, independently of the code under test's SVD)."""
    cells = sorted(hidden, key=repr)
    column = {k: j for j, k in enumerate(cells)}
    rows = []
    for line in lines:
        row = np.zeros(len(cells))
        if line.total in column:
            row[column[line.total]] -= 1
        for p in line.parts:
            if p in column:
                row[column[p]] += 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = set()
    for k, j in column.items():
        unit = np.zeros(len(cells))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(k)
    return out


def lp_range(counts: Mapping[Key, int], lines: Sequence[Line], hidden: set[Key], target: Key) -> tuple[float, float]:
    """The least and greatest value of ``target`` consistent with every visible figure (exact) and every line,
    with hidden figures at least 0: the attack with bounds an LP solver makes."""
    cells = sorted(hidden, key=repr)
    column = {k: j for j, k in enumerate(cells)}
    a_eq, b_eq = [], []
    for line in lines:
        row = np.zeros(len(cells))
        rhs = 0.0
        for key, sign in [(line.total, -1.0), *((p, 1.0) for p in line.parts)]:
            if key in column:
                row[column[key]] += sign
            else:
                rhs -= sign * counts[key]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    objective = np.zeros(len(cells))
    objective[column[target]] = 1.0
    bounds = [(0, None)] * len(cells)
    low = linprog(objective, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
    high = linprog(-objective, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
    assert low.status == 0 and high.status in (0, 3)  # 3: unbounded (nothing visible bounds it)
    return float(low.fun), (float(-high.fun) if high.status == 0 else float("inf"))
