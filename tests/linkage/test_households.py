"""Households on hand-made cases: who lived with whom, when (the rules in linkage/households.py), and residence
inferred back before a first sighting where the household's other members were there (#15)."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from commonground.linkage.households import HOUSEHOLD_COLUMNS, create_households

D = date.fromisoformat
Sighting = tuple[str, str, str | None, str | None]
Row = tuple[str, str, date, date | None, str, date, date, str | None]

# person, date, uprn key, text key (postcode | first line)
SIGHTINGS: list[Sighting] = [
    # mum and child at 1 Oak Rd from 2019; child once recorded without the UPRN (same home)
    ("mum", "2019-01-10", "UPRN 1", "QX1 1AA | 1 OAK RD"),
    ("mum", "2022-05-01", "UPRN 1", "QX1 1AA | 1 OAK RD"),
    ("kid", "2020-03-03", None, "QX1 1AA | 1 OAK RD"),
    ("kid", "2023-01-01", "UPRN 1", None),
    # dad at Oak Rd, then moved to 9 Elm St in 2021
    ("dad", "2018-06-01", "UPRN 1", "QX1 1AA | 1 OAK RD"),
    ("dad", "2021-02-02", "UPRN 9", "QX1 9ZZ | 9 ELM ST"),
    # a lodger at Elm St long before dad: a separate household at the same address
    ("lodger", "2010-01-01", "UPRN 9", None),
    ("lodger", "2012-01-01", None, "QX2 2BB | 3 ASH CL"),
    # nobody else at Ash Cl; a record with no address says nothing
    ("loner", "2020-01-01", None, None),
]
BIRTHS = {"mum": "1990-01-01", "kid": "2017-05-05", "dad": "1988-01-01", "lodger": "1970-01-01"}


def _households(sightings: list[Sighting], births: dict[str, str]) -> list[Row]:
    con = duckdb.connect()
    events = pa.table(
        {
            "unique_id": [f"f:{i}" for i in range(len(sightings))],
            "event_date": pa.array([D(s[1]) for s in sightings], pa.date32()),
            "uprn_key": [s[2] for s in sightings],
            "text_key": [s[3] for s in sightings],
        }
    )
    people = pa.table({"unique_id": [f"f:{i}" for i in range(len(sightings))], "person_id": [s[0] for s in sightings]})
    born = pa.table(
        {"person_id": list(births), "date_of_birth": pa.array([D(b) for b in births.values()], pa.date32())}
    )
    con.register("events", events)
    con.register("people", people)
    con.register("born", born)
    create_households(con, target="households", events="events", people="people", births="born")
    cursor = con.execute(
        f"SELECT {', '.join(HOUSEHOLD_COLUMNS)} FROM households ORDER BY address_key, start_date, person_id"
    )
    return [tuple(r) for r in cursor.fetchall()]


def _periods(rows: list[Row]) -> dict[tuple[str, str], tuple[date, date | None, str | None]]:
    return {(r[1], r[4]): (r[2], r[3], r[7]) for r in rows}


def test_periods_and_households() -> None:
    rows = _households(SIGHTINGS, BIRTHS)
    assert _periods(rows) == {
        ("dad", "UPRN 1"): (D("2018-06-01"), D("2021-02-02"), None),  # until first seen at the next address
        ("mum", "UPRN 1"): (D("2018-06-01"), None, "household"),  # dad was there before her: inferred back
        ("kid", "UPRN 1"): (D("2018-06-01"), None, "household"),  # the record without a UPRN took the home's UPRN
        ("lodger", "UPRN 9"): (D("2010-01-01"), D("2012-01-01"), None),
        ("dad", "UPRN 9"): (D("2021-02-02"), None, None),  # the lodger had left: nobody to infer from
        ("lodger", "QX2 2BB | 3 ASH CL"): (D("2012-01-01"), None, None),
    }
    household = {(r[1], r[4]): r[0] for r in rows}
    # mum, kid and dad overlapped at Oak Rd: one household
    assert household[("mum", "UPRN 1")] == household[("kid", "UPRN 1")] == household[("dad", "UPRN 1")]
    # the lodger left Elm St before dad came: two households at one address
    assert household[("lodger", "UPRN 9")] != household[("dad", "UPRN 9")]
    assert all(h.startswith("H") and len(h) == 17 for h in household.values())
    assert "loner" not in {r[1] for r in rows}
    sighted = {(r[1], r[4]): (r[5], r[6]) for r in rows}
    assert sighted[("kid", "UPRN 1")] == (D("2020-03-03"), D("2023-01-01"))  # what was seen stays in the table
    assert _households(SIGHTINGS, BIRTHS) == rows  # deterministic


# A child seen once, on a school roll in October, at the address where both parents were recorded at an
# incident fifteen months earlier and since.
FAMILY: list[Sighting] = [
    ("mum", "2024-07-12", "UPRN 5", None),
    ("dad", "2024-07-12", "UPRN 5", None),
    ("mum", "2025-06-01", "UPRN 5", None),
    ("kid", "2025-10-02", "UPRN 5", None),
]
FAMILY_BIRTHS = {"mum": "1990-01-01", "dad": "1989-01-01", "kid": "2014-02-02"}


def test_a_child_seen_once_lived_with_the_parents_seen_there_earlier() -> None:
    periods = _periods(_households(FAMILY, FAMILY_BIRTHS))
    assert periods[("kid", "UPRN 5")] == (D("2024-07-12"), None, "household")
    assert periods[("mum", "UPRN 5")] == (D("2024-07-12"), None, None)


def test_never_before_birth() -> None:
    periods = _periods(_households(FAMILY, {**FAMILY_BIRTHS, "kid": "2025-01-20"}))
    assert periods[("kid", "UPRN 5")] == (D("2025-01-20"), None, "household")


def test_a_child_seen_elsewhere_in_between_is_not_extended_past_that_sighting() -> None:
    elsewhere = [*FAMILY, ("kid", "2025-03-03", "UPRN 7", None)]
    periods = _periods(_households(elsewhere, FAMILY_BIRTHS))
    # at 7 from March (the parents were never there), at 5 from that last sighting elsewhere, not from July 2024
    assert periods[("kid", "UPRN 7")] == (D("2025-03-03"), D("2025-03-03"), None)
    assert periods[("kid", "UPRN 5")] == (D("2025-03-03"), None, "household")


def test_members_who_left_before_the_first_sighting_do_not_extend_it() -> None:
    left: list[Sighting] = [
        ("dad", "2020-01-01", "UPRN 5", None),
        ("dad", "2022-01-01", "UPRN 8", None),  # gone before the child was first seen
        ("kid", "2023-09-01", "UPRN 5", None),
    ]
    periods = _periods(_households(left, {"dad": "1980-01-01", "kid": "2012-01-01"}))
    assert periods[("kid", "UPRN 5")] == (D("2023-09-01"), None, None)
