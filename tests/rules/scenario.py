"""Hand-made builds for tests: a few people, their households and records, as a ``build.duckdb``.

A :class:`Scenario` writes the tables of docs/builds.md with the types the feed contracts imply
(dates as DATE, date-times as TIMESTAMP, code lists as VARCHAR[]), so rules, the hub and stats
can test against a build without running linkage. Factories take keyword arguments with
defaults; dates are ``date``/``datetime`` or ISO text ("2024-03-01", "2024-03-01 21:30").

    s = Scenario()
    mum = s.person(born="1990-01-01")
    kid = s.person(born="2015-06-01")
    s.household("H1", uprn="100001", members=[(mum, "2014-01-01", None), (kid, "2015-06-01", None)])
    s.police_incident(at="2024-03-01 21:30", uprn="100001", persons={mum: "victim"})
    build_dir = s.write(tmp_path / "build")
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from commonground.contracts import FEEDS, ColumnType

When = date | datetime | str

_DUCKDB_TYPES = {
    ColumnType.DATE: "DATE",
    ColumnType.DATETIME: "TIMESTAMP",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.CODE_LIST: "VARCHAR[]",
}


def as_date(value: When | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def as_datetime(value: When | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(value)


@dataclass
class Person:
    person_id: str
    date_of_birth: date | None
    """None: no record of the person gives one (age unknown)."""
    sex: str
    given_name: str
    family_name: str
    postcode: str | None
    address: str | None


class Scenario:
    """A tiny build, written by :meth:`write`."""

    def __init__(self, *, postcode: str = "AB1 2CD", address: str = "1 High Street") -> None:
        self.persons: dict[str, Person] = {}
        self.households: list[dict[str, Any]] = []
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.person_records: list[dict[str, Any]] = []
        self.postcode_areas: list[dict[str, Any]] = []
        self.named: dict[tuple[str, str], str] = {}
        """(incident_id, person_id) -> the police_incident_persons record naming them."""
        self._ids = itertools.count(1)
        self._postcode = postcode
        self._address = address

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # -- people and households ----------------------------------------------------------------

    def person(
        self,
        person_id: str | None = None,
        *,
        born: When | None,
        sex: str = "F",
        given_name: str = "Alex",
        family_name: str = "Example",
        postcode: str | None = None,
        address: str | None = None,
    ) -> str:
        pid = person_id or self._next("P")
        self.persons[pid] = Person(
            person_id=pid,
            date_of_birth=as_date(born),
            sex=sex,
            given_name=given_name,
            family_name=family_name,
            postcode=postcode or self._postcode,
            address=address or self._address,
        )
        return pid

    def lives(
        self, person_id: str, *, household: str, start: When, end: When | None = None, address_key: str | None = None
    ) -> None:
        self.households.append(
            {
                "household_id": household,
                "person_id": person_id,
                "start_date": as_date(start),
                "end_date": as_date(end),
                "address_key": address_key or f"UPRN U-{household}",
            }
        )

    def household(
        self,
        household_id: str,
        *,
        uprn: str | None = None,
        address_key: str | None = None,
        members: Iterable[tuple[str, When, When | None]],
    ) -> str:
        """A household at one address; members as (person_id, start, end or None). Its address key is
        linkage's: ``UPRN <uprn>``, or ``address_key`` as given (``"ZZ9 9ZZ | 7 ACACIA AVENUE"``)."""
        key = address_key or (f"UPRN {uprn}" if uprn else f"UPRN U-{household_id}")
        for person_id, start, end in members:
            self.lives(person_id, household=household_id, start=start, end=end, address_key=key)
        return key

    def postcode_area(self, *, postcode: str, decile: int, area_code: str = "E01000001") -> None:
        self.postcode_areas.append({"postcode": postcode, "area_code": area_code, "deprivation_decile": str(decile)})

    # -- records ------------------------------------------------------------------------------

    def record(self, feed: str, *, person: str | None = None, record_id: str | None = None, **values: Any) -> str:
        """One row of any feed; a person-level row is tied to ``person`` in person_records."""
        contract = FEEDS[feed]
        rid = record_id or self._next(f"{feed[:3].upper()}-")
        row: dict[str, Any] = {"record_id": rid, **values}
        if contract.person_level:
            if person is None:
                raise ValueError(f"{feed} is a person-level feed: pass person=")
            who = self.persons[person]
            row.setdefault("given_name", who.given_name)
            row.setdefault("family_name", who.family_name)
            row.setdefault("date_of_birth", who.date_of_birth)
            row.setdefault("sex", who.sex)
            row.setdefault("postcode", who.postcode)
            row.setdefault("address", who.address)
            self.person_records.append({"feed": feed, "record_id": rid, "person_id": person, "match_probability": 1.0})
        unknown = set(row) - set(contract.column_names)
        if unknown:
            raise ValueError(f"{feed} has no columns {sorted(unknown)}")
        self.rows[feed].append(row)
        return rid

    def police_incident(
        self,
        *,
        at: When,
        uprn: str | None = None,
        postcode: str | None = None,
        address: str | None = None,
        category: str = "domestic",
        qualifiers: Iterable[str] = ("domestic_abuse",),
        persons: Mapping[str, str] | None = None,
        incident_id: str | None = None,
    ) -> str:
        """An incident and the people named on it ({person_id: role}); returns the incident id."""
        iid = incident_id or self._next("INC-")
        self.record(
            "police_incidents",
            record_id=f"PI-{iid}",
            incident_id=iid,
            occurred_at=as_datetime(at),
            uprn=uprn,
            postcode=postcode,
            address=address,
            category=category,
            qualifiers=list(qualifiers),
            summary="Synthetic incident.",
        )
        for person_id, role in (persons or {}).items():
            self.person_on_incident(iid, person=person_id, role=role)
        return iid

    def person_on_incident(self, incident_id: str, *, person: str, role: str) -> str:
        rid = self.record("police_incident_persons", person=person, incident_id=incident_id, role=role)
        self.named[(incident_id, person)] = rid
        return rid

    def custody(
        self, person: str, *, at: When, offence_group: str = "other", vulnerabilities: Iterable[str] = ()
    ) -> str:
        return self.record(
            "custody_records",
            person=person,
            arrested_at=as_datetime(at),
            offence_group=offence_group,
            vulnerabilities=list(vulnerabilities),
        )

    def missing(self, person: str, *, at: When, risk_level: str = "medium") -> str:
        return self.record("missing_episodes", person=person, reported_at=as_datetime(at), risk_level=risk_level)

    def triage(
        self, person: str, *, at: When, outcome: str = "no_further_action", setting: str = "control_room"
    ) -> str:
        return self.record(
            "street_triage", person=person, contacted_at=as_datetime(at), setting=setting, outcome=outcome
        )

    def ed(
        self,
        person: str,
        *,
        at: When,
        injury_intent: str = "none",
        alcohol: bool = False,
        drugs: bool = False,
        location_type: str | None = None,
    ) -> str:
        return self.record(
            "ed_attendances",
            person=person,
            arrived_at=as_datetime(at),
            injury_intent=injury_intent,
            alcohol_involved=alcohol,
            drugs_involved=drugs,
            assault_at=as_datetime(at) if injury_intent == "assault" else None,
            assault_location_type=location_type,
        )

    def mh_contact(self, person: str, *, on: When, service: str = "community", section: str | None = None) -> str:
        return self.record(
            "mental_health_contacts", person=person, contact_date=as_date(on), service=service, mha_section=section
        )

    def treatment(self, person: str, *, start: When, end: When | None = None, substance: str = "alcohol") -> str:
        return self.record(
            "substance_treatment", person=person, start_date=as_date(start), end_date=as_date(end), substance=substance
        )

    def social_care(
        self, person: str, *, on: When, factors: Iterable[str] = (), plan: str | None = None, closed: When | None = None
    ) -> str:
        return self.record(
            "childrens_social_care",
            person=person,
            referral_date=as_date(on),
            closure_date=as_date(closed),
            assessment_factors=list(factors),
            cp_plan_category=plan,
        )

    def prison(self, person: str, *, received: When, released: When | None = None, remand: bool = False) -> str:
        return self.record(
            "custodial_sentences",
            person=person,
            received_at=as_date(received),
            released_at=as_date(released),
            remand=remand,
        )

    def school(self, *, urn: str, name: str = "Example Primary") -> str:
        return self.record(
            "schools", school_urn=urn, name=name, dsl_name="Sam Lead", dsl_email=f"dsl{urn}@school.example"
        )

    def enrol(self, person: str, *, urn: str, enrolled_on: When | None = None, left_on: When | None = None) -> str:
        return self.record(
            "school_roll", person=person, school_urn=urn, enrolled_on=as_date(enrolled_on), left_on=as_date(left_on)
        )

    # -- writing ------------------------------------------------------------------------------

    def write(self, build_dir: Path, *, omit_feeds: Iterable[str] = ()) -> Path:
        """Write ``build_dir/build.duckdb`` and ``build.json``; every feed table exists (empty when
        no rows) except those in ``omit_feeds`` (a partner that sent nothing)."""
        build_dir.mkdir(parents=True, exist_ok=True)
        omitted = set(omit_feeds)
        with duckdb.connect(str(build_dir / "build.duckdb")) as con:
            for name, contract in FEEDS.items():
                if name in omitted:
                    continue
                columns = [(c.name, _DUCKDB_TYPES.get(c.type, "VARCHAR")) for c in contract.columns]
                columns += [("_batch_id", "VARCHAR"), ("_row_number", "BIGINT")]
                if contract.person_level:
                    columns += [("given_name_key", "VARCHAR"), ("family_name_key", "VARCHAR")]
                rows = []
                for number, row in enumerate(self.rows.get(name, []), start=1):
                    full = {**row, "_batch_id": "batch-1", "_row_number": number}
                    if contract.person_level:
                        full["given_name_key"] = str(row["given_name"]).upper()
                        full["family_name_key"] = str(row["family_name"]).upper()
                    rows.append([full.get(c) for c, _ in columns])
                _table(con, f"feed_{name}", columns, rows)
            _table(
                con,
                "person_records",
                [
                    ("feed", "VARCHAR"),
                    ("record_id", "VARCHAR"),
                    ("person_id", "VARCHAR"),
                    ("match_probability", "DOUBLE"),
                ],
                [[r["feed"], r["record_id"], r["person_id"], r["match_probability"]] for r in self.person_records],
            )
            _table(con, "persons", _PERSON_COLUMNS, [self._person_row(p) for p in self.persons.values()])
            _table(
                con,
                "households",
                [
                    ("household_id", "VARCHAR"),
                    ("person_id", "VARCHAR"),
                    ("start_date", "DATE"),
                    ("end_date", "DATE"),
                    ("address_key", "VARCHAR"),
                ],
                [
                    [h["household_id"], h["person_id"], h["start_date"], h["end_date"], h["address_key"]]
                    for h in self.households
                ],
            )
            _table(
                con,
                "postcode_areas",
                [("postcode", "VARCHAR"), ("area_code", "VARCHAR"), ("deprivation_decile", "VARCHAR")],
                [[a["postcode"], a["area_code"], a["deprivation_decile"]] for a in self.postcode_areas],
            )
        info = {
            "build_id": "20250101T000000Z-0000test",
            "created_at": "2025-01-01T00:00:00Z",
            "engine": "duckdb",
            "row_counts": {f"feed_{k}": len(v) for k, v in self.rows.items()},
        }
        (build_dir / "build.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        return build_dir

    def _person_row(self, person: Person) -> list[Any]:
        feeds = sorted({r["feed"] for r in self.person_records if r["person_id"] == person.person_id})
        count = sum(1 for r in self.person_records if r["person_id"] == person.person_id)
        return [
            person.person_id,
            person.given_name,
            person.family_name,
            person.date_of_birth,
            person.sex,
            None,
            count,
            feeds,
            None,
            None,
        ]


_PERSON_COLUMNS = [
    ("person_id", "VARCHAR"),
    ("given_name", "VARCHAR"),
    ("family_name", "VARCHAR"),
    ("date_of_birth", "DATE"),
    ("sex", "VARCHAR"),
    ("nhs_number", "VARCHAR"),
    ("record_count", "BIGINT"),
    ("feeds", "VARCHAR[]"),
    ("first_seen", "DATE"),
    ("last_seen", "DATE"),
]


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> None:
    con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})")
    if rows:
        placeholders = ", ".join("?" for _ in columns)
        con.executemany(f"INSERT INTO {name} VALUES ({placeholders})", rows)
