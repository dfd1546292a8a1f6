"""The person-level facts the tables count, built once per run as temporary tables in DuckDB.

Nothing here leaves the engine as a row about a person: the tables of :mod:`commonground.stats.tables`
read these with ``GROUP BY`` and get counts back. Values are bound as parameters, never pasted in;
table and column names come from this module and the feed contracts.

- ``st_people``: everyone in the build with a known age: sex (F, M or U), age band at the as-of date,
  child or not, the small area and deprivation decile of the postcode most often on their records
  (``unknown`` when none is in the reference list). People with no date of birth on any record are
  left out of every table: they are a handful, and a column of a handful would have to be hidden in
  every table together with a large figure beside it.
- ``st_children``: the children (under 18 at the as-of date) with their number of ACE indicators.
- ``st_fired``: each person's indicators and flags (one row per person and rule) with the month of
  the first evidence.
- ``st_police``: people named on a police incident as victim, suspect or subject, whether each of
  those roles applies, and which of mental-health, drug and alcohol, and emergency services also
  hold a record of them.
"""

from __future__ import annotations

from datetime import date

import duckdb

from commonground.contracts import FEEDS

AGE_BANDS = ((0, 4), (5, 9), (10, 15), (16, 17), (18, 24), (25, 34), (35, 49), (50, 64), (65, 200))
"""The fairness report's bands (docs/rules.md): children's bands match school phases, adults' the usual ONS ones."""
CHILD_BANDS = tuple(f"{lo}-{hi}" for lo, hi in AGE_BANDS if hi < 18)
ACE_BANDS = ("0", "1", "2-3", "4+")
POLICE_ROLES = ("victim", "suspect", "subject")
SERVICES = {
    "mental_health": ("mental_health_contacts", "street_triage"),
    "substance": ("substance_treatment",),
    "emergency": ("ed_attendances",),
}
OVERLAP = ("police_only", "mental_health_only", "substance_only", "emergency_only", "two_or_more")
UNKNOWN = "unknown"


def band_label(low: int, high: int) -> str:
    return f"{low}-{high}" if high < 200 else f"{low}+"


def tables_of(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [database]).fetchall()
    return {str(r[0]) for r in rows}


def build_people(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """``st_people`` from ``build`` (attached)."""
    tables = tables_of(con, "build")
    feeds = [
        name
        for name, contract in FEEDS.items()
        if contract.person_level and f"feed_{name}" in tables and "postcode" in contract.column_names
    ]
    postcodes = [
        f"SELECT pr.person_id, f.postcode FROM build.feed_{name} AS f "
        f"JOIN build.person_records AS pr ON pr.feed = $feed{i} AND pr.record_id = f.record_id "
        "WHERE f.postcode IS NOT NULL"
        for i, name in enumerate(feeds)
    ]
    union = " UNION ALL ".join(postcodes) or "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS postcode WHERE FALSE"
    areas = (
        "SELECT postcode, area_code, CAST(deprivation_decile AS VARCHAR) AS decile FROM build.postcode_areas"
        if "postcode_areas" in tables
        else "SELECT NULL::VARCHAR AS postcode, NULL::VARCHAR AS area_code, NULL::VARCHAR AS decile WHERE FALSE"
    )
    bands = " ".join(f"WHEN age BETWEEN $lo{i} AND $hi{i} THEN $band{i}" for i in range(len(AGE_BANDS)))
    values: dict[str, object] = {"as_of": as_of, "unknown": UNKNOWN}
    for i, (lo, hi) in enumerate(AGE_BANDS):
        values.update({f"lo{i}": lo, f"hi{i}": hi, f"band{i}": band_label(lo, hi)})
    values.update({f"feed{i}": name for i, name in enumerate(feeds)})
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE st_people AS
        WITH usual AS (
            SELECT person_id, postcode FROM (
                SELECT CAST(person_id AS VARCHAR) AS person_id, postcode,
                       ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY COUNT(*) DESC, postcode) AS rn
                FROM ({union}) AS u GROUP BY person_id, postcode
            ) AS ranked WHERE rn = 1
        ),
        aged AS (
            SELECT CAST(person_id AS VARCHAR) AS person_id,
                   CASE WHEN sex IN ('F', 'M') THEN sex ELSE 'U' END AS sex,
                   CASE WHEN date_of_birth IS NULL OR date_of_birth > $as_of THEN NULL
                        ELSE DATE_DIFF('year', date_of_birth, $as_of)
                             - CASE WHEN STRFTIME(date_of_birth, '%m%d') > STRFTIME($as_of, '%m%d') THEN 1 ELSE 0 END
                   END AS age
            FROM build.persons
        )
        SELECT a.person_id, a.sex,
               COALESCE(CASE {bands} END, $unknown) AS age_band,
               COALESCE(a.age < 18, FALSE) AS child,
               COALESCE(ar.area_code, $unknown) AS area,
               COALESCE(ar.decile, $unknown) AS decile
        FROM aged AS a LEFT JOIN usual AS u ON u.person_id = a.person_id
        LEFT JOIN ({areas}) AS ar ON ar.postcode = u.postcode
        WHERE a.age IS NOT NULL
        """,
        values,
    )


def build_fired(con: duckdb.DuckDBPyConnection, ace_rules: tuple[str, ...]) -> None:
    """``st_fired`` and ``st_children`` from ``rules`` (attached) and ``st_people``."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE st_fired AS
        SELECT CAST(x.person_id AS VARCHAR) AS person_id, x.rule_id,
               COALESCE(STRFTIME(MIN(x.first_evidence), '%Y-%m'), 'unknown') AS month
        FROM (SELECT person_id, rule_id, first_evidence FROM rules.indicators
              UNION ALL SELECT person_id, rule_id, first_evidence FROM rules.flags) AS x
        GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE st_children AS
        SELECT p.*, CASE WHEN n = 0 THEN '0' WHEN n = 1 THEN '1' WHEN n <= 3 THEN '2-3' ELSE '4+' END AS aces
        FROM (
            SELECT p.person_id, COUNT(f.rule_id) AS n
            FROM st_people AS p LEFT JOIN st_fired AS f
              ON f.person_id = p.person_id AND list_contains($aces, f.rule_id)
            WHERE p.child GROUP BY p.person_id
        ) AS c JOIN st_people AS p USING (person_id)
        """,
        {"aces": list(ace_rules)},
    )


def build_police(con: duckdb.DuckDBPyConnection) -> None:
    """``st_police``: the overlap of police contact with mental-health, substance and emergency services."""
    tables = tables_of(con, "build")
    if "feed_police_incident_persons" in tables:
        named = """
            SELECT CAST(pr.person_id AS VARCHAR) AS person_id, f.role
            FROM build.feed_police_incident_persons AS f
            JOIN build.person_records AS pr ON pr.feed = 'police_incident_persons' AND pr.record_id = f.record_id
            WHERE list_contains($roles, f.role)
        """
    else:
        named = "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS role WHERE FALSE"
    known = []
    params: dict[str, object] = {"roles": list(POLICE_ROLES)}
    for i, (service, feeds) in enumerate(SERVICES.items()):
        present = [f for f in feeds if f"feed_{f}" in tables]
        if present:
            params[f"service{i}"], params[f"feeds{i}"] = service, present
            known.append(
                f"SELECT DISTINCT CAST(person_id AS VARCHAR) AS person_id, $service{i} AS service "
                f"FROM build.person_records WHERE list_contains($feeds{i}, feed)"
            )
    services = " UNION ALL ".join(known) or "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS service WHERE FALSE"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE st_police AS
        WITH named AS ({named}),
        roles AS (
            SELECT person_id, BOOL_OR(role = 'victim') AS victim, BOOL_OR(role = 'suspect') AS suspect,
                   BOOL_OR(role = 'subject') AS subject
            FROM named GROUP BY person_id
        ),
        services AS (
            SELECT person_id, BOOL_OR(service = 'mental_health') AS mh, BOOL_OR(service = 'substance') AS sub,
                   BOOL_OR(service = 'emergency') AS ed
            FROM ({services}) AS s GROUP BY person_id
        )
        SELECT p.area, p.decile, p.age_band, p.sex, r.victim, r.suspect, r.subject,
               CASE
                   WHEN COALESCE(s.mh::INT, 0) + COALESCE(s.sub::INT, 0) + COALESCE(s.ed::INT, 0) >= 2
                   THEN 'two_or_more'
                   WHEN s.mh THEN 'mental_health_only'
                   WHEN s.sub THEN 'substance_only'
                   WHEN s.ed THEN 'emergency_only'
                   ELSE 'police_only'
               END AS overlap
        FROM roles AS r JOIN st_people AS p USING (person_id)
        LEFT JOIN services AS s USING (person_id)
        """,
        params,
    )
