"""A small generator of valid and deliberately broken feed rows, built from the contracts.

For ingest's own tests and benchmark only: it knows nothing of people or households (that is
``commonground.synth``), just what each column type accepts. Every broken cell it writes is
recorded, so a test can say exactly which rows must be quarantined and which cells warned.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from commonground.contracts import FEEDS, Column, ColumnType, FeedContract
from commonground.ingest.validate import ORDERED_PAIRS

T = ColumnType

GIVEN = ("Oliver", "Amelia", "Siân", "Zoë", "Mohammed", "Aisha", "Jack", "Lily", "Noah", "Olivia", "Wiktoria")
FAMILY = ("Smith", "Jones", "O'Neill", "Smith-Jones", "Khan", "Nowak", "Brown", "Taylor", "Williams", "Ó Briain")
STREETS = ("Acacia Avenue", "High Street", "Station Road", "Church Lane", "Mill Road")

BAD: dict[ColumnType, tuple[str, str]] = {
    T.ID: ("has a space", "not an identifier"),
    T.TEXT: ("x" * 2_001, "longer than 2000 characters"),  # a formula is text since #18 (kept, with a warning)
    T.NAME: ("J0hn", "not a name"),
    T.DATE: ("2023-02-30", "not a real calendar date"),
    T.DATETIME: ("2023-01-01T25:00", "not a real time of day"),
    T.SEX: ("Q", "not one of F, M, X, U"),
    T.POSTCODE: ("NOT A PC", "not a UK postcode"),
    T.NHS_NUMBER: ("9434765918", "fails the NHS number check digit"),
    T.UPRN: ("12a", "not a UPRN"),
    T.URN: ("12345", "not a school URN"),
    T.EMAIL: ("no-at-sign", "not an email address"),
    T.BOOL: ("maybe", "not true or false"),
    T.CODE: ("zzz", "not one of the allowed values"),
    T.CODE_LIST: ("zzz", "holds 1 value not in the allowed list"),
    T.INTEGER: ("-1", "not a whole number"),
}
"""One bad cell per column type, with the start of the reason parse_cell gives for it."""

ROWS_PER_PERSON: dict[str, float] = {
    "ed_attendances": 2.0,
    "police_incident_persons": 0.7,
    "police_incidents": 0.35,
    "school_roll": 0.2,
    "mental_health_contacts": 0.3,
    "custody_records": 0.15,
    "childrens_social_care": 0.1,
    "substance_treatment": 0.06,
    "street_triage": 0.06,
    "missing_episodes": 0.05,
    "custodial_sentences": 0.03,
    "postcode_areas": 0.02,
    "schools": 0.0005,
}
"""Rough shape of an area: about 4 rows per person, ED attendances the largest feed."""


def nhs_number(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def postcode(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    area = rng.choice(("LS", "M", "B", "CF", "EH", "SW"))
    return f"{area}{rng.randrange(1, 30)} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"


def unique_postcode(index: int) -> str:
    """A distinct, valid postcode for each index below 2.6 million."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    index, inward = divmod(index, 10 * 400)
    index, district = divmod(index, 9)
    area = letters[index % 20] + letters[(index // 20) % 20]
    return f"{area}{district + 1} {inward // 400}{letters[(inward // 20) % 20]}{letters[inward % 20]}"


def _day(rng: random.Random, first: int = 1940, last: int = 2023) -> date:
    return date(first, 1, 1) + timedelta(days=rng.randrange((date(last, 12, 31) - date(first, 1, 1)).days))


def good_value(column: Column, rng: random.Random, index: int, *, unique: bool = False) -> str:
    """A valid raw cell for the column (never blank); distinct for each index when ``unique``."""
    kind = column.type
    if unique and kind is T.POSTCODE:
        return unique_postcode(index)
    if kind is T.ID:
        return f"{column.name[:3].upper()}{index:08d}"
    if kind is T.TEXT:
        return rng.choice(
            (
                f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
                f"Flat {rng.randrange(1, 9)}, {rng.randrange(1, 99)} {rng.choice(STREETS)}",
            )
        )
    if kind is T.NAME:
        return rng.choice(GIVEN if column.name == "given_name" else FAMILY)
    if kind is T.DATE:
        return _day(rng).isoformat()
    if kind is T.DATETIME:
        moment = datetime.combine(_day(rng, 2019, 2024), datetime.min.time()) + timedelta(
            minutes=rng.randrange(24 * 60)
        )
        return moment.strftime("%Y-%m-%dT%H:%M:%S" if rng.random() < 0.8 else "%Y-%m-%d %H:%M")
    simple = {
        T.SEX: lambda: rng.choice("FMXUfm"),
        T.POSTCODE: lambda: postcode(rng),
        T.NHS_NUMBER: lambda: nhs_number(rng),
        T.UPRN: lambda: str(rng.randrange(1, 10**12)),
        T.URN: lambda: f"{100000 + index % 900000}",
        T.EMAIL: lambda: f"dsl{index}@school{index}.sch.uk",
        T.BOOL: lambda: rng.choice(("true", "false", "yes", "no", "Y", "0")),
        T.CODE: lambda: rng.choice(column.values),
        T.CODE_LIST: lambda: ";".join(rng.sample(column.values, rng.randrange(1, 3))),
        T.INTEGER: lambda: str(rng.randrange(0, 600)),
    }
    return simple[kind]()


@dataclass
class Generated:
    feed: FeedContract
    header: list[str]
    rows: list[list[str]]
    quarantined: set[int] = field(default_factory=set)
    """Indexes of rows (0 = first data row) that must be quarantined."""
    warned: set[tuple[int, str]] = field(default_factory=set)
    """(row index, column) of cells that must be blanked with a warning."""


def _order_pairs(feed: FeedContract, row: dict[str, str]) -> None:
    for earlier, later, _ in ORDERED_PAIRS.get(feed.name, ()):
        a, b = row.get(earlier, ""), row.get(later, "")
        if a and b and b.replace(" ", "T") < a.replace(" ", "T"):
            row[earlier], row[later] = b, a


def make_rows(feed: FeedContract, n: int, *, seed: int = 0, defect_rate: float = 0.0, start: int = 0) -> Generated:
    """``n`` rows of ``feed`` with every column (optional ones too). Nullable cells are blank
    a fifth of the time; a ``defect_rate`` share of rows get one bad cell."""
    rng = random.Random(f"{feed.name}-{seed}")
    header = list(feed.column_names)
    generated = Generated(feed, header, [])
    for i in range(n):
        row = {
            c.name: ""
            if c.nullable and rng.random() < 0.2
            else good_value(c, rng, start + i, unique=c.name in feed.unique)
            for c in feed.columns
        }
        _order_pairs(feed, row)
        if defect_rate and rng.random() < defect_rate:
            column = rng.choice(feed.columns)
            row[column.name] = BAD[column.type][0]
            if column.blank_keeps_row:
                generated.warned.add((i, column.name))
            else:
                generated.quarantined.add(i)
        generated.rows.append([row[h] for h in header])
    return generated


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, line_end: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=line_end)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_area(out: Path, *, people: int, seed: int = 0, defect_rate: float = 0.0) -> dict[str, Generated]:
    """Every feed, sized for an area of ``people``; returns what was written, by feed."""
    written = {}
    for name, per_person in ROWS_PER_PERSON.items():
        feed = FEEDS[name]
        generated = make_rows(feed, max(1, round(people * per_person)), seed=seed, defect_rate=defect_rate)
        write_csv(out / f"{name}.csv", generated.header, generated.rows)
        written[name] = generated
    return written
