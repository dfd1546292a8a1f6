"""Writing SQL without pasting values into it.

Statements are written as DuckDB-dialect text whose *identifiers* come from this package (table
and column names from the source registry, aliases made here) and whose *values* are placeholders
(``$p0``). :func:`render` parses the text with sqlglot and replaces each placeholder by a sqlglot
literal, so every value reaches the engine quoted by sqlglot for that engine's dialect; the engine
then renders the tree in its own dialect.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlglot
from sqlglot import exp

Value = str | int | float | bool | date | datetime | None


def literal(value: Value) -> exp.Expr:
    """A sqlglot literal for a Python value (timestamps and dates as typed casts)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ", timespec="seconds")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    return exp.Literal.string(value)


class Params:
    """Collects the values of one statement; ``params(value)`` gives the placeholder to write."""

    def __init__(self) -> None:
        self.values: dict[str, exp.Expr] = {}

    def __call__(self, value: Value) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = literal(value)
        return f"${name}"

    def years(self, count: int) -> str:
        """A placeholder for an interval of whole years (``INTERVAL '4' YEAR``)."""
        name = f"p{len(self.values)}"
        self.values[name] = exp.Interval(this=exp.Literal.string(str(int(count))), unit=exp.var("YEAR"))
        return f"${name}"

    def many(self, values: tuple[Value, ...] | list[Value]) -> str:
        """Placeholders for an ``IN (...)`` list."""
        return ", ".join(self(v) for v in values)


def render(template: str, params: Params | None = None) -> exp.Expr:
    """Parse DuckDB-dialect text and bind its placeholders as literals."""
    tree = sqlglot.parse_one(template, read="duckdb")
    if params is None:
        params = Params()
    for node in list(tree.find_all(exp.Placeholder)):
        value = params.values.get(str(node.name))
        if value is None:
            raise ValueError(f"unbound placeholder {node.sql()} in a rules statement")
        node.replace(value.copy())
    return tree
