"""Helpers for the ingest tests: a source folder to write files into, a way to look in the store, and
the good cells every feed's table-driven cases start from."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from rowgen import unique_postcode  # conftest puts this folder on sys.path

from commonground.contracts import Column, ColumnType, FeedContract
from commonground.ingest import IngestResult, ingest_directory, store_path


class Area:
    """A source folder and a data folder; write files, ingest, query the store."""

    def __init__(self, root: Path) -> None:
        self.source = root / "extracts"
        self.data = root / "data"
        self.source.mkdir(parents=True)

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.source / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path

    def ingest(self) -> IngestResult:
        return ingest_directory(source=self.source, data_dir=self.data)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(store_path(self.data)), read_only=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def counts(self) -> dict[str, int]:
        """Row counts of every table in the store."""
        con = duckdb.connect(str(store_path(self.data)), read_only=True)
        try:
            tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in sorted(tables)}
        finally:
            con.close()


def csv_text(header: list[str], rows: list[list[str]], *, end: str = "\n") -> str:
    """Rows as CSV with minimal quoting (what a partner's export would look like)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=end)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def file_result(result: IngestResult, name: str) -> Any:
    return next(f for f in result.files if f.file == name)


T = ColumnType


def good(column: Column, row: int) -> tuple[str, Any]:
    """A raw cell that needs standardising, and the value it must become."""
    if column.type is T.CODE:
        return column.values[-1].upper(), column.values[-1]
    if column.type is T.CODE_LIST:
        first, second = column.values[0], column.values[1]
        return f"{second.upper()}; {first}", [first, second]
    if column.type is T.ID:
        return f"ID-{row}/x", f"ID-{row}/x"
    if column.type is T.URN:
        return f"{100000 + row}", f"{100000 + row}"
    if column.type is T.POSTCODE:
        code = unique_postcode(row)
        return code.lower().replace(" ", ""), code
    table: dict[ColumnType, tuple[str, Any]] = {
        T.TEXT: ("  Flat 2,   10 High St ", "Flat 2, 10 High St"),
        T.NAME: ("Siân", "Siân"),
        T.DATE: ("2001-02-03", date(2001, 2, 3)),
        T.DATETIME: ("2023-04-05 10:11", datetime(2023, 4, 5, 10, 11)),
        T.SEX: ("f", "F"),
        T.NHS_NUMBER: ("943 476 5919", "9434765919"),
        T.UPRN: ("000123", "123"),
        T.EMAIL: ("DSL@School.SCH.uk", "dsl@school.sch.uk"),
        T.BOOL: ("Yes", True),
        T.INTEGER: ("042", 42),
    }
    return table[column.type]


def good_row(feed: FeedContract, row: int) -> list[str]:
    return [good(c, row)[0] for c in feed.columns]
