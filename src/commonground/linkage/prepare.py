"""Prepared records: the standardised ingest columns, made ready for comparison.

The linkage stage reads one table of standardised person-level records from every feed:

    unique_id, feed, given_name_key, family_name_key, date_of_birth (DATE or ISO text),
    sex, postcode, address, nhs_number, uprn

and derives the prepared record that the model compares (``spec.PREPARED_COLUMNS``): dates as
ISO text (and as a DATE where the text is a real date), sex 'U' (not known) as missing, the
first line of address in one standard form (:mod:`.standardise`: case, punctuation, road types,
flats) with placeholders ('NO FIXED ABODE') as missing, each name's known alternatives
(nicknames; for the family name too, to catch names swapped *and* shortened) as arrays, and the
two names in sorted order (to find records whose names were swapped). The SQL is written once,
for DuckDB, and translated by sqlglot for the backend in use; values never enter it as text.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa
import sqlglot
from splink.internals.database_api import DatabaseAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from commonground.linkage.standardise import address_sql, placeholder_sql

INPUT_COLUMNS = (
    "unique_id",
    "feed",
    "given_name_key",
    "family_name_key",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "nhs_number",
    "uprn",
)

_PREPARE_SQL = """
SELECT
    CAST(r.unique_id AS VARCHAR) AS unique_id,
    CAST(r.feed AS VARCHAR) AS feed,
    r.given_name_key,
    r.family_name_key,
    a.alternatives AS given_name_alternatives,
    f.alternatives AS family_name_alternatives,
    LEAST(r.given_name_key, r.family_name_key) || ' ' || GREATEST(r.given_name_key, r.family_name_key) AS names_sorted,
    r.date_of_birth,
    TRY_CAST(r.date_of_birth AS DATE) AS date_of_birth_date,
    r.sex,
    r.postcode,
    CASE WHEN r.address NOT IN (__PLACEHOLDERS__) THEN r.address END AS address,
    r.nhs_number,
    r.uprn
FROM (
    SELECT
        s.unique_id,
        s.feed,
        NULLIF(TRIM(s.given_name_key), '') AS given_name_key,
        NULLIF(TRIM(s.family_name_key), '') AS family_name_key,
        NULLIF(TRIM(CAST(s.date_of_birth AS VARCHAR)), '') AS date_of_birth,
        CASE WHEN UPPER(TRIM(s.sex)) IN ('F', 'M', 'X') THEN UPPER(TRIM(s.sex)) END AS sex,
        NULLIF(UPPER(TRIM(s.postcode)), '') AS postcode,
        __ADDRESS__ AS address,
        NULLIF(TRIM(CAST(s.nhs_number AS VARCHAR)), '') AS nhs_number,
        NULLIF(TRIM(CAST(s.uprn AS VARCHAR)), '') AS uprn
    FROM source_records AS s
) AS r
LEFT JOIN name_alternatives AS a ON a.name = r.given_name_key
LEFT JOIN name_alternatives AS f ON f.name = r.family_name_key
""".replace("__ADDRESS__", address_sql("s.address")).replace("__PLACEHOLDERS__", placeholder_sql())


@cache
def name_alternatives() -> dict[str, tuple[str, ...]]:
    """Each known given name (name_key form) -> the full names of every group it belongs to."""
    text = resources.files("commonground.linkage").joinpath("name_alternatives.txt").read_text("utf-8")
    groups: dict[str, set[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        full, _, shorts = line.partition(":")
        for name in (full.strip(), *shorts.split()):
            groups.setdefault(name, set()).add(full.strip())
    return {name: tuple(sorted(g)) for name, g in sorted(groups.items())}


def prepare_sql(*, source_table: str, alternatives_table: str, dialect: str) -> str:
    """The prepare query for a backend. Table names are quoted identifiers, never pasted text."""
    tree = sqlglot.parse_one(_PREPARE_SQL, read="duckdb")
    for table in tree.find_all(sqlglot.exp.Table):
        if table.name == "source_records":
            table.set("this", sqlglot.exp.to_identifier(source_table, quoted=True))
        elif table.name == "name_alternatives":
            table.set("this", sqlglot.exp.to_identifier(alternatives_table, quoted=True))
    return tree.sql(dialect=dialect)


def prepare_records(*, db_api: DatabaseAPI[Any], source_table: str) -> SplinkDataFrame:
    """Build the prepared-record table from ``source_table`` (already in the backend)."""
    alternatives = name_alternatives()
    lookup = db_api.register(
        pa.table(
            {
                "name": pa.array(list(alternatives), pa.string()),
                "alternatives": pa.array([list(v) for v in alternatives.values()], pa.list_(pa.string())),
            }
        )
    )
    sql = prepare_sql(
        source_table=source_table, alternatives_table=lookup.physical_name, dialect=db_api.sql_dialect.sqlglot_dialect
    )
    prepared = db_api.query_sql(sql)
    assert isinstance(prepared, SplinkDataFrame)
    return prepared


def records_table(records: list[dict[str, Any]]) -> pa.Table:
    """A few standardised records (dicts with :data:`INPUT_COLUMNS`) as an Arrow table, for
    explaining a pair or scoring one record. Missing keys are missing values."""
    return pa.table(
        {
            col: pa.array([None if r.get(col) is None else str(r[col]) for r in records], pa.string())
            for col in INPUT_COLUMNS
        }
    )
