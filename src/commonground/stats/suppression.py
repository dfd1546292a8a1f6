"""Primary and secondary suppression over published figures linked by totals.

Figures are *cells* (any hashable key) with exact counts, and *lines*: a total cell equal to the
sum of its part cells (a row of a table with its row total, a column with its column total, the
areas of one deprivation decile with the decile's figure). Every table of one publication goes
into one system, so a figure that appears in two files is the same cell, suppressed in both or in
neither, and an equation that only two files together make is still seen.

:func:`protect`:

1. **Primary**: every cell whose count is small under the rule (1 to ``suppress_up_to``) is hidden.
2. **Secondary, line by line** (the usual rule): a line with exactly one hidden cell would give it
   away by subtraction, so the smallest non-zero visible cell of that line is hidden too; repeated
   until no line has exactly one.
3. **Secondary, exact**: two lines together can still pin a cell (a hidden cell joining two
   otherwise separate groups of hidden cells). :func:`determined` finds every hidden cell whose value
   follows from the visible figures by any sums and differences of the lines (linear algebra on each
   connected group of hidden cells); for each, the smallest non-zero visible cell of one of its lines
   is hidden, and steps 2 and 3 repeat until no hidden cell is determined.

Zeros are never chosen as secondary cells (a hidden zero protects nothing: counts cannot be
negative). With every hidden cell at least 1 and no hidden cell determined, each hidden cell lies on
a cycle of hidden cells along which every count can move up or down by one while every line still
adds up: even someone who knew every visible figure exactly could not tell the hidden count from
the one either side of it. Published figures are then rounded by the rule, which only widens that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

import numpy as np
import scipy.linalg
import threadpoolctl

from commonground.stats.disclosure import SmallNumbers

CellKey = tuple[str, tuple[tuple[str, str], ...]]
"""A figure's key: its population and its groups, sorted (:func:`cell`)."""
Key = CellKey


@dataclass(frozen=True)
class Line:
    """``total`` is the sum of ``parts``."""

    total: Key
    parts: tuple[Key, ...]

    @property
    def members(self) -> tuple[Key, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True)
class Protected:
    """The figures as published: ``values[key]`` is the rounded count, or None when hidden."""

    values: Mapping[Key, int | None]
    primary: frozenset[Key]
    secondary: frozenset[Key]
    rule: SmallNumbers

    def shown(self, key: Key) -> str:
        value = self.values[key]
        return self.rule.symbol if value is None else str(value)

    @property
    def hidden(self) -> frozenset[Key]:
        return self.primary | self.secondary


def protect(
    counts: Mapping[Key, int],
    lines: Sequence[Line],
    rule: SmallNumbers,
    *,
    forced: Iterable[Key] = (),
    rules_by_cell: Mapping[Key, SmallNumbers] | None = None,
) -> Protected:
    """Primary and secondary suppression of ``counts`` linked by ``lines``, then rounding.

    ``rule`` applies to every cell but those ``rules_by_cell`` names (figures whose sources have
    another rule). ``forced``: cells to hide whatever their count (hidden elsewhere already)."""
    by_cell = rules_by_cell or {}
    for line in lines:
        for key in line.members:
            if key not in counts:
                raise KeyError(f"a line names a cell with no count: {key!r}")
    primary = frozenset(k for k, v in counts.items() if by_cell.get(k, rule).is_small(v)) | frozenset(forced)
    hider = _Hider(counts, lines, set(primary))
    cache: dict[frozenset[Key], set[Key]] = {}
    with _blas_single_threaded():
        while True:
            hider.line_by_line()
            pinned = determined(lines, hider.hidden, lines_of=hider.lines_of, cache=cache)
            if not pinned:
                break
            added = [hider.free(key, cache) for key in sorted(pinned, key=hider.order.__getitem__)]
            if not any(added):
                break  # nothing visible is linked to a pinned figure (cannot happen while the lines add up)
    hidden = hider.hidden
    values = {k: (None if k in hidden else by_cell.get(k, rule).round_count(v)) for k, v in counts.items()}
    return Protected(values=values, primary=primary, secondary=frozenset(hidden - primary), rule=rule)


class _Hider:
    """The hidden set while it grows, and the choice of the next figure to hide."""

    def __init__(self, counts: Mapping[Key, int], lines: Sequence[Line], hidden: set[Key]) -> None:
        self.counts, self.lines, self.hidden = counts, lines, hidden
        self.order = {key: i for i, key in enumerate(counts)}
        self.lines_of = _index(lines)
        self.totals_of: dict[Key, int] = defaultdict(int)
        for line in lines:
            self.totals_of[line.total] += 1

    def cost(self, key: Key) -> tuple[int, int, int]:
        """Which visible figure to hide first: one that totals nothing (a total hidden spreads to every table
        that shows it, and analysts need totals most), then the smallest."""
        return (self.totals_of.get(key, 0), self.counts[key], self.order[key])

    def smallest_visible(self, members: Iterable[Key]) -> Key | None:
        candidates = [m for m in members if m not in self.hidden and self.counts[m] > 0]
        return min(candidates, key=self.cost) if candidates else None

    def line_by_line(self) -> None:
        """Hide a second cell in every line with exactly one hidden cell, until none has."""
        changed = True
        while changed:
            changed = False
            for line in self.lines:
                if sum(1 for m in line.members if m in self.hidden) == 1:
                    extra = self.smallest_visible(line.members)
                    if extra is not None:
                        self.hidden.add(extra)
                        changed = True

    def free(self, key: Key, cache: dict[frozenset[Key], set[Key]], *, tries: int = 16) -> bool:
        """Hide one more figure so that ``key`` is no longer determined: of the nearest candidates
        (:meth:`candidates`), the first that frees it, else the first. False when there is none."""
        if key not in self._pinned_in_group(key, cache):
            return True  # a figure hidden for another pinned one this round freed it
        options = list(islice(self.candidates(key), tries))
        if not options:
            return False
        for option in options:
            self.hidden.add(option)
            if key not in self._pinned_in_group(key, cache):
                return True
            self.hidden.discard(option)
        self.hidden.add(options[0])
        return True

    def _pinned_in_group(self, key: Key, cache: dict[frozenset[Key], set[Key]]) -> set[Key]:
        cells, line_ids = {key}, set()
        todo = [key]
        while todo:
            for i in self.lines_of[todo.pop()]:
                if i in line_ids:
                    continue
                line_ids.add(i)
                for m in self.lines[i].members:
                    if m in self.hidden and m not in cells:
                        cells.add(m)
                        todo.append(m)
        signature = frozenset(cells)
        if signature not in cache:
            touching = {i: [m for m in self.lines[i].members if m in self.hidden] for i in line_ids}
            cache[signature] = _determined_in_group(list(cells), self.lines, touching, self.lines_of)
        return cache[signature]

    def candidates(self, key: Key) -> Iterator[Key]:
        """Visible non-zero figures in the lines of ``key`` (cheapest first, :meth:`cost`); then in the
        lines of the hidden figures of those lines, and so on outwards; zeros only when nothing else is left."""
        frontier: set[Key] = {key}
        seen: set[Key] = set()
        seen_lines: set[int] = set()
        zeros: list[Key] = []
        while frontier:
            near = [i for k in frontier for i in self.lines_of[k] if i not in seen_lines]
            seen_lines.update(near)
            members = {m for i in near for m in self.lines[i].members}
            yield from sorted(
                (m for m in members if m not in self.hidden and self.counts[m] > 0),
                key=self.cost,
            )
            zeros += [m for m in members if m not in self.hidden and self.counts[m] == 0]
            seen |= frontier
            frontier = {m for m in members if m in self.hidden} - seen
        yield from sorted(set(zeros), key=self.order.__getitem__)


def _index(lines: Sequence[Line]) -> dict[Key, list[int]]:
    index: dict[Key, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        for key in line.members:
            index[key].append(i)
    return index


@contextmanager
def _blas_single_threaded() -> Iterator[None]:
    """Many small factorisations run many times faster on one BLAS thread than on several fighting for the
    cores (30 times on a loaded two-core machine)."""
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


def determined(
    lines: Sequence[Line],
    hidden: Iterable[Key],
    *,
    lines_of: Mapping[Key, list[int]] | None = None,
    cache: dict[frozenset[Key], set[Key]] | None = None,
) -> set[Key]:
    """The hidden cells whose value follows from the visible cells by the lines (any sums and differences).

    Hidden cells that share a line form a group; in each group the lines are equations in the hidden
    cells (visible cells are known). A cell is determined when its unit vector lies in the row space
    of that system (see :func:`_determined_in_group`). ``cache`` keeps each group's answer between calls
    over the same lines (a group is the same when its cells are)."""
    hidden_set = set(hidden)
    index = lines_of if lines_of is not None else _index(lines)
    touching = {i: [m for m in line.members if m in hidden_set] for i, line in enumerate(lines)}
    out: set[Key] = set()
    for cells in _groups(hidden_set, list(touching.values())):
        signature = frozenset(cells)
        found = cache.get(signature) if cache is not None else None
        if found is None:
            found = _determined_in_group(cells, lines, touching, index)
            if cache is not None:
                cache[signature] = found
        out |= found
    return out


def _groups(hidden: set[Key], touching: list[list[Key]]) -> list[list[Key]]:
    """Hidden cells joined when they share a line (union-find)."""
    parent: dict[Key, Key] = {k: k for k in hidden}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for members in touching:
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a != b:
                parent[a] = b
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in hidden:
        groups[find(k)].append(k)
    return list(groups.values())


def _determined_in_group(
    cells: list[Key], lines: Sequence[Line], touching: Mapping[int, list[Key]], lines_of: Mapping[Key, list[int]]
) -> set[Key]:
    """The determined cells of one connected group of hidden cells.

    First every line with two or more hidden cells found in no other line is set aside, repeatedly: those
    cells can trade with each other whatever the rest is, so none is determined and the line constrains
    nothing else. The rest is decided by linear algebra: a cell is determined when its unit vector lies in
    the row space of the lines (QR with column pivoting of the transposed system)."""
    active, core = _peel(cells, touching, lines_of)
    rows = sorted(active)
    if not core or not rows:
        return set()
    column = {k: j for j, k in enumerate(core)}
    matrix = np.zeros((len(rows), len(core)))
    for r, i in enumerate(rows):
        line = lines[i]
        if line.total in column:
            matrix[r, column[line.total]] -= 1.0
        for part in line.parts:
            if part in column:
                matrix[r, column[part]] += 1.0
    q, r_factor, _ = scipy.linalg.qr(matrix.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r_factor))
    if not diagonal.size or diagonal[0] < 1e-9:
        return set()
    rank = int((diagonal > 1e-9 * max(1.0, float(diagonal[0]))).sum())
    reach = (q[:, :rank] ** 2).sum(axis=1)
    return {k for k, j in column.items() if reach[j] > 1 - 1e-7}


def _peel(
    cells: list[Key], touching: Mapping[int, list[Key]], lines_of: Mapping[Key, list[int]]
) -> tuple[set[int], list[Key]]:
    """The lines and cells left once lines with two or more cells of their own are set aside."""
    active = {i for k in cells for i in lines_of.get(k, ())}
    degree = {k: sum(1 for i in lines_of.get(k, ()) if i in active) for k in cells}
    free: set[Key] = set()
    changed = True
    while changed:
        changed = False
        for i in list(active):
            private = [k for k in touching[i] if degree[k] == 1]
            if len(private) >= 2:
                active.discard(i)
                free.update(private)
                for k in touching[i]:
                    degree[k] -= 1
                changed = True
    return active, [k for k in cells if degree[k] > 0 and k not in free]


def table_lines(
    population: str,
    row_dim: str,
    rows: Sequence[str],
    col_dim: str | None = None,
    cols: Sequence[str] = (),
    *,
    rows_add_up: bool = True,
) -> list[Line]:
    """The lines of a table of ``population`` by ``row_dim`` (and ``col_dim``), with its totals.

    Keys are :func:`cell` keys. ``rows_add_up=False`` for a dimension whose groups overlap (rules: a
    person can have several), so no total over the rows is published or used."""
    if col_dim is None:
        return [Line(cell(population), tuple(cell(population, **{row_dim: r}) for r in rows))] if rows_add_up else []
    out = [
        Line(cell(population, **{row_dim: r}), tuple(cell(population, **{row_dim: r, col_dim: c}) for c in cols))
        for r in rows
    ]
    if rows_add_up:
        out += [
            Line(cell(population, **{col_dim: c}), tuple(cell(population, **{row_dim: r, col_dim: c}) for r in rows))
            for c in cols
        ]
        out.append(Line(cell(population), tuple(cell(population, **{row_dim: r}) for r in rows)))
    out.append(Line(cell(population), tuple(cell(population, **{col_dim: c}) for c in cols)))
    return out


def cell(population: str, **groups: str) -> CellKey:
    """The key of one figure: a population and its groups (no groups: the population's total)."""
    return (population, tuple(sorted(groups.items())))


def unique_lines(lines: Iterable[Line]) -> list[Line]:
    """``lines`` without repeats (the same total over the same parts, from two tables)."""
    seen: dict[tuple[Key, frozenset[Key]], Line] = {}
    for line in lines:
        seen.setdefault((line.total, frozenset(line.parts)), line)
    return list(seen.values())
