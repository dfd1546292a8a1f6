"""The build seen as events: the staged tables every rule reads.

``rules_people``      person_id (text), date_of_birth, age_known, born_at, adult_at (the 18th birthday),
                      child_until, last_seen. A person with no date of birth on any record is *age unknown*
                      (#15): never a child unless a record says so (``child_until``: the latest moment a record
                      said so, up to the end of which day they count as a child); otherwise an adult throughout.
``rules_child_said``  person_id, said_at, feed, record_id: records that say a person was a child then, whatever
                      their date of birth (a children's social care referral; being named as a child present on
                      a police incident)
``rules_households``  one person-period at an address, as timestamps: start_at, end_excl (the day
                      after the last day; the run's as-of date while current), with the person's ages,
                      first_sighting, last_sighting and start_inferred_from (residence inferred, #15)
``src_<source>``      one row per evidence record of a source (see :mod:`commonground.rules.sources`):
                      feed, record_id, person_id, via_person_id, address_key, ev_start, ev_end and the
                      source's columns. Periods (treatment, prison) run to their end or to as-of.

Everything after the as-of moment is left out, so a run as of a past date sees what was known then
(as far as the build's own content allows). Person ids are compared as text.

An incident's place is matched to a household's ``address_key``: the incident's own
``address_key`` column if the build has one, else the key linkage gives an address
(:func:`_address_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from commonground.contracts import FEEDS
from commonground.linkage.sources import TEXT_KEY_SQL, UPRN_KEY_SQL
from commonground.rules.sources import SOURCES, ColumnKind, Source
from commonground.rules.sql import Params, render

Schema = dict[str, dict[str, str]]

BUILD_TABLES = ("persons", "person_records", "households")

_NULL_TYPES = {
    ColumnKind.CODE: "VARCHAR",
    ColumnKind.CODE_LIST: "VARCHAR[]",
    ColumnKind.BOOL: "BOOLEAN",
    ColumnKind.NUMBER: "DOUBLE",
}


@dataclass(frozen=True)
class Stage:
    name: str
    query: exp.Expr
    keep: bool = False
    """Worth computing once even where stages are otherwise left as views (read by many rules)."""


def missing_tables(source: Source, schema: Schema) -> tuple[str, ...]:
    return tuple(t for t in source.tables if t not in schema)


def _is_list(type_name: str) -> bool:
    return type_name.endswith("[]") or type_name.startswith("array")


def _column(source: Source, name: str, schema: Schema) -> str:
    column = source.columns[name]
    table = f"feed_{source.feed}" if column.table == "f" else "feed_police_incidents"
    type_name = schema.get(table, {}).get(name)
    if type_name is None:  # an optional column the partner did not send
        return f"CAST(NULL AS {_NULL_TYPES[column.kind]}) AS {name}"
    ref = f"{column.table}.{name}"
    if column.kind is ColumnKind.CODE_LIST and not _is_list(type_name):
        return f"STRING_SPLIT(LOWER({ref}), ';') AS {name}"
    if column.kind is ColumnKind.CODE and not type_name.startswith(("varchar", "string")):
        return f"LOWER(CAST({ref} AS VARCHAR)) AS {name}"
    return f"{ref} AS {name}"


def _address_key(alias: str, schema: Schema) -> tuple[str, str]:
    """The incident's address key, and the join that finds the UPRN for an address without one.

    Linkage's own key (``commonground.linkage.sources``): ``UPRN <uprn>``, else the postcode and
    first line (upper case, punctuation removed) replaced by the UPRN most often recorded with
    them on person-level records (``rules_text_uprn``), else that text.
    """
    incidents = schema.get("feed_police_incidents", {})
    if "address_key" in incidents:
        return f"CAST({alias}.address_key AS VARCHAR)", ""
    text = TEXT_KEY_SQL.replace("r.", f"{alias}.")
    uprn = UPRN_KEY_SQL.replace("r.", f"{alias}.") if "uprn" in incidents else "CAST(NULL AS VARCHAR)"
    join = f"LEFT JOIN rules_text_uprn AS tu ON tu.text_key = {text} "
    return f"COALESCE({uprn}, tu.uprn_key, {text})", join


def text_uprn_stage(schema: Schema) -> Stage:
    """For each postcode-and-first-line key, the UPRN most often recorded with it (as linkage does)."""
    parts = []
    for name, contract in FEEDS.items():
        table = f"feed_{name}"
        if contract.person_level and table in schema and "uprn" in schema[table]:
            parts.append(f"SELECT {UPRN_KEY_SQL} AS uprn_key, {TEXT_KEY_SQL} AS text_key FROM {table} AS r")
    if not parts:
        return Stage(
            "rules_text_uprn",
            render("SELECT CAST(NULL AS VARCHAR) AS text_key, CAST(NULL AS VARCHAR) AS uprn_key WHERE FALSE"),
        )
    union = " UNION ALL ".join(parts)
    return Stage(
        "rules_text_uprn",
        keep=True,
        query=render(f"""
            SELECT text_key, uprn_key FROM (
                SELECT text_key, uprn_key,
                       ROW_NUMBER() OVER (PARTITION BY text_key ORDER BY COUNT(*) DESC, uprn_key) AS rank
                FROM ({union}) AS k
                WHERE text_key IS NOT NULL AND uprn_key IS NOT NULL
                GROUP BY text_key, uprn_key
            ) AS ranked WHERE rank = 1
        """),
    )


EARLIEST = datetime(1900, 1, 1)
"""``born_at`` and ``adult_at`` of a person whose age is unknown: as if born long ago (no rule waits for a birth),
and an adult from then unless a record says they were a child."""


def child_said_stage(schema: Schema, as_of: datetime) -> Stage:
    """Records that say a person was a child at the time, by their nature rather than a date of birth: a referral
    to children's social care, a person named as a child present on a police incident. Up to the as-of moment."""
    p = Params()
    parts = []
    if "feed_childrens_social_care" in schema:
        parts.append(
            "SELECT CAST(pr.person_id AS VARCHAR) AS person_id, CAST(f.referral_date AS TIMESTAMP) AS said_at, "
            f"{p('childrens_social_care')} AS feed, CAST(f.record_id AS VARCHAR) AS record_id "
            "FROM feed_childrens_social_care AS f "
            f"JOIN person_records AS pr ON pr.feed = {p('childrens_social_care')} AND pr.record_id = f.record_id"
        )
    if "feed_police_incident_persons" in schema and "feed_police_incidents" in schema:
        parts.append(
            "SELECT CAST(pr.person_id AS VARCHAR) AS person_id, CAST(i.occurred_at AS TIMESTAMP) AS said_at, "
            f"{p('police_incident_persons')} AS feed, CAST(f.record_id AS VARCHAR) AS record_id "
            "FROM feed_police_incident_persons AS f "
            "JOIN feed_police_incidents AS i ON i.incident_id = f.incident_id "
            f"JOIN person_records AS pr ON pr.feed = {p('police_incident_persons')} AND pr.record_id = f.record_id "
            f"WHERE LOWER(CAST(f.role AS VARCHAR)) = {p('child_present')}"
        )
    if not parts:
        return Stage(
            "rules_child_said",
            render(
                "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS TIMESTAMP) AS said_at, "
                "CAST(NULL AS VARCHAR) AS feed, CAST(NULL AS VARCHAR) AS record_id WHERE FALSE"
            ),
        )
    union = " UNION ALL ".join(parts)
    return Stage("rules_child_said", render(f"SELECT * FROM ({union}) AS c WHERE c.said_at <= {p(as_of)}", p))


def people_stage(schema: Schema) -> Stage:
    """One row per person. Ages come from the person's date of birth (linkage chooses it from their records); for
    a person with none, see ``EARLIEST`` and ``child_until``."""
    last_seen = "x.last_seen" if "last_seen" in schema.get("persons", {}) else "CAST(NULL AS DATE)"
    p = Params()
    earliest = p(EARLIEST)
    return Stage(
        "rules_people",
        keep=True,
        query=render(
            f"""
            SELECT CAST(x.person_id AS VARCHAR) AS person_id, x.date_of_birth,
                   x.date_of_birth IS NOT NULL AS age_known,
                   CASE WHEN x.date_of_birth IS NOT NULL THEN CAST(x.date_of_birth AS TIMESTAMP)
                        ELSE {earliest} END AS born_at,
                   CASE WHEN x.date_of_birth IS NOT NULL THEN CAST(x.date_of_birth + INTERVAL 18 YEAR AS TIMESTAMP)
                        WHEN c.child_until IS NOT NULL
                            THEN CAST(CAST(c.child_until AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY
                        ELSE {earliest} END AS adult_at,
                   CASE WHEN x.date_of_birth IS NULL THEN c.child_until END AS child_until,
                   CAST({last_seen} AS DATE) AS last_seen
            FROM persons AS x
            LEFT JOIN (
                SELECT person_id, MAX(said_at) AS child_until FROM rules_child_said GROUP BY person_id
            ) AS c ON c.person_id = CAST(x.person_id AS VARCHAR)
            """,
            p,
        ),
    )


def households_stage(as_of: datetime, schema: Schema) -> Stage:
    """The build's household periods as timestamps, with what was seen of each (#15).

    ``first_sighting``/``last_sighting`` (the person's first and last record at the address in the period) and
    ``start_inferred_from`` (NULL when the start is a sighting) come from linkage. A households table without them
    (the truth's, or a hand-made one) states its periods as known (``sighted`` false): seen from start to end, or
    to as-of while current, and nothing inferred.
    """
    p = Params()
    day = p(as_of.date())
    start = "COALESCE(h.start_date, p.date_of_birth)"
    if "last_sighting" in schema.get("households", {}):
        sighted = (
            "CAST(h.first_sighting AS DATE) AS first_sighting, CAST(h.last_sighting AS DATE) AS last_sighting, "
            "CAST(h.start_inferred_from AS VARCHAR) AS start_inferred_from, TRUE AS sighted"
        )
    else:
        sighted = (
            f"{start} AS first_sighting, LEAST(COALESCE(h.end_date, {day}), {day}) AS last_sighting, "
            "CAST(NULL AS VARCHAR) AS start_inferred_from, FALSE AS sighted"
        )
    return Stage(
        "rules_households",
        render(
            f"""
            SELECT CAST(h.household_id AS VARCHAR) AS household_id, p.person_id,
                   CAST(h.address_key AS VARCHAR) AS address_key,
                   {start} AS start_date, h.end_date,
                   CAST({start} AS TIMESTAMP) AS start_at,
                   CAST(LEAST(COALESCE(h.end_date, {day}), {day}) AS TIMESTAMP) + INTERVAL 1 DAY
                       AS end_excl,
                   {sighted},
                   p.date_of_birth, p.born_at, p.adult_at, p.last_seen
            FROM households AS h
            JOIN rules_people AS p ON p.person_id = CAST(h.person_id AS VARCHAR)
            WHERE {start} <= {day}
            """,
            p,
        ),
    )


def source_stage(source: Source, schema: Schema, as_of: datetime) -> Stage:
    if source.name == "household_departures":
        return _departures_stage(as_of)
    if source.name == "parent_on_incident":
        return parent_on_incident_stage(schema, as_of)
    p = Params()
    feed = f"feed_{source.feed}"
    columns = ", ".join(_column(source, name, schema) for name in source.columns)
    time_table = "i" if source.name == "police_incident_persons" else "f"
    start = f"CAST({time_table}.{source.starts} AS TIMESTAMP)"
    if source.ends:
        end = f"LEAST(CAST(COALESCE(f.{source.ends}, {p(as_of.date())}) AS TIMESTAMP), {p(as_of)})"
    else:
        end = start
    joins = ""
    if source.name == "police_incident_persons":
        address, place = _address_key("i", schema)
        joins = "JOIN feed_police_incidents AS i ON i.incident_id = f.incident_id " + place
    elif source.located:
        address, joins = _address_key("f", schema)
    else:
        address = "CAST(NULL AS VARCHAR)"
    if source.person:
        person = "CAST(pr.person_id AS VARCHAR)"
        joins += f"JOIN person_records AS pr ON pr.feed = {p(source.feed)} AND pr.record_id = f.record_id "
    else:
        person = "CAST(NULL AS VARCHAR)"
    template = f"""
        SELECT {p(source.feed)} AS feed, CAST(f.record_id AS VARCHAR) AS record_id,
               {person} AS person_id, {person} AS via_person_id, {address} AS address_key,
               {start} AS ev_start, {end} AS ev_end{", " + columns if columns else ""}
        FROM {feed} AS f {joins}
        WHERE {start} <= {p(as_of)}
    """
    return Stage(f"src_{source.name}", render(template, p))


def _departures_stage(as_of: datetime) -> Stage:
    """The adults of a child's household were seen apart: one left, another stayed on with the child (#15).

    The record is the leaving adult's household period, named ``household_id/person_id/start_date``.
    The adult was 18 or over on their last day there (linkage ends a period when the person is recorded at
    another address) after being recorded there on two days or more, has no later period in that household, and
    was recorded at one new address on two days or more (over time, not one record with an old or wrong address;
    a stated period, not sighted, is taken as it is); the child had lived there before that day and was recorded
    there after it; and another adult who had lived there before that day was *recorded there after it*
    (``last_sighting``). One adult's records at a new address while the others go unseen is not evidence that the
    household split: an adult seen only at crises may simply not have been recorded at home.
    """
    p = Params()
    template = f"""
        SELECT 'households' AS feed,
               a.household_id || '/' || a.person_id || '/' || CAST(a.start_date AS VARCHAR) AS record_id,
               c.person_id AS person_id, a.person_id AS via_person_id, CAST(NULL AS VARCHAR) AS address_key,
               CAST(a.end_date AS TIMESTAMP) AS ev_start, CAST(a.end_date AS TIMESTAMP) AS ev_end,
               CAST(FLOOR(DATE_DIFF('day', a.date_of_birth, c.date_of_birth) / 365.25) AS DOUBLE) AS age_gap_years
        FROM rules_households AS a
        JOIN rules_households AS c ON c.household_id = a.household_id AND c.person_id <> a.person_id
        WHERE a.end_date IS NOT NULL AND a.end_date < {p(as_of.date())}
          AND CAST(a.end_date AS TIMESTAMP) >= a.adult_at
          AND c.start_date < a.end_date
          AND (c.end_date IS NULL OR c.end_date > a.end_date)
          AND NOT EXISTS (
              SELECT 1 FROM rules_households AS b
              WHERE b.household_id = a.household_id AND b.person_id = a.person_id AND b.start_date > a.end_date
          )
          AND c.last_sighting > a.end_date AND a.last_sighting > a.first_sighting
          AND (NOT a.sighted OR EXISTS (
              SELECT 1 FROM rules_households AS n
              WHERE n.person_id = a.person_id AND n.household_id <> a.household_id
                AND n.start_date >= a.end_date AND n.last_sighting > n.first_sighting
          ))
          AND EXISTS (
              SELECT 1 FROM rules_households AS s
              WHERE s.household_id = a.household_id AND s.person_id <> a.person_id AND s.person_id <> c.person_id
                AND s.start_date < a.end_date AND s.last_sighting > a.end_date
                AND CAST(s.last_sighting AS TIMESTAMP) >= s.adult_at
          )
    """
    return Stage("src_household_departures", render(template, p))


def parent_on_incident_stage(schema: Schema, as_of: datetime) -> Stage:
    """A police incident naming an adult the child has lived with, as a record about the child (Operation
    Encompass reaches every child, #20): the children of the adults on an incident who live elsewhere.

    The record is the incident row (``police_incidents``) about the child, through the adult (``via_person_id``).
    The adult and the child shared a household (one ``household_id``, overlapping periods) that began before the
    incident, while the child was under 18; they may live apart now (a separated parent) or still together (an
    incident away from home). Columns for the rule to test: the adult's ``role`` on the incident, its ``category``
    and ``qualifiers``, ``age_gap_years`` (how many whole years older the adult is than the child: a parent's age;
    unknown when either date of birth is), ``child_lives_at_address`` (the child lived at the incident's address
    then: the ``at_household`` evidence covers that child) and ``child_named`` (the child is on the incident too).
    """
    p = Params()
    named = SOURCES["police_incident_persons"]
    columns = ", ".join(_column(named, name, schema) for name in ("role", "category", "qualifiers"))
    address, place = _address_key("i", schema)
    person_feed = p("police_incident_persons")
    template = f"""
        SELECT DISTINCT 'police_incidents' AS feed, CAST(x.incident_record AS VARCHAR) AS record_id,
               hc.person_id AS person_id, ha.person_id AS via_person_id, CAST(NULL AS VARCHAR) AS address_key,
               x.ev_start, x.ev_start AS ev_end, x.role, x.category, x.qualifiers,
               CAST(FLOOR(DATE_DIFF('day', ha.date_of_birth, hc.date_of_birth) / 365.25) AS DOUBLE) AS age_gap_years,
               EXISTS (
                   SELECT 1 FROM rules_households AS h
                   WHERE h.person_id = hc.person_id AND h.address_key = x.address_key
                     AND x.ev_start >= h.start_at AND x.ev_start < h.end_excl
               ) AS child_lives_at_address,
               EXISTS (
                   SELECT 1 FROM feed_police_incident_persons AS o
                   JOIN person_records AS po ON po.feed = {person_feed} AND po.record_id = o.record_id
                   WHERE o.incident_id = x.incident_id AND CAST(po.person_id AS VARCHAR) = hc.person_id
               ) AS child_named
        FROM (
            SELECT i.record_id AS incident_record, i.incident_id, CAST(pr.person_id AS VARCHAR) AS adult_id,
                   CAST(i.occurred_at AS TIMESTAMP) AS ev_start, {address} AS address_key, {columns}
            FROM feed_police_incident_persons AS f
            JOIN feed_police_incidents AS i ON i.incident_id = f.incident_id {place}
            JOIN person_records AS pr ON pr.feed = {person_feed} AND pr.record_id = f.record_id
            WHERE CAST(i.occurred_at AS TIMESTAMP) <= {p(as_of)}
        ) AS x
        JOIN rules_households AS ha ON ha.person_id = x.adult_id
        JOIN rules_households AS hc ON hc.household_id = ha.household_id AND hc.person_id <> ha.person_id
        WHERE GREATEST(ha.start_at, hc.start_at) < LEAST(ha.end_excl, hc.end_excl)
          AND GREATEST(ha.start_at, hc.start_at) <= x.ev_start
          AND GREATEST(ha.start_at, hc.start_at) < hc.adult_at
    """
    return Stage("src_parent_on_incident", render(template, p))


def stages(
    *, schema: Schema, as_of: datetime, sources: tuple[str, ...]
) -> tuple[list[Stage], dict[str, tuple[str, ...]]]:
    """The staging statements for the sources the rules use, and the sources the build cannot feed
    (each with the tables it lacks)."""
    out = [
        child_said_stage(schema, as_of),
        people_stage(schema),
        households_stage(as_of, schema),
        text_uprn_stage(schema),
    ]
    unavailable: dict[str, tuple[str, ...]] = {}
    for name in sources:
        source = SOURCES[name]
        lacking = missing_tables(source, schema)
        if lacking:
            unavailable[name] = lacking
            continue
        out.append(source_stage(source, schema, as_of))
    return out, unavailable
