"""What the linkage stage reads from the feed tables: the linkage input, and each record's event.

Both are SQL over the ``feed_<name>`` tables (of the ingest store, or of a build, which keeps a
snapshot of them), in DuckDB's dialect. Table and column names come from the feed contracts and
are quoted; no value is ever written into the SQL.

- :func:`input_sql`: every person-level record as one row of the linkage input
  (:data:`commonground.linkage.prepare.INPUT_COLUMNS`), ``unique_id = feed:record_id``.
- :func:`events_sql`: every person-level record with the date it speaks of (the event the partner
  recorded) and its address key, for households and for ``persons.first_seen/last_seen``.
"""

from __future__ import annotations

from collections.abc import Iterable

from commonground.contracts import FEEDS, ColumnType, FeedContract
from commonground.linkage.standardise import address_sql

IDENTITY_COLUMNS = (
    "given_name_key",
    "family_name_key",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "nhs_number",
    "uprn",
)

INCIDENTS_FEED = "police_incidents"
"""Feeds without a date of their own (``police_incident_persons``) take their incident's ``occurred_at``."""


def quote(name: str) -> str:
    """A contract identifier as a quoted SQL identifier (contracts allow ``[a-z][a-z0-9_]*`` only)."""
    if not name.replace("_", "").isalnum() or not (name[:1].isalpha() or name[:1] == "_") or not name.isascii():
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def table_name(feed: str, *, catalog: str | None = None) -> str:
    table = quote(f"feed_{feed}")
    return f"{quote(catalog)}.main.{table}" if catalog else table


def person_feeds(available: Iterable[str] | None = None) -> list[FeedContract]:
    """Person-level feeds, in contract order; only those whose table is in ``available`` if given."""
    have = None if available is None else set(available)
    return [f for f in FEEDS.values() if f.person_level and (have is None or f"feed_{f.name}" in have)]


DISPLAY_COLUMNS = ("given_name", "family_name", "date_of_birth", "sex", "nhs_number")
"""The identity a person is shown with (``persons``): the most frequent value of each."""


def input_sql(
    feeds: Iterable[FeedContract],
    *,
    catalog: str | None = None,
    columns: tuple[str, ...] = IDENTITY_COLUMNS,
    as_text: bool = True,
) -> str:
    """The linkage input: one row per person-level record of every feed (``unique_id, feed,
    record_id`` and ``columns``, as text unless ``as_text`` is false)."""
    parts = []
    for feed in feeds:
        literal = "'" + feed.name + "'"  # a contract name: [a-z0-9_] only (checked by quote)
        quote(feed.name)
        selected = ", ".join((f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" if as_text else quote(c)) for c in columns)
        parts.append(
            f"SELECT {literal} || ':' || record_id AS unique_id, {literal} AS feed, record_id, {selected} "
            f"FROM {table_name(feed.name, catalog=catalog)}"
        )
    if not parts:
        raise ValueError("no person-level feed tables to link")
    return "\nUNION ALL\n".join(parts)


def event_column(feed: FeedContract) -> str | None:
    """The feed's own event date: its first date or date-time column that is not a date of birth."""
    for column in feed.columns:
        if column.type in (ColumnType.DATE, ColumnType.DATETIME) and column.name != "date_of_birth":
            return column.name
    return None


UPRN_KEY_SQL = (
    "CASE WHEN NULLIF(TRIM(CAST(r.uprn AS VARCHAR)), '') IS NOT NULL THEN 'UPRN ' || TRIM(CAST(r.uprn AS VARCHAR)) END"
)
TEXT_KEY_SQL = (
    "CASE WHEN NULLIF(TRIM(r.postcode), '') IS NOT NULL "
    "AND NULLIF(TRIM(REGEXP_REPLACE(UPPER(r.address), '[^A-Z0-9]+', ' ', 'g')), '') IS NOT NULL "
    f"THEN UPPER(TRIM(r.postcode)) || ' | ' || {address_sql('r.address')} END"
)
"""The postcode with the first line of address written one way (:func:`.standardise.address_sql`: upper case,
no punctuation, ``RD`` as ``ROAD``, a flat as ``FLAT <n>`` at the end), so ``18 Trinity Gr`` and ``18 TRINITY
GROVE`` are one home (#15); NULL when either is missing (no fixed abode). :mod:`.households` turns it into the UPRN
seen with it, if any."""


def events_sql(feeds: Iterable[FeedContract], *, catalog: str | None = None) -> str:
    """``unique_id, feed, record_id, event_date (DATE), uprn_key, text_key`` for every person-level record."""
    parts = []
    for feed in feeds:
        literal = "'" + feed.name + "'"
        quote(feed.name)
        own = event_column(feed)
        join = ""
        if own is not None:
            when = f"CAST(r.{quote(own)} AS DATE)"
        elif "incident_id" in feed.column_names:
            join = f" LEFT JOIN {table_name(INCIDENTS_FEED, catalog=catalog)} AS i ON i.incident_id = r.incident_id"
            when = "CAST(i.occurred_at AS DATE)"
        else:
            when = "CAST(NULL AS DATE)"
        parts.append(
            f"SELECT {literal} || ':' || r.record_id AS unique_id, {literal} AS feed, r.record_id, "
            f"{when} AS event_date, {UPRN_KEY_SQL} AS uprn_key, {TEXT_KEY_SQL} AS text_key "
            f"FROM {table_name(feed.name, catalog=catalog)} AS r{join}"
        )
    return "\nUNION ALL\n".join(parts)
