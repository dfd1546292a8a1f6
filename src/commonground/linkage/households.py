"""Households: who lived with whom, and when, from linked people and their records' addresses.

Kept deliberately simple, and every step is one SQL statement (DuckDB):

1. **Sightings.** Each person-level record says: this person, at this address, on this date (the
   event the partner recorded: an ED arrival, a referral, an incident...). Records without a date
   or a usable address (no fixed abode, missing postcode or first line) say nothing here.
2. **Address keys.** ``UPRN <uprn>`` where the record has one; otherwise the postcode and the first
   line of address (upper case, punctuation removed), replaced by the UPRN most often recorded with
   that same postcode and line elsewhere, if any (so a home seen with and without its UPRN is one
   address).
3. **A person's periods.** Each person's sightings in date order are cut into runs at the same
   address. A period starts at the run's first sighting and lasts until the person is first seen
   at the next address (``end_date`` = that date); the last period is open (``end_date`` NULL,
   "while current").
4. **Households.** At each address, periods that overlap (dates inclusive, an open end as
   "for ever") are chained together; each chain is one household: ``household_id`` is ``H`` and
   16 hex digits of a hash of the address key and the chain's first date.

Known simplifications: one stray record with an old address cuts a period in two; a person last
seen at an address long ago still "lives" there (open end) until seen elsewhere.
"""

from __future__ import annotations

import duckdb

HOUSEHOLDS_SQL = """
WITH keyed AS (
    SELECT p.person_id, e.event_date, e.uprn_key, e.text_key
    FROM {events} AS e JOIN {people} AS p ON p.unique_id = e.unique_id
    WHERE e.event_date IS NOT NULL AND (e.uprn_key IS NOT NULL OR e.text_key IS NOT NULL)
),
text_uprn AS (
    SELECT text_key, uprn_key FROM (
        SELECT text_key, uprn_key,
               ROW_NUMBER() OVER (PARTITION BY text_key ORDER BY COUNT(*) DESC, uprn_key) AS rank
        FROM keyed WHERE text_key IS NOT NULL AND uprn_key IS NOT NULL
        GROUP BY text_key, uprn_key
    ) WHERE rank = 1
),
sightings AS (
    SELECT k.person_id, k.event_date, COALESCE(k.uprn_key, t.uprn_key, k.text_key) AS address_key
    FROM keyed AS k LEFT JOIN text_uprn AS t ON k.uprn_key IS NULL AND t.text_key = k.text_key
),
ordered AS (
    SELECT *, LAG(address_key) OVER (PARTITION BY person_id ORDER BY event_date, address_key) AS previous_key
    FROM sightings
),
runs AS (
    SELECT *, SUM(CASE WHEN previous_key IS NULL OR previous_key <> address_key THEN 1 ELSE 0 END)
              OVER (PARTITION BY person_id ORDER BY event_date, address_key ROWS UNBOUNDED PRECEDING) AS run
    FROM ordered
),
periods AS (
    SELECT person_id, address_key, run, MIN(event_date) AS start_date FROM runs GROUP BY person_id, address_key, run
),
bounded AS (
    SELECT person_id, address_key, start_date,
           LEAD(start_date) OVER (PARTITION BY person_id ORDER BY run) AS end_date
    FROM periods
),
chained AS (
    SELECT *, MAX(COALESCE(end_date, DATE '9999-12-31')) OVER (
               PARTITION BY address_key ORDER BY start_date, person_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM bounded
),
numbered AS (
    SELECT *, SUM(CASE WHEN reach IS NULL OR start_date > reach THEN 1 ELSE 0 END) OVER (
               PARTITION BY address_key ORDER BY start_date, person_id ROWS UNBOUNDED PRECEDING) AS chain
    FROM chained
)
SELECT 'H' || SUBSTR(SHA256(address_key || '|' || CAST(MIN(start_date) OVER (PARTITION BY address_key, chain)
                                                        AS VARCHAR)), 1, 16) AS household_id,
       person_id, start_date, end_date, address_key
FROM numbered
ORDER BY household_id, start_date, person_id
"""


def create_households(con: duckdb.DuckDBPyConnection, *, target: str, events: str, people: str) -> None:
    """``CREATE TABLE target`` (``household_id, person_id, start_date, end_date, address_key``) from
    ``events`` (:func:`commonground.linkage.sources.events_sql` rows) and ``people``
    (``unique_id, person_id``). The three names are the caller's own identifiers."""
    con.execute(f"CREATE TABLE {target} AS {HOUSEHOLDS_SQL.format(events=events, people=people)}").fetchall()
