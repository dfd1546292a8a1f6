"""Does a rule fall harder on some groups? Rates by sex, age band and area deprivation decile.

For every rule, the rate is the share of the rule's population (children: under 18 on the run's
as-of date; adults: 18 or over) who have the indicator or flag, in each group, with the ratio of
the group's rate to the rate over the whole population of the rule, and per dimension the ratio
of the highest group rate to the lowest (the *disparity*; 1.0 is even). Groups with fewer than
``min_group`` people, and the "unknown" group, are shown but left out of the disparity.

A person with no date of birth on any record is in the age band "unknown" (#15), and in the population the
rules put them in: adults, unless a record says they were a child (``rules.age_unknown``).

A person's deprivation decile is that of the postcode most often on their records
(``postcode_areas``); "unknown" when no record has a postcode in the reference list. Deprivation
is *reported* here so partners can see its effect; no rule may use it as a condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from commonground.contracts import FEEDS
from commonground.errors import UserError
from commonground.rules.run import OUTPUT_FILE, age_unknown_words
from commonground.rules.sql import Params, render

AGE_BANDS = ((0, 4), (5, 9), (10, 15), (16, 17), (18, 24), (25, 34), (35, 49), (50, 64), (65, 200))
DIMENSIONS = ("sex", "age_band", "deprivation_decile")


@dataclass(frozen=True)
class GroupRate:
    rule_id: str
    dimension: str
    group: str
    persons: int
    flagged: int
    rate: float
    ratio: float | None
    """The group's rate over the rate of the rule's whole population."""


@dataclass(frozen=True)
class FairnessReport:
    as_of: datetime
    rows: tuple[GroupRate, ...]
    min_group: int
    age_unknown: int = 0
    """Persons with no date of birth on any record (#15)."""
    age_unknown_said_child: int = 0
    """Of those, persons a record says were a child."""
    age_unknown_by_feed: dict[str, int] = field(default_factory=dict)
    """Persons of unknown age with a record in each feed."""

    def age_unknown_markdown(self) -> list[str]:
        lines = [
            "## Age unknown",
            "",
            age_unknown_words(self.age_unknown, self.age_unknown_said_child)
            + ' In the rates below they are in the age band "unknown".',
            "",
        ]
        if self.age_unknown_by_feed:
            lines += ["| feed | people of unknown age with a record in it |", "|---|---:|"]
            lines += [f"| {feed} | {count:,} |" for feed, count in sorted(self.age_unknown_by_feed.items())]
            lines.append("")
        return lines

    def rates(self, rule_id: str, dimension: str) -> dict[str, GroupRate]:
        return {r.group: r for r in self.rows if r.rule_id == rule_id and r.dimension == dimension}

    def disparity(self, rule_id: str, dimension: str) -> float | None:
        """Highest group rate over lowest, among known groups of at least ``min_group`` people."""
        rates = [
            r.rate
            for r in self.rates(rule_id, dimension).values()
            if r.persons >= self.min_group and r.group != "unknown"
        ]
        if len(rates) < 2 or min(rates) == 0:
            return None
        return max(rates) / min(rates)

    def to_markdown(self) -> str:
        lines = self.age_unknown_markdown()
        lines += [f"Rates by group (as of {self.as_of:%Y-%m-%d}); ratio = group rate / rule population rate.", ""]
        for rule_id in dict.fromkeys(r.rule_id for r in self.rows):
            lines += [f"### {rule_id}", ""]
            for dimension in DIMENSIONS:
                rates = self.rates(rule_id, dimension)
                if not rates:
                    continue
                disparity = self.disparity(rule_id, dimension)
                shown = f"{disparity:.2f}" if disparity is not None else "-"
                lines.append(f"{dimension} (highest / lowest rate: {shown})")
                lines.append("")
                lines.append("| group | persons | with it | rate | ratio |")
                lines.append("|---|---:|---:|---:|---:|")
                for group in sorted(rates, key=_group_order):
                    r = rates[group]
                    ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
                    lines.append(f"| {group} | {r.persons:,} | {r.flagged:,} | {100 * r.rate:.2f} % | {ratio} |")
                lines.append("")
        return "\n".join(lines)


def _group_order(group: str) -> tuple[int, str]:
    head = group.split("-")[0].rstrip("+")
    return (int(head), group) if head.isdigit() else (10_000, group)


def fairness_report(build_dir: Path, *, min_group: int = 20) -> FairnessReport:
    """Rates of every rule by sex, age band and deprivation decile, from the latest rules run."""
    output = build_dir / OUTPUT_FILE
    if not output.exists():
        raise UserError(f"{build_dir}: the rules have not run on this build (no {OUTPUT_FILE})")
    with duckdb.connect() as con:
        for alias, path in (("build", build_dir / "build.duckdb"), ("rules", output)):
            p = Params()
            con.execute(render(f"ATTACH {p(str(path))} AS {alias} (READ_ONLY)", p).sql("duckdb"))
        row = con.execute("SELECT value FROM rules.rules_run WHERE key = 'as_of'").fetchone()
        if row is None:
            raise UserError(f"{build_dir}: the rules output has no as-of date; run the rules again")
        as_of = datetime.fromisoformat(str(row[0]))
        con.execute(_people_sql(con, as_of))
        rows = con.execute(_rates_sql()).fetchall()
        unknown = (
            con.execute("SELECT COUNT(*), COUNT(child_until) FROM rules.age_unknown").fetchone()
            if _has_age_unknown(con)
            else (0, 0)
        )
        by_feed = _age_unknown_by_feed(con)
    out = tuple(
        GroupRate(
            rule_id=rule_id,
            dimension=dimension,
            group=str(group),
            persons=persons,
            flagged=flagged,
            rate=flagged / persons if persons else 0.0,
            ratio=(flagged / persons) / overall if persons and overall else None,
        )
        for rule_id, dimension, group, persons, flagged, overall in rows
    )
    return FairnessReport(
        as_of=as_of,
        rows=out,
        min_group=min_group,
        age_unknown=int(unknown[0]) if unknown else 0,
        age_unknown_said_child=int(unknown[1]) if unknown else 0,
        age_unknown_by_feed=by_feed,
    )


def _has_age_unknown(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT COUNT(*) FROM duckdb_tables() WHERE database_name = 'rules' AND table_name = 'age_unknown'"
    ).fetchone()
    return bool(found and found[0])


def _age_unknown_by_feed(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    if not _has_age_unknown(con):
        return {}
    rows = con.execute(
        "SELECT feed, COUNT(*) FROM (SELECT UNNEST(STRING_SPLIT(feeds, ',')) AS feed FROM rules.age_unknown) "
        "WHERE feed <> '' GROUP BY feed ORDER BY feed"
    ).fetchall()
    return {str(feed): int(count) for feed, count in rows}


def _people_sql(con: duckdb.DuckDBPyConnection, as_of: datetime) -> str:
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'build'").fetchall()
    }
    postcodes = []
    for name, contract in FEEDS.items():
        if contract.person_level and f"feed_{name}" in tables:
            p = Params()
            postcodes.append(
                render(
                    f"SELECT CAST(pr.person_id AS VARCHAR) AS person_id, f.postcode FROM build.feed_{name} AS f "
                    f"JOIN build.person_records AS pr ON pr.feed = {p(name)} AND pr.record_id = f.record_id "
                    f"WHERE f.postcode IS NOT NULL",
                    p,
                ).sql("duckdb")
            )
    union = (
        " UNION ALL ".join(postcodes)
        or "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS postcode WHERE FALSE"
    )
    p = Params()
    bands = " ".join(
        f"WHEN age BETWEEN {p(low)} AND {p(high)} THEN {p(f'{low}-{high}' if high < 200 else f'{low}+')}"
        for low, high in AGE_BANDS
    )
    rules_tables = {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'rules'").fetchall()
    }
    unknown = (  # an output written before #15 has no age_unknown table: such persons are left out, as then
        "SELECT person_id, child_until FROM rules.age_unknown"
        if "age_unknown" in rules_tables
        else "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS TIMESTAMP) AS child_until WHERE FALSE"
    )
    deciles = (
        "SELECT postcode, CAST(deprivation_decile AS VARCHAR) AS decile FROM build.postcode_areas"
        if "postcode_areas" in tables
        else ("SELECT CAST(NULL AS VARCHAR) AS postcode, CAST(NULL AS VARCHAR) AS decile WHERE FALSE")
    )
    return render(
        f"""
        CREATE TEMP TABLE fair_people AS
        WITH usual AS (
            SELECT person_id, postcode FROM (
                SELECT person_id, postcode,
                       ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY COUNT(*) DESC, postcode) AS rn
                FROM ({union}) AS u GROUP BY person_id, postcode
            ) AS ranked WHERE rn = 1
        ),
        aged AS (
            SELECT CAST(person_id AS VARCHAR) AS person_id, COALESCE(sex, 'U') AS sex,
                   DATE_DIFF('year', date_of_birth, {p(as_of.date())})
                   - CASE WHEN STRFTIME(date_of_birth, '%m%d') > {p(as_of.strftime("%m%d"))} THEN 1 ELSE 0 END AS age,
                   CAST(NULL AS BOOLEAN) AS said_child
            FROM build.persons WHERE date_of_birth IS NOT NULL AND date_of_birth <= {p(as_of.date())}
            UNION ALL
            SELECT CAST(x.person_id AS VARCHAR), COALESCE(x.sex, 'U'), CAST(NULL AS BIGINT), u.child_until IS NOT NULL
            FROM build.persons AS x JOIN ({unknown}) AS u ON u.person_id = CAST(x.person_id AS VARCHAR)
            WHERE x.date_of_birth IS NULL
        )
        SELECT a.person_id, a.sex, CASE WHEN a.age IS NULL THEN 'unknown' ELSE CASE {bands} END END AS age_band,
               CASE WHEN a.age < 18 OR a.said_child THEN 'child' ELSE 'adult' END AS population,
               COALESCE(d.decile, 'unknown') AS deprivation_decile
        FROM aged AS a LEFT JOIN usual AS u ON u.person_id = a.person_id
        LEFT JOIN ({deciles}) AS d ON d.postcode = u.postcode
        """,
        p,
    ).sql("duckdb")


def _rates_sql() -> str:
    return """
        WITH fired AS (
            SELECT DISTINCT person_id, rule_id FROM rules.indicators
            UNION SELECT DISTINCT person_id, rule_id FROM rules.flags
        ),
        eligible AS (
            SELECT r.rule_id, f.* FROM rules.rules AS r JOIN fair_people AS f ON f.population = r.population
        ),
        marked AS (
            SELECT e.*, CASE WHEN x.person_id IS NULL THEN 0 ELSE 1 END AS has_it
            FROM eligible AS e LEFT JOIN fired AS x ON x.person_id = e.person_id AND x.rule_id = e.rule_id
        ),
        overall AS (
            SELECT rule_id, CAST(SUM(has_it) AS DOUBLE) / COUNT(*) AS rate FROM marked GROUP BY rule_id
        ),
        grouped AS (
            SELECT rule_id, 'sex' AS dimension, sex AS grp, COUNT(*) AS persons, SUM(has_it) AS flagged
            FROM marked GROUP BY rule_id, sex
            UNION ALL
            SELECT rule_id, 'age_band', age_band, COUNT(*), SUM(has_it) FROM marked GROUP BY rule_id, age_band
            UNION ALL
            SELECT rule_id, 'deprivation_decile', deprivation_decile, COUNT(*), SUM(has_it)
            FROM marked GROUP BY rule_id, deprivation_decile
        )
        SELECT g.rule_id, g.dimension, g.grp, g.persons, CAST(g.flagged AS BIGINT), o.rate
        FROM grouped AS g JOIN overall AS o ON o.rule_id = g.rule_id
        ORDER BY g.rule_id, g.dimension, g.grp
    """
