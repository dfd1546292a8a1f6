"""Residence inferred, and said to be inferred (#15): the rules on households that linkage derives from records.

Each case writes partners' records (with addresses) as a build, derives the households exactly as a link build
does (:func:`commonground.linkage.households.create_households` over the records' events), runs the rules and
reads what fired and what the explanation says.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from commonground.linkage.households import create_households
from commonground.linkage.sources import events_sql, person_feeds
from commonground.rules import run_rules

from .conftest import Outcome, read_outcome
from .scenario import Scenario

AS_OF = datetime(2026, 10, 31, 23, 59)
ELSEWHERE = {"postcode": "ZZ9 9ZZ", "address": "9 Elm Street"}


def _linked_households(build_dir: Path) -> None:
    """Replace the scenario's hand-made households with the ones linkage infers from the records."""
    with duckdb.connect(str(build_dir / "build.duckdb")) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        con.execute(f"CREATE TEMP TABLE record_events AS {events_sql(person_feeds(tables))}")
        con.execute(
            "CREATE TEMP TABLE record_person AS SELECT feed || ':' || record_id AS unique_id, person_id "
            "FROM person_records"
        )
        con.execute("DROP TABLE households")
        create_households(con, target="households", events="record_events", people="record_person", births="persons")


def _run(s: Scenario, build_dir: Path) -> Outcome:
    s.write(build_dir)
    _linked_households(build_dir)
    return read_outcome(build_dir, run_rules(build_dir=build_dir, as_of=AS_OF))


def _home(number: int) -> dict[str, str]:
    return {"postcode": "AB1 2CD", "address": f"{number} High Street"}


def _family(s: Scenario, tag: str, *, home: dict[str, str], child_born: str) -> tuple[str, str, str]:
    """A mother, a father and a child whose records give the same home address."""
    mum = s.person(f"{tag}_mum", born="1985-02-01", **home)
    dad = s.person(f"{tag}_dad", born="1984-03-01", sex="M", **home)
    kid = s.person(f"{tag}_kid", born=child_born, **home)
    return mum, dad, kid


def _prison(s: Scenario, person: str, *, received: str, released: str) -> str:
    return s.record("custodial_sentences", person=person, received_at=received, released_at=released, remand=False)


@pytest.fixture(scope="module")
def once(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """A child seen once, on a school roll in October 2025, at the home where both parents were recorded at a
    domestic incident in July 2024; the father was in prison from January to June 2025."""
    s = Scenario()
    mum, dad, kid = _family(s, "once", home=_home(1), child_born="2014-04-04")
    s.police_incident(at="2024-07-12 21:00", **_home(1), persons={mum: "victim", dad: "suspect"})
    _prison(s, dad, received="2025-01-10", released="2025-06-01")
    s.enrol(kid, urn="100001", enrolled_on="2025-10-02")
    # the same, but the child was recorded at another address in August 2025, after the father's release
    mum2, dad2, kid2 = _family(s, "away", home=_home(2), child_born="2014-04-04")
    s.police_incident(at="2024-07-12 21:00", **_home(2), persons={mum2: "victim", dad2: "suspect"})
    _prison(s, dad2, received="2025-01-10", released="2025-06-01")
    s.record("school_roll", person=kid2, school_urn="100002", enrolled_on="2025-08-01", **ELSEWHERE)
    s.enrol(kid2, urn="100001", enrolled_on="2025-10-02")
    return _run(s, tmp_path_factory.mktemp("once"))


def test_a_child_seen_once_lived_with_the_parents_recorded_there_before(once: Outcome) -> None:
    assert {"ace.household_imprisonment", "ace.domestic_abuse"} <= once.fired("once_kid")
    assert {feed for feed, _ in once.evidence_of("once_kid", "ace.household_imprisonment")} == {"custodial_sentences"}
    assert {feed for feed, _ in once.evidence_of("once_kid", "ace.domestic_abuse")} == {"police_incidents"}


def test_the_explanation_says_the_residence_was_inferred(once: Outcome) -> None:
    text = once.explain("once_kid")
    note = (
        "Residence inferred: this person was first recorded at the address in October 2025; the people living "
        "there were recorded there from July 2024"
    )
    imprisonment = text.split("[indicator] ace.household_imprisonment")[1].split("\n\n")[0]
    assert note in imprisonment
    assert "inferred from addresses" in imprisonment
    for word in ("Alex", "Example", "High Street", "Elm Street", "AB1", "ZZ9"):
        assert word not in text


def test_a_child_seen_elsewhere_in_between_is_not_extended(once: Outcome) -> None:
    assert "ace.household_imprisonment" not in once.fired("away_kid")


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    s = Scenario()

    def family_at_home(tag: str, number: int) -> tuple[str, str, str]:
        mum, dad, kid = _family(s, tag, home=_home(number), child_born="2012-05-05")
        s.police_incident(
            at="2018-03-01 20:00", **_home(number), persons={mum: "victim", dad: "suspect", kid: "child_present"}
        )
        s.treatment(dad, start="2019-04-01")  # the father recorded at home again: he lived there
        return mum, dad, kid

    def away(person: str, *days: str) -> None:
        for day in days:
            s.record("custody_records", person=person, arrested_at=day, offence_group="other", **ELSEWHERE)

    # both adults seen apart: the father at another address from May 2020 on, the mother and child at home after
    mum, dad, kid = family_at_home("apart", 3)
    away(dad, "2020-05-01 23:00", "2020-11-01 23:00")
    s.treatment(mum, start="2021-06-01")
    s.enrol(kid, urn="100001", enrolled_on="2021-09-01")
    # only the father seen again, at another address: the mother and child unseen since
    _, dad2, _ = family_at_home("unseen", 4)
    away(dad2, "2020-05-01 23:00", "2020-11-01 23:00")
    # one record of the father with another address, never again: not a move seen over time
    mum3, dad3, kid3 = family_at_home("stray", 5)
    away(dad3, "2020-05-01 23:00")
    s.treatment(mum3, start="2021-06-01")
    s.enrol(kid3, urn="100001", enrolled_on="2021-09-01")
    return _run(s, tmp_path_factory.mktemp("split"))


def test_separation_fires_when_both_adults_are_seen_apart(split: Outcome) -> None:
    assert "ace.parental_separation" in split.fired("apart_kid")
    assert split.row("apart_kid", "ace.parental_separation")["first_evidence"] == datetime(2020, 5, 1)
    text = split.explain("apart_kid")
    assert "inferred from addresses" in text.split("[indicator] ace.parental_separation")[1]


def test_one_adult_at_a_new_address_is_not_separation(split: Outcome) -> None:
    assert "ace.parental_separation" not in split.fired("unseen_kid")


def test_one_record_at_another_address_is_not_separation(split: Outcome) -> None:
    assert "ace.parental_separation" not in split.fired("stray_kid")
