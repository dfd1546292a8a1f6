"""The engine interface every backend fills in, and the error it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa

Statement = str | exp.Expr
"""A statement as sqlglot expression tree, or as text in DuckDB's dialect (transpiled)."""

ENGINES = ("duckdb", "spark")


class EngineError(RuntimeError):
    """A statement the backend refused or failed on. ``statement`` is the SQL the backend ran."""

    def __init__(self, message: str, *, statement: str, engine: str) -> None:
        super().__init__(f"{engine} failed: {message}\n-- the failing statement:\n{statement}")
        self.statement = statement
        self.engine = engine
        self.reason = message


class Engine(ABC):
    """Run SQL on one backend. Subclasses fill in the ``_`` methods; the rest is shared."""

    name: ClassVar[str]
    dialect: ClassVar[str]
    """The sqlglot dialect the backend speaks."""

    def sql(self, statement: Statement) -> str:
        """Render a statement in this backend's dialect."""
        if isinstance(statement, exp.Expr):
            return statement.sql(dialect=self.dialect)
        if self.dialect == "duckdb":
            return statement
        return sqlglot.transpile(statement, read="duckdb", write=self.dialect)[0]

    def execute(self, statement: Statement) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        sql = self.sql(statement)
        try:
            return self._execute(sql)
        except Exception as error:  # every backend error, re-raised with the statement
            raise EngineError(_first_line(error), statement=sql, engine=self.name) from error

    def materialise(self, name: str, query: Statement) -> None:
        """Keep the result of a query under ``name`` for later statements of this session."""
        sql = self.sql(query)
        try:
            self._materialise(name, sql)
        except Exception as error:
            raise EngineError(_first_line(error), statement=sql, engine=self.name) from error

    def stage(self, name: str, query: Statement) -> None:
        """An intermediate result a later statement reads. A backend may keep the rows
        (:meth:`materialise`; DuckDB does) or only the query, for the engine to plan as one
        (Spark on one machine does: one job instead of dozens)."""
        sql = self.sql(query)
        try:
            self._stage(name, sql)
        except Exception as error:
            raise EngineError(_first_line(error), statement=sql, engine=self.name) from error

    def _stage(self, name: str, sql: str) -> None:
        self._materialise(name, sql)

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under ``name``."""
        self._register(name, table)

    def fetch(self, name: str) -> pa.Table:
        """The whole of a table or view as Arrow."""
        return self.execute(exp.select("*").from_(exp.to_table(name)))

    @abstractmethod
    def _execute(self, sql: str) -> pa.Table: ...

    @abstractmethod
    def _materialise(self, name: str, sql: str) -> None: ...

    @abstractmethod
    def _register(self, name: str, table: pa.Table) -> None: ...

    @abstractmethod
    def attach_build(self, build_dir: Path) -> dict[str, dict[str, str]]:
        """Make every table of a build queryable by its own name.

        Returns each table's columns with their type names in lower case (``varchar[]``,
        ``array<string>``...), so a stage can adapt to what the build holds.
        """

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(error: BaseException) -> str:
    """The line of a backend's message that says what went wrong (Spark wraps it in Java noise)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    telling = [line for line in lines if "Exception:" in line or "Error:" in line or line.startswith("[")]
    return (telling[0] if telling and "error occurred while calling" in lines[0] else lines[0])[:500]


def build_tables(build_dir: Path) -> dict[str, Path]:
    """The Parquet tables of a build published as folders (``<table>/part-*.parquet``)."""
    return {p.name: p for p in sorted(build_dir.iterdir()) if p.is_dir() and any(p.glob("*.parquet"))}


def create_engine(name: str, **options: Any) -> Engine:
    """An engine by name: ``duckdb`` (default) or ``spark`` (needs the spark extra and Java)."""
    if name == "duckdb":
        from commonground.engine.duckdb_backend import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from commonground.engine.spark_backend import SparkEngine

        return SparkEngine(**options)
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
