"""Where rule evidence comes from: one *source* per kind of record, with the columns a rule may test.

A source is a feed of the build seen as events: who (a person, through ``person_records``, or a
place, through the household address), when (a moment, or a period such as a treatment episode
or a prison term), and the coded columns a condition may use. The columns and their allowed codes
come from the feed contracts, so a rule that names a code the feed cannot hold fails when the
pack is loaded. Identity columns (names, date of birth, sex, postcode, address) are never
offered to a rule, and neither is anything about deprivation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from commonground.contracts import FEEDS
from commonground.contracts.spec import ColumnType, FeedContract


class ColumnKind(StrEnum):
    """What a condition can ask of a column."""

    CODE = "code"  # one value from a code list: `in`
    CODE_LIST = "code_list"  # a list of codes: `contains_any`
    BOOL = "bool"  # true / false: `is`
    NUMBER = "number"  # a number: `at_least`


@dataclass(frozen=True)
class SourceColumn:
    name: str
    kind: ColumnKind
    description: str
    values: tuple[str, ...] = ()
    table: str = "f"
    """Which table of the staging join holds it: ``f`` the feed, ``i`` the police incident."""


@dataclass(frozen=True)
class Source:
    """One kind of evidence record."""

    name: str
    title: str
    """What one row is, in words: "custody record"."""
    agency: str
    """The kind of partner that records it; "seen by more than one agency" counts these."""
    feed: str
    """The build table's feed name (``feed_<feed>``) or, for a derived source, what it is made from."""
    starts: str
    ends: str | None = None
    """For a period (treatment, a prison term), the column holding its end; blank while ongoing."""
    person: bool = True
    """Each row is about one person, found through ``person_records``."""
    located: bool = False
    """Each row has a place (``address_key``), matched against households."""
    columns: Mapping[str, SourceColumn] = field(default_factory=dict)
    tables: tuple[str, ...] = ()
    """The build tables the source reads."""


_KINDS = {
    ColumnType.CODE: ColumnKind.CODE,
    ColumnType.CODE_LIST: ColumnKind.CODE_LIST,
    ColumnType.BOOL: ColumnKind.BOOL,
    ColumnType.INTEGER: ColumnKind.NUMBER,
}


def _columns(contract: FeedContract, *, table: str = "f", only: tuple[str, ...] = ()) -> dict[str, SourceColumn]:
    out: dict[str, SourceColumn] = {}
    for column in contract.columns:
        kind = _KINDS.get(column.type)
        if kind is None or column.identity or (only and column.name not in only):
            continue
        out[column.name] = SourceColumn(
            name=column.name, kind=kind, description=column.description, values=column.values, table=table
        )
    return out


def _feed_source(contract: FeedContract, *, title: str, agency: str, starts: str, ends: str | None = None) -> Source:
    return Source(
        name=contract.name,
        title=title,
        agency=agency,
        feed=contract.name,
        starts=starts,
        ends=ends,
        columns=MappingProxyType(_columns(contract)),
        tables=(f"feed_{contract.name}", "person_records"),
    )


F = FEEDS

SOURCES: Mapping[str, Source] = MappingProxyType(
    {
        s.name: s
        for s in (
            Source(
                name="police_incidents",
                title="police incident at an address",
                agency="police",
                feed="police_incidents",
                starts="occurred_at",
                person=False,
                located=True,
                columns=MappingProxyType(_columns(F["police_incidents"])),
                tables=("feed_police_incidents",),
            ),
            Source(
                name="police_incident_persons",
                title="person named on a police incident",
                agency="police",
                feed="police_incident_persons",
                starts="occurred_at",
                located=True,
                columns=MappingProxyType(
                    {
                        **_columns(F["police_incident_persons"]),
                        **_columns(F["police_incidents"], table="i", only=("category", "qualifiers")),
                    }
                ),
                tables=("feed_police_incident_persons", "feed_police_incidents", "person_records"),
            ),
            _feed_source(F["custody_records"], title="custody record", agency="police", starts="arrested_at"),
            _feed_source(F["missing_episodes"], title="missing episode", agency="police", starts="reported_at"),
            _feed_source(
                F["street_triage"], title="street-triage contact", agency="mental_health_trust", starts="contacted_at"
            ),
            _feed_source(
                F["ed_attendances"], title="emergency-department attendance", agency="acute_trust", starts="arrived_at"
            ),
            _feed_source(
                F["mental_health_contacts"],
                title="mental-health service contact",
                agency="mental_health_trust",
                starts="contact_date",
            ),
            _feed_source(
                F["substance_treatment"],
                title="drug or alcohol treatment episode",
                agency="drug_alcohol_service",
                starts="start_date",
                ends="end_date",
            ),
            _feed_source(
                F["childrens_social_care"],
                title="children's social care referral",
                agency="childrens_social_care",
                starts="referral_date",
            ),
            _feed_source(
                F["custodial_sentences"],
                title="period in prison",
                agency="prisons_probation",
                starts="received_at",
                ends="released_at",
            ),
            Source(
                name="household_departures",
                title="adult leaving the child's household",
                agency="linkage",
                feed="households",
                starts="departed_on",
                columns=MappingProxyType(
                    {
                        "age_gap_years": SourceColumn(
                            name="age_gap_years",
                            kind=ColumnKind.NUMBER,
                            description="How many whole years older the adult who left is than the child.",
                        ),
                    }
                ),
                tables=("households", "persons"),
            ),
            Source(
                name="parent_on_incident",
                title="police incident naming an adult the child has lived with",
                agency="police",
                feed="police_incidents",
                starts="occurred_at",
                columns=MappingProxyType(
                    {
                        **_columns(F["police_incident_persons"], only=("role",)),
                        **_columns(F["police_incidents"], table="i", only=("category", "qualifiers")),
                        "age_gap_years": SourceColumn(
                            name="age_gap_years",
                            kind=ColumnKind.NUMBER,
                            description="How many whole years older the adult named on the incident is than the child.",
                        ),
                        "child_lives_at_address": SourceColumn(
                            name="child_lives_at_address",
                            kind=ColumnKind.BOOL,
                            description="The child lived at the incident's address when it happened.",
                        ),
                        "child_named": SourceColumn(
                            name="child_named",
                            kind=ColumnKind.BOOL,
                            description="The child is named on the incident too (in any role).",
                        ),
                    }
                ),
                tables=(
                    "feed_police_incident_persons",
                    "feed_police_incidents",
                    "person_records",
                    "households",
                    "persons",
                ),
            ),
        )
    }
)
"""Every source a rule may draw evidence from, by name."""

DERIVED_SOURCES = frozenset({"household_departures", "parent_on_incident"})
"""Sources the rules' staging makes from households joined with records (an adult leaving a child's home; an
incident naming an adult the child has lived with, about the child): not one feed's events about one person, so
evaluations do not count them as contacts."""

FORBIDDEN_WORDS = ("deprivation", "decile", "area_code", "postcode", "imd")
"""No rule may condition on deprivation or on where someone lives as such (see docs/rules.md)."""
