"""Households on a hand-made case: who lived with whom, when (the rules in linkage/households.py)."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from commonground.linkage.households import create_households

D = date.fromisoformat
# person, date, uprn key, text key (postcode | first line)
SIGHTINGS = [
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


def _households() -> list[tuple[str, str, date, date | None, str]]:
    con = duckdb.connect()
    events = pa.table(
        {
            "unique_id": [f"f:{i}" for i in range(len(SIGHTINGS))],
            "event_date": pa.array([D(s[1]) for s in SIGHTINGS], pa.date32()),
            "uprn_key": [s[2] for s in SIGHTINGS],
            "text_key": [s[3] for s in SIGHTINGS],
        }
    )
    people = pa.table({"unique_id": [f"f:{i}" for i in range(len(SIGHTINGS))], "person_id": [s[0] for s in SIGHTINGS]})
    con.register("events", events)
    con.register("people", people)
    create_households(con, target="households", events="events", people="people")
    return [
        tuple(r)
        for r in con.execute(
            "SELECT household_id, person_id, start_date, end_date, address_key FROM households "
            "ORDER BY address_key, start_date, person_id"
        ).fetchall()
    ]


def test_periods_and_households() -> None:
    rows = _households()
    periods = {(r[1], r[4]): (r[2], r[3]) for r in rows}
    assert periods == {
        ("dad", "UPRN 1"): (D("2018-06-01"), D("2021-02-02")),  # until first seen at the next address
        ("mum", "UPRN 1"): (D("2019-01-10"), None),  # still there: open
        ("kid", "UPRN 1"): (D("2020-03-03"), None),  # the record without a UPRN took the home's UPRN
        ("lodger", "UPRN 9"): (D("2010-01-01"), D("2012-01-01")),
        ("dad", "UPRN 9"): (D("2021-02-02"), None),
        ("lodger", "QX2 2BB | 3 ASH CL"): (D("2012-01-01"), None),
    }
    household = {(r[1], r[4]): r[0] for r in rows}
    # mum, kid and dad overlapped at Oak Rd: one household
    assert household[("mum", "UPRN 1")] == household[("kid", "UPRN 1")] == household[("dad", "UPRN 1")]
    # the lodger left Elm St before dad came: two households at one address
    assert household[("lodger", "UPRN 9")] != household[("dad", "UPRN 9")]
    assert all(h.startswith("H") and len(h) == 17 for h in household.values())
    assert "loner" not in {r[1] for r in rows}
    assert _households() == rows  # deterministic
