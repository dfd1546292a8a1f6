"""Literal rows for the address standardisation: the Python form, the SQL form on DuckDB, and
the SQL translated for Spark, all from one table (``linkage/standardise.py``)."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from commonground.linkage.prepare import prepare_sql
from commonground.linkage.standardise import address_sql, placeholder_sql, standardise_address

# (as a partner wrote it, the standard form)
CASES: list[tuple[str | None, str | None]] = [
    ("42 Albert Rd", "42 ALBERT ROAD"),
    ("42 albert road", "42 ALBERT ROAD"),
    ("42, Albert  Road.", "42 ALBERT ROAD"),
    ("Flat 2, 10 Mill Lane", "10 MILL LANE FLAT 2"),
    ("2/10 Mill Ln", "10 MILL LANE FLAT 2"),
    ("2 / 10 Mill Lane", "10 MILL LANE FLAT 2"),
    ("10 Mill Lane Flat 2", "10 MILL LANE FLAT 2"),
    ("10 Mill Lane, Apartment 2", "10 MILL LANE FLAT 2"),
    ("Apt 2, 10 Mill Lane", "10 MILL LANE FLAT 2"),
    ("FLT 2A 10 MILL LANE", "10 MILL LANE FLAT 2A"),
    ("F2 10 Mill Lane", "10 MILL LANE FLAT 2"),
    ("f2 10 mill ln.", "10 MILL LANE FLAT 2"),
    ("F2 Mill House", "F2 MILL HOUSE"),
    ("14 Albert Gr", "14 ALBERT GROVE"),
    ("14 Albert rd.", "14 ALBERT ROAD"),
    ("Flat 2, Mill House", "FLAT 2 MILL HOUSE"),
    ("12 High St", "12 HIGH STREET"),
    ("Flat 3, 5 High St", "5 HIGH STREET FLAT 3"),
    ("5 High St Flat 3", "5 HIGH STREET FLAT 3"),
    ("12 St John's St", "12 SAINT JOHNS STREET"),
    ("12 Saint Johns Street", "12 SAINT JOHNS STREET"),
    ("3 Oak Ave", "3 OAK AVENUE"),
    ("3 Oak Av.", "3 OAK AVENUE"),
    ("4 Elm Ln", "4 ELM LANE"),
    ("5 Park Cres", "5 PARK CRESCENT"),
    ("6 Kings Ct", "6 KINGS COURT"),
    ("7 Mill Dr", "7 MILL DRIVE"),
    ("8 Rose Gdns", "8 ROSE GARDENS"),
    ("9 Bell Pl", "9 BELL PLACE"),
    ("10 Market Sq", "10 MARKET SQUARE"),
    ("11 Church Terr", "11 CHURCH TERRACE"),
    ("12 Ash Cl", "12 ASH CLOSE"),
    ("13 Drake Drive", "13 DRAKE DRIVE"),  # a whole word is never read as an abbreviation
    ("14 Clover Road", "14 CLOVER ROAD"),
    ("15 Rd Lane", "15 ROAD LANE"),
    ("No fixed abode", None),
    ("  nfa. ", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_python_form(raw: str | None, expected: str | None) -> None:
    assert standardise_address(raw) == expected


def test_sql_form_on_duckdb_agrees() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, a VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [[i, raw] for i, (raw, _) in enumerate(CASES)])
    got = con.execute(
        f"SELECT i, CASE WHEN x NOT IN ({placeholder_sql()}) THEN x END FROM "
        f"(SELECT i, {address_sql('a')} AS x FROM t) ORDER BY i"
    ).fetchall()
    assert [value for _, value in got] == [expected for _, expected in CASES]


def test_sql_translates_for_spark() -> None:
    spark = prepare_sql(source_table="records", alternatives_table="alternatives", dialect="spark")
    sqlglot.parse_one(spark, read="spark")
    assert "RLIKE" in spark and "REGEXP_EXTRACT" in spark
    assert "\\" not in spark  # Spark reads backslashes in literals as escapes: the patterns have none
