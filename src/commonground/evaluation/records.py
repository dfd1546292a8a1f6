"""What an evaluation reads from a build: events, index dates, covariates and outcome counts.

Written once as DuckDB-dialect SQL through the engine interface (values bound as sqlglot
literals, identifiers from the rules' source registry), so it runs where the build is. The
records come through the rules' staging (``commonground.rules.staging``): each person-level
source seen as events with a person and a moment.

Windows, in whole days from the index date (day 0): records from day -1 to day +1 belong to the
index episode itself (a crisis seen by police at night, triage and the crisis team the next
morning) and count nowhere; *before* is days -1-W .. -2 for the difference-in-differences and
-366 .. -2 for the prior contacts; *after* (the follow-up) is days +2 .. +W.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pyarrow as pa

from commonground.contracts import FEEDS
from commonground.engine.base import Engine
from commonground.evaluation.outcomes import OutcomeEvent, OutcomeSpec
from commonground.rules.compile import condition_sql
from commonground.rules.sources import DERIVED_SOURCES, SOURCES
from commonground.rules.sql import Params, render
from commonground.rules.staging import missing_tables, source_stage

CONTACT_SOURCES = tuple(n for n, s in SOURCES.items() if s.person and n not in DERIVED_SOURCES)
AGENCIES = tuple(dict.fromkeys(SOURCES[n].agency for n in CONTACT_SOURCES))
"""Prior contacts are counted per kind of partner: police, mental-health trust, acute trust..."""
LOOKBACK_DAYS = 365
EPISODE_DAYS = 1
_EVERYTHING = datetime(2999, 12, 31)


@dataclass(frozen=True)
class Covariates:
    """One row per person (treated first, then comparison candidates), numpy columns."""

    person_id: list[str]
    index_day: np.ndarray
    treated: np.ndarray
    age: np.ndarray
    female: np.ndarray
    sex_unknown: np.ndarray
    decile: np.ndarray
    """Deprivation decile of the person's usual postcode; NaN when unknown."""
    prior: dict[str, np.ndarray]
    """Prior contacts in the year before the index date, per agency."""
    before: np.ndarray
    """Outcome records in the W days before the index episode."""
    after: np.ndarray
    """Outcome records in the W days after it."""


def stage_sources(db: Engine, schema: dict[str, dict[str, str]]) -> tuple[str, ...]:
    """Stage every person-level source the build can feed; the names of those it cannot."""
    unavailable = []
    # The sources' place (address key) is not used here: an empty lookup stands in for linkage's.
    db.materialise(
        "rules_text_uprn",
        render("SELECT CAST(NULL AS VARCHAR) AS text_key, CAST(NULL AS VARCHAR) AS uprn_key WHERE FALSE"),
    )
    for name in CONTACT_SOURCES:
        source = SOURCES[name]
        if missing_tables(source, schema):
            unavailable.append(name)
            continue
        stage = source_stage(source, schema, _EVERYTHING)
        db.materialise(stage.name, stage.query)
    return tuple(unavailable)


def _events_sql(events: tuple[OutcomeEvent, ...], available: set[str], p: Params) -> str:
    parts = []
    for event in events:
        if event.source not in available:
            continue
        where = " AND ".join(condition_sql(c, p) for c in event.where) or "TRUE"
        parts.append(
            f"SELECT s.person_id, CAST(s.ev_start AS DATE) AS day FROM src_{event.source} AS s "
            f"WHERE s.person_id IS NOT NULL AND {where}"
        )
    return (
        " UNION ALL ".join(parts) or "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS DATE) AS day WHERE FALSE"
    )


def stage_outcome(db: Engine, outcome: OutcomeSpec, available: set[str]) -> None:
    """``eval_outcome`` and ``eval_index_events``: (person_id, day) of the outcome's and the index events."""
    p = Params()
    db.materialise("eval_outcome", render(_events_sql(outcome.events, available, p), p))
    p = Params()
    db.materialise("eval_index_events", render(_events_sql(outcome.eligibility, available, p), p))
    p = Params()
    contacts = " UNION ALL ".join(
        f"SELECT person_id, {p(SOURCES[n].agency)} AS agency, CAST(ev_start AS DATE) AS day FROM src_{n} "
        f"WHERE person_id IS NOT NULL"
        for n in CONTACT_SOURCES
        if n in available
    )
    db.materialise("eval_contacts", render(contacts, p))


def data_end(db: Engine) -> date | None:
    """The last day any person-level record of the build falls on."""
    value = db.execute("SELECT MAX(day) AS d FROM eval_contacts").column("d")[0].as_py()
    return value if isinstance(value, date) else None


def comparison_candidates(db: Engine, *, first: date, last: date) -> pa.Table:
    """Each person's first index event from ``first`` to ``last``: (person_id, index_date)."""
    p = Params()
    query = render(
        f"SELECT person_id, MIN(day) AS index_date FROM eval_index_events "
        f"WHERE day >= {p(first)} AND day <= {p(last)} GROUP BY person_id ORDER BY person_id",
        p,
    )
    return db.execute(query)


def known_persons(db: Engine, person_ids: list[str]) -> set[str]:
    db.register("eval_asked", pa.table({"person_id": pa.array(person_ids, pa.string())}))
    rows = db.execute(
        "SELECT a.person_id FROM eval_asked AS a JOIN persons AS p ON CAST(p.person_id AS VARCHAR) = a.person_id"
    )
    return set(rows.column("person_id").to_pylist())


def _usual_decile_sql(schema: dict[str, dict[str, str]], p: Params) -> str:
    """Each person's usual postcode (most often on their records) and its deprivation decile."""
    parts = [
        f"SELECT CAST(pr.person_id AS VARCHAR) AS person_id, f.postcode FROM feed_{name} AS f "
        f"JOIN person_records AS pr ON pr.feed = {p(name)} AND pr.record_id = f.record_id WHERE f.postcode IS NOT NULL"
        for name, contract in FEEDS.items()
        if contract.person_level and "postcode" in schema.get(f"feed_{name}", {})
    ]
    if not parts or "postcode_areas" not in schema:
        return "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS DOUBLE) AS decile WHERE FALSE"
    union = " UNION ALL ".join(parts)
    return f"""
        SELECT u.person_id, CAST(a.deprivation_decile AS DOUBLE) AS decile FROM (
            SELECT person_id, postcode,
                   ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY COUNT(*) DESC, postcode) AS rn
            FROM ({union}) AS x GROUP BY person_id, postcode
        ) AS u JOIN postcode_areas AS a ON a.postcode = u.postcode WHERE u.rn = 1
    """


def covariates(db: Engine, schema: dict[str, dict[str, str]], people: pa.Table, *, window_days: int) -> Covariates:
    """Covariates and outcome counts of ``people`` (person_id, index_date, treated), in that order."""
    db.register("eval_people", people.append_column("row_no", pa.array(np.arange(people.num_rows), pa.int64())))
    p = Params()
    prior = ", ".join(f"COUNT(CASE WHEN c.agency = {p(agency)} THEN 1 END) AS prior_{agency}" for agency in AGENCIES)
    w = p(window_days)
    lookback, episode = p(LOOKBACK_DAYS), p(EPISODE_DAYS)
    query = f"""
        WITH deciles AS ({_usual_decile_sql(schema, p)}),
        prior AS (
            SELECT x.row_no, {prior} FROM eval_people AS x JOIN eval_contacts AS c ON c.person_id = x.person_id
            WHERE DATE_DIFF('day', x.index_date, c.day) BETWEEN -1 - {lookback} AND -1 - {episode}
            GROUP BY x.row_no
        ),
        outcome AS (
            SELECT x.row_no,
                   COUNT(CASE WHEN DATE_DIFF('day', x.index_date, o.day) BETWEEN 1 + {episode} AND {w} THEN 1 END)
                       AS after_n,
                   COUNT(CASE WHEN DATE_DIFF('day', x.index_date, o.day) BETWEEN -{episode} - {w} AND -1 - {episode}
                       THEN 1 END) AS before_n
            FROM eval_people AS x JOIN eval_outcome AS o ON o.person_id = x.person_id GROUP BY x.row_no
        )
        SELECT x.row_no, x.person_id, x.index_date, x.treated,
               DATE_DIFF('day', p.date_of_birth, x.index_date) / 365.25 AS age,
               CASE WHEN UPPER(CAST(p.sex AS VARCHAR)) = 'F' THEN 1 ELSE 0 END AS female,
               CASE WHEN UPPER(CAST(p.sex AS VARCHAR)) IN ('F', 'M') THEN 0 ELSE 1 END AS sex_unknown,
               d.decile, {", ".join(f"COALESCE(pr.prior_{a}, 0) AS prior_{a}" for a in AGENCIES)},
               COALESCE(o.before_n, 0) AS before_n, COALESCE(o.after_n, 0) AS after_n
        FROM eval_people AS x
        LEFT JOIN (SELECT DISTINCT CAST(person_id AS VARCHAR) AS person_id, date_of_birth, sex FROM persons) AS p
            ON p.person_id = x.person_id
        LEFT JOIN deciles AS d ON d.person_id = x.person_id
        LEFT JOIN prior AS pr ON pr.row_no = x.row_no
        LEFT JOIN outcome AS o ON o.row_no = x.row_no
        ORDER BY x.row_no
    """
    table = db.execute(render(query, p))

    def col(name: str, dtype: type = np.float64) -> np.ndarray:
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)

    index_days = np.asarray(
        [(d - date(1970, 1, 1)).days for d in table.column("index_date").to_pylist()], dtype=np.int64
    )
    return Covariates(
        person_id=[str(v) for v in table.column("person_id").to_pylist()],
        index_day=index_days,
        treated=col("treated", np.bool_),
        age=col("age"),
        female=col("female"),
        sex_unknown=col("sex_unknown"),
        decile=col("decile"),
        prior={a: col(f"prior_{a}") for a in AGENCIES},
        before=col("before_n"),
        after=col("after_n"),
    )
