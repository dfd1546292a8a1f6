"""The published tables: what each counts, how its figures are keyed and linked, and how it is written.

A :class:`TableSpec` is data: the population it counts, its row and column groups, the sources its
figures rest on (which choose its small-number rule) and how a percentage is formed. Counting turns
a spec into exact cells and :class:`~commonground.stats.suppression.Line` equations over them; every
table of a run goes into one system for :func:`~commonground.stats.suppression.protect`, then each
is written as a CSV with a JSON sidecar holding the rule that was applied.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from commonground.spreadsheet import safe_cell
from commonground.stats.disclosure import SmallNumbers
from commonground.stats.suppression import CellKey, Line, Protected, cell, table_lines

ALL = "all"
"""The label of a total in a CSV (all groups of that column)."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    """The file name (without ``.csv``)."""
    title: str
    description: str
    population: str
    """The key of the population counted (``people``, ``children``); with ``rows_are_populations``, the
    prefix of one population per row (``rule`` gives ``rule:ace.domestic_abuse``)."""
    relation: str
    """The temporary table (:mod:`commonground.stats.queries`) counted with ``GROUP BY``."""
    rows: str
    cols: str
    sources: tuple[str, ...]
    rows_are_populations: bool = False
    """Each row is its own population (a rule, a police role); groups may overlap, so rows do not add up."""
    percent_of: str | None = None
    """``row``: each figure as a share of its row's total; a population name: of that population in the
    same column group (children in the same decile)."""
    unit: str = "people"

    def population_of(self, row: str) -> str:
        return f"{self.population}:{row}" if self.rows_are_populations else self.population

    def key(self, row: str | None, col: str | None) -> CellKey:
        groups: dict[str, str] = {}
        if col is not None:
            groups[self.cols] = col
        if row is not None and not self.rows_are_populations:
            groups[self.rows] = row
        population = self.population_of(row) if self.rows_are_populations and row is not None else self.population
        return cell(population, **groups)


@dataclass
class Counted:
    """A spec's exact figures and equations, before protection."""

    spec: TableSpec
    rows: list[str]
    cols: list[str]
    counts: dict[CellKey, int]
    lines: list[Line]
    rule: SmallNumbers
    row_rules: dict[str, SmallNumbers] = field(default_factory=dict)
    """A rule for one row when its sources differ from the table's (a rule resting on other feeds)."""

    def rule_of_row(self, row: str | None) -> SmallNumbers:
        return self.row_rules.get(row, self.rule) if row is not None else self.rule

    def layout(self) -> list[tuple[str, str, CellKey]]:
        """(row label, column label, key) of every published figure, in the CSV's order."""
        out = [(r, c, self.spec.key(r, c)) for r in self.rows for c in self.cols]
        out += [(r, ALL, self.spec.key(r, None)) for r in self.rows]
        if not self.spec.rows_are_populations:
            out += [(ALL, c, self.spec.key(None, c)) for c in self.cols]
            out.append((ALL, ALL, self.spec.key(None, None)))
        return out


def count_table(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    *,
    rows: Sequence[str],
    cols: Sequence[str],
    rule: SmallNumbers,
    row_rules: Mapping[str, SmallNumbers] | None = None,
) -> Counted:
    """The exact figures of ``spec`` over every row and column group (zeros included) and its equations."""
    found = con.execute(
        f"SELECT CAST({spec.rows} AS VARCHAR), CAST({spec.cols} AS VARCHAR), COUNT(*) FROM {spec.relation} GROUP BY ALL"
    ).fetchall()
    inner = {(str(r), str(c)): int(n) for r, c, n in found}
    unexpected = {k for k in inner if k[0] not in rows or k[1] not in cols}
    if unexpected:
        raise ValueError(f"{spec.name}: groups outside the table: {sorted(unexpected)[:5]}")
    counts = _figures(spec, inner, list(rows), list(cols))
    lines = _lines(spec, list(rows), list(cols))
    return Counted(
        spec=spec,
        rows=list(rows),
        cols=list(cols),
        counts=counts,
        lines=lines,
        rule=rule,
        row_rules=dict(row_rules or {}),
    )


def _figures(
    spec: TableSpec, inner: Mapping[tuple[str, str], int], rows: list[str], cols: list[str]
) -> dict[CellKey, int]:
    """Every figure of the table: the groups (zeros included) and the totals."""
    counts: dict[CellKey, int] = {}
    for r in rows:
        for c in cols:
            counts[spec.key(r, c)] = inner.get((r, c), 0)
        counts[spec.key(r, None)] = sum(inner.get((r, c), 0) for c in cols)
    if not spec.rows_are_populations:
        for c in cols:
            counts[spec.key(None, c)] = sum(counts[spec.key(r, c)] for r in rows)
        counts[spec.key(None, None)] = sum(inner.values())
    return counts


def _lines(spec: TableSpec, rows: list[str], cols: list[str]) -> list[Line]:
    """The equations of the table: each row and (where rows add up) each column with its total."""
    if spec.rows_are_populations:
        return [line for r in rows for line in table_lines(spec.population_of(r), spec.cols, cols)]
    return table_lines(spec.population, spec.rows, rows, spec.cols, cols)


def write_table(
    counted: Counted,
    protected: Protected,
    out_dir: Path,
    *,
    metadata: Mapping[str, object],
    labels: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """``<name>.csv`` (one row per figure; totals labelled ``all``) and ``<name>.json`` (what it is, the rule)."""
    spec = counted.spec
    has_percent = spec.percent_of is not None
    header = [spec.rows, spec.cols, spec.unit] + (["percent"] if has_percent else [])
    csv_path = out_dir / f"{spec.name}.csv"
    hidden = 0
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row, col, key in counted.layout():
            rule = counted.rule_of_row(None if row == ALL else row)
            value = protected.values[key]
            hidden += value is None
            shown = rule.symbol if value is None else str(value)
            line = [safe_cell(row), safe_cell(col), shown]
            if has_percent:
                line.append(_percent(counted, protected, row, col, key, rule))
            writer.writerow(line)
    rules = {counted.rule.name: counted.rule.metadata()}
    for rule in counted.row_rules.values():
        rules.setdefault(rule.name, rule.metadata())
    sidecar = {
        "table": spec.name,
        "title": spec.title,
        "description": spec.description,
        "counts": spec.unit,
        "population": spec.population,
        "columns": header,
        "total_label": ALL,
        "sources": list(spec.sources),
        "small_numbers": counted.rule.metadata(),
        "small_numbers_by_row": {row: rule.name for row, rule in counted.row_rules.items()},
        "rules_applied": list(rules.values()),
        "figures": len(counted.layout()),
        "figures_hidden": hidden,
        **({"labels": dict(labels)} if labels else {}),
        **metadata,
    }
    json_path = out_dir / f"{spec.name}.json"
    json_path.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return csv_path, json_path


def _percent(counted: Counted, protected: Protected, row: str, col: str, key: CellKey, rule: SmallNumbers) -> str:
    spec = counted.spec
    numerator = protected.values[key]
    if spec.percent_of == "row":
        if col == ALL:
            return ""
        denominator_key = spec.key(None if row == ALL else row, None)
    else:
        assert spec.percent_of is not None
        denominator_key = cell(spec.percent_of, **({} if col == ALL else {spec.cols: col}))
    denominator = protected.values.get(denominator_key)
    if numerator is None or denominator is None:
        return rule.symbol
    if denominator == 0:
        return ""
    return f"{100 * numerator / denominator:.1f}"
