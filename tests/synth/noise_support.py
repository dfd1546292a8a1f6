"""Measuring a harsh area's identity errors from its files: which records can carry each kind, and which do.

Eligibility is worked out from the truth (people, households) and the rows themselves, not from the
generator's own code, and every listed kind that can be checked against the truth is checked
(``check_listed``), so a rate here is what a reader of the files would count.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from commonground.contracts import FEEDS
from commonground.synth.namedata import NICKNAMES
from commonground.synth.names import ascii_fold

PERSON_FEEDS = [f for f, c in FEEDS.items() if c.person_level]
ROAD_WORDS = ("road", "street", "avenue", "crescent", "close", "drive", "gardens", "lane", "grove", "place")
ROAD_WORDS += ("terrace", "court", "rd", "st", "ave", "cres", "cl", "dr", "gdns", "ln", "gr", "pl", "terr", "ct")
NFA = {"no fixed abode", "nfa"}
DATE_COLUMN = {
    "custody_records": "arrested_at",
    "missing_episodes": "reported_at",
    "street_triage": "contacted_at",
    "ed_attendances": "arrived_at",
    "mental_health_contacts": "contact_date",
    "substance_treatment": "start_date",
    "childrens_social_care": "referral_date",
    "custodial_sentences": "received_at",
}
"""The column whose date the record's identity is as of (police incident persons: the incident's)."""
WINDOW_END = date(2026, 10, 31)
MOVE_WINDOW_DAYS = 730


def can_abbreviate(address: str) -> bool:
    """The address has a road type or a flat prefix, in any of the forms the harsh profile writes."""
    text = address.lower().replace(",", "").replace(".", "")
    first = text.split(" ", 1)[0]
    flat = text.startswith(("flat ", "apartment ")) or "/" in first or (first[:1] == "f" and first[1:].isdigit())
    return flat or text.endswith(tuple(" " + w for w in ROAD_WORDS))


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class FeedCount:
    rows: int = 0
    eligible: Counter[str] = field(default_factory=Counter)
    listed: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    """Listed kinds the row's values do not bear out."""

    def rate(self, kind: str) -> float:
        return self.listed[kind] / self.eligible[kind] if self.eligible[kind] else float("nan")


def _fold(name: str) -> str:
    return ascii_fold(name).lower()


def _nicknames(given: str) -> set[str]:
    return {_fold(v) for v in NICKNAMES.get(given, ())}


def _dob_kind(recorded: str, true: str) -> str | None:
    """How a recorded date of birth differs from the true one (one kind), or None when it does not differ by one."""
    if recorded == true:
        return "same"
    if not recorded:
        return "dob_missing"
    r, t = date.fromisoformat(recorded), date.fromisoformat(true)
    if abs((r - t).days) == 1:
        return "dob_day"
    if (r.month, r.day) == (t.month, t.day) and abs(r.year - t.year) == 1:
        return "dob_year"
    if r.year == t.year and (r.month, r.day) == (t.day, t.month):
        return "dob_swap"
    return None


def _valid_day(text: str) -> str:
    """The day, or blank when it is not a date (a deliberately broken cell of another feed, an incident's)."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


class Measure:
    """Counts for every person-level feed of one area."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.people = {r["person_id"]: r for r in read(out / "truth" / "people.csv")}
        self.person_of = {(r["feed"], r["record_id"]): r["person_id"] for r in read(out / "truth" / "records.csv")}
        self.defects = {(r["feed"], r["record_id"]) for r in read(out / "truth" / "defects.csv")}
        self.kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in read(out / "truth" / "identity_errors.csv"):
            self.kinds[(r["feed"], r["record_id"])].add(r["kind"])
        self.homes: dict[str, set[str]] = defaultdict(set)
        self.stays: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for r in read(out / "truth" / "households.csv"):
            self.homes[r["person_id"]].add(r["address"])
            self.stays[r["person_id"]].append((r["start"], r["end"] or "9999-12-31", r["address"]))
        for stays in self.stays.values():
            stays.sort()
        self.incident_day = {r["incident_id"]: r["occurred_at"][:10] for r in read(out / "police_incidents.csv")}
        self.counts = {feed: self._count(feed) for feed in PERSON_FEEDS}

    def _count(self, feed: str) -> FeedCount:
        c = FeedCount()
        for row in read(self.out / f"{feed}.csv"):
            key = (feed, row["record_id"])
            if key in self.defects:
                continue
            c.rows += 1
            kinds = self.kinds.get(key, set())
            self._row(c, row, self.people[self.person_of[key]], kinds, _valid_day(self._day(feed, row, kinds)))
        return c

    def _day(self, feed: str, row: dict[str, str], kinds: set[str]) -> str:
        """The day the record's identity is as of."""
        if feed == "police_incident_persons":
            return self.incident_day.get(row["incident_id"], "")
        if feed == "school_roll":
            if "single_extract" in kinds:
                return row["enrolled_on"]
            left = date.fromisoformat(row["left_on"]) if row["left_on"] else date(2026, 11, 1)
            return date.fromordinal(min(left.toordinal(), date(2026, 11, 1).toordinal()) - 1).isoformat()
        return row[DATE_COLUMN[feed]][:10]

    def _recently_moved(self, person: str, day: str) -> bool:
        """Whether ``day`` is within two years after the person moved in to where they then lived."""
        stays = self.stays[person]
        now = [i for i, (s, e, _) in enumerate(stays) if s <= day < e]
        if not day or not now:
            return False
        i = now[0]
        while i > 0 and stays[i - 1][2] == stays[i][2]:
            i -= 1
        if i == 0:
            return False
        return (date.fromisoformat(day) - date.fromisoformat(stays[i][0])).days < MOVE_WINDOW_DAYS

    def _row(self, c: FeedCount, row: dict[str, str], true: dict[str, str], kinds: set[str], day: str) -> None:
        for kind in kinds:
            c.listed[kind] += 1
        self._names(c, row, true, kinds)
        self._dob(c, row, true, kinds)
        self._address(c, row, true, kinds, day)
        nhs_could = row["nhs_number"] != "" or "nhs_missing" in kinds
        c.eligible["nhs_missing"] += nhs_could
        if "nhs_missing" in kinds and row["nhs_number"]:
            c.wrong["nhs_missing"] += 1
        c.eligible["single_extract"] += 1
        if "single_extract" in kinds and (row.get("left_on") or not row.get("enrolled_on")):
            c.wrong["single_extract"] += 1

    def _names(self, c: FeedCount, row: dict[str, str], true: dict[str, str], kinds: set[str]) -> None:
        given, family = row["given_name"], row["family_name"]
        t_given = true["given_name"]
        t_families = {_fold(true["family_name"]), _fold(true["later_family_name"])} - {""}
        for kind in ("typo", "name_swap", "alias"):
            c.eligible[kind] += 1
        c.eligible["nickname"] += t_given in NICKNAMES
        simple = not kinds & {"typo", "alias"}
        swapped = "name_swap" in kinds
        held_given, held_family = (family, given) if swapped else (given, family)
        if "nickname" in kinds and simple and _fold(held_given) not in _nicknames(t_given):
            c.wrong["nickname"] += 1
        if swapped and simple and _fold(held_family) not in t_families:
            c.wrong["name_swap"] += 1
        if "alias" in kinds and _fold(held_family) in t_families and _fold(held_given) == _fold(t_given):
            c.wrong["alias"] += 1

    def _dob(self, c: FeedCount, row: dict[str, str], true: dict[str, str], kinds: set[str]) -> None:
        t = date.fromisoformat(true["date_of_birth"])
        c.eligible["dob_missing"] += 1
        dob_kinds = kinds & {"dob_missing", "dob_day", "dob_year", "dob_swap"}
        if "dob_missing" not in kinds:
            c.eligible["dob_day"] += 1
            c.eligible["dob_year"] += 1
            c.eligible["dob_swap"] += t.day <= 12 and t.day != t.month
        found = _dob_kind(row["date_of_birth"], true["date_of_birth"])
        if len(dob_kinds) == 1:
            (kind,) = dob_kinds
            if found != kind:
                c.wrong[kind] += 1
        elif not dob_kinds and found != "same":
            c.wrong["unlisted_dob"] += 1

    def _address(self, c: FeedCount, row: dict[str, str], true: dict[str, str], kinds: set[str], day: str) -> None:
        address = row["address"]
        nfa = "no_fixed_abode" in kinds or address.lower() in NFA
        if nfa:
            return
        c.eligible["address_missing"] += 1
        if "address_missing" in kinds:
            if address or row["postcode"]:
                c.wrong["address_missing"] += 1
            return
        homes = self.homes[true["person_id"]]
        c.eligible["address_format"] += 1
        c.eligible["abbreviation"] += can_abbreviate(address)
        if "abbreviation" in kinds and not can_abbreviate(address):
            c.wrong["abbreviation"] += 1
        c.eligible["move"] += self._recently_moved(true["person_id"], day)
        born = date.fromisoformat(true["date_of_birth"])
        adult = bool(day) and born.replace(year=born.year + 18, day=min(born.day, 28)) <= date.fromisoformat(day)
        c.eligible["temporary_address"] += adult
        if "temporary_address" in kinds and born > date(2008, 11, 1):
            c.wrong["temporary_address"] += 1
        untouched = not kinds & {"abbreviation", "address_format", "temporary_address"}
        if "move" in kinds and untouched and address not in homes:
            c.wrong["move"] += 1
        if not kinds & {"abbreviation", "address_format"} and "temporary_address" not in kinds and address not in homes:
            c.wrong["unlisted_address"] += 1
