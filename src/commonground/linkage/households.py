"""Households: who lived with whom, and when, from linked people and their records' addresses.

Kept deliberately simple, and every step is one SQL statement (DuckDB, whichever engine linked the records):

1. **Sightings.** Each person-level record says: this person, at this address, on this date (the
   event the partner recorded: an ED arrival, a referral, a school admission...). Records without a
   date or a usable address (no fixed abode, missing postcode or first line) say nothing here.
2. **Address keys.** ``UPRN <uprn>`` where the record has one; otherwise the postcode and the first
   line of address (upper case, punctuation removed), replaced by the UPRN most often recorded with
   that same postcode and line elsewhere, if any (so a home seen with and without its UPRN is one
   address).
3. **A person's sighted periods.** Each person's sightings in date order are cut into runs at the
   same address: ``first_sighting`` and ``last_sighting`` there.
4. **Residence inferred back (#15).** Most children are seen rarely (a school roll, once) and their
   parents at crises, so a period that began at its first sighting would miss the years a child lived
   with adults seen there earlier. A period starts earlier than its first sighting when the household's
   other members were continuously there: it starts at the earliest first sighting of another person
   whose period at the address began before this one's, still ran on its first sighting (not seen
   elsewhere by then) and was last recorded there no more than :data:`RECENT_DAYS` before it (not a
   stale period of someone long gone), but never before the person's last sighting elsewhere (no
   sighting elsewhere in between) nor before their birth. ``start_inferred_from`` says so
   (``'household'``); NULL when the start is a sighting.
5. **Forward.** A period lasts until the person is first seen at another address (``end_date`` = the
   start of that next period, itself perhaps inferred); the last period is open (``end_date`` NULL,
   "while current"). ``last_sighting`` lets a reader tell a period seen recently from one seen long ago.
6. **Households.** At each address, periods that overlap (dates inclusive, an open end as
   "for ever") are chained together; each chain is one household: ``household_id`` is ``H`` and
   16 hex digits of a hash of the address key and the chain's first date.

Who is related to whom is never known here: a household is people recorded at one address at overlapping
times, and every rule that reads it says "inferred". Known simplifications: one stray record with an old
address cuts a period in two; a person last seen at an address long ago still "lives" there (open end) until
seen elsewhere.
"""

from __future__ import annotations

import duckdb

RECENT_DAYS = 730
"""How long before a person's first record at an address another member's last record there may be, for the
person's period to be inferred back from the member's: two years (a family seen at an incident fifteen months
before a child's first school-roll record counts; one last seen ten years before does not)."""

HOUSEHOLD_COLUMNS = (
    "household_id",
    "person_id",
    "start_date",
    "end_date",
    "address_key",
    "first_sighting",
    "last_sighting",
    "start_inferred_from",
)

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
    SELECT person_id, address_key, run, MIN(event_date) AS first_sighting, MAX(event_date) AS last_sighting
    FROM runs GROUP BY person_id, address_key, run
),
sighted AS (
    SELECT *, LEAD(first_sighting) OVER (PARTITION BY person_id ORDER BY run) AS sighted_end,
              LAG(last_sighting) OVER (PARTITION BY person_id ORDER BY run) AS seen_elsewhere
    FROM periods
),
members_before AS (
    SELECT s.person_id, s.run, MIN(o.first_sighting) AS members_from
    FROM sighted AS s
    JOIN sighted AS o ON o.address_key = s.address_key AND o.person_id <> s.person_id
     AND o.first_sighting < s.first_sighting
     AND (o.sighted_end IS NULL OR o.sighted_end >= s.first_sighting)
     AND o.last_sighting >= s.first_sighting - INTERVAL {recent_days} DAY
    GROUP BY s.person_id, s.run
),
inferred AS (
    SELECT s.person_id, s.address_key, s.run, s.first_sighting, s.last_sighting,
           CASE WHEN m.members_from IS NULL THEN s.first_sighting
                ELSE LEAST(s.first_sighting, GREATEST(m.members_from, s.seen_elsewhere, b.date_of_birth))
           END AS start_date
    FROM sighted AS s
    LEFT JOIN members_before AS m ON m.person_id = s.person_id AND m.run = s.run
    LEFT JOIN {births} AS b ON b.person_id = s.person_id
),
bounded AS (
    SELECT person_id, address_key, start_date, first_sighting, last_sighting,
           CASE WHEN start_date < first_sighting THEN 'household' END AS start_inferred_from,
           LEAD(start_date) OVER (PARTITION BY person_id ORDER BY run) AS end_date
    FROM inferred
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
       person_id, start_date, end_date, address_key, first_sighting, last_sighting, start_inferred_from
FROM numbered
ORDER BY household_id, start_date, person_id
"""


def create_households(con: duckdb.DuckDBPyConnection, *, target: str, events: str, people: str, births: str) -> None:
    """``CREATE TABLE target`` (:data:`HOUSEHOLD_COLUMNS`) from ``events``
    (:func:`commonground.linkage.sources.events_sql` rows), ``people`` (``unique_id, person_id``) and
    ``births`` (``person_id, date_of_birth``: a period is never inferred back before a birth). The names are
    the caller's own identifiers."""
    sql = HOUSEHOLDS_SQL.format(events=events, people=people, births=births, recent_days=RECENT_DAYS)
    con.execute(f"CREATE TABLE {target} AS {sql}").fetchall()
