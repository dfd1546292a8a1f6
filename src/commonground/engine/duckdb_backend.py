"""The DuckDB backend: an in-memory session with the build attached read-only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from commonground.engine.base import Engine, build_tables

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: str) -> str:
    """A table name a stage chose: plain identifier characters only."""
    if not _NAME.match(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


class DuckDBEngine(Engine):
    """DuckDB in memory; the build is attached read-only, so a run never changes a build."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        self.con = duckdb.connect(":memory:", config=config)
        self._registered: dict[str, pa.Table] = {}

    def _execute(self, sql: str) -> pa.Table:
        relation = self.con.sql(sql)
        if relation is None:  # a statement without a result
            return pa.table({})
        table: pa.Table = relation.to_arrow_table()
        return table

    def _materialise(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {check_name(name)} AS {sql}")

    def _register(self, name: str, table: pa.Table) -> None:
        self._registered[name] = table
        self.con.register(check_name(name), table)

    def attach_build(self, build_dir: Path) -> dict[str, dict[str, str]]:
        database = build_dir / "build.duckdb"
        if database.exists():
            path = exp.Literal.string(str(database)).sql("duckdb")
            self.con.execute(f"ATTACH {path} AS build (READ_ONLY)")
            rows = self.con.execute(
                "SELECT table_name, column_name, lower(data_type) FROM duckdb_columns() "
                "WHERE database_name = 'build' AND schema_name = 'main' ORDER BY table_name, column_index"
            ).fetchall()
            for table in sorted({r[0] for r in rows}):
                name = check_name(table)
                self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM build.main.{name}")
        else:
            for table, folder in build_tables(build_dir).items():
                pattern = exp.Literal.string(str(folder / "*.parquet")).sql("duckdb")
                self.con.execute(f"CREATE OR REPLACE VIEW {check_name(table)} AS SELECT * FROM read_parquet({pattern})")
            rows = self.con.execute(
                "SELECT table_name, column_name, lower(data_type) FROM duckdb_columns() "
                "WHERE database_name = 'memory' ORDER BY table_name, column_index"
            ).fetchall()
        schema: dict[str, dict[str, str]] = {}
        for table, column, type_name in rows:
            schema.setdefault(table, {})[column] = type_name
        return schema

    def close(self) -> None:
        self.con.close()
