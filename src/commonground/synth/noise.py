"""The noise profiles: how badly each partner records the people it meets, in one declarative place.

``default`` is the identity errors of :mod:`commonground.synth.identity` alone (``PROFILES``);
the area it gives is byte-for-byte what it was before profiles existed. ``harsh`` keeps those and
raises each kind of error, feed by feed, to the **total** rates in :data:`HARSH` (a rate here is
the share of the feed's records that can carry the error and do: a nickname needs a name that
has one, a day/month swap a day of 12 or less, a stale address a move in the two years before
the record), adds kinds the default never makes (aliases, blank dates of birth, dates one day
out, temporary and missing addresses, case and punctuation, flat prefixes, children seen on one
school-roll extract), and lets the errors cluster on the same records. It is applied by
:mod:`commonground.synth.harsh` from a random stream of its own, after every other stage.

Every rate names its source in :data:`CITATIONS` (docs/synth.md prints the same table with
the full references). Where no published figure exists the rate is a stated judgment, and the
citation says so: the sources below give the direction and the order of magnitude, never the
number for a police custody suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS: tuple[str, ...] = (
    "nickname",
    "typo",
    "name_swap",
    "alias",
    "old_surname",
    "dob_missing",
    "dob_day",
    "dob_year",
    "dob_swap",
    "sex_unknown",
    "abbreviation",
    "address_format",
    "move",
    "temporary_address",
    "address_missing",
    "no_fixed_abode",
    "postcode_missing",
    "nhs_missing",
    "nhs_other_person",
    "single_extract",
)
"""Every kind of identity error written to ``truth/identity_errors.csv``, in a fixed order (bit i is kind i)."""

BIT: dict[str, int] = {kind: 1 << i for i, kind in enumerate(KINDS)}

CATEGORY: dict[str, str] = {
    "nickname": "nickname",
    "typo": "typo",
    "name_swap": "name_swap",
    "alias": "alias",
    "old_surname": "name_change",
    "dob_missing": "missing_dob",
    "dob_day": "date_slip",
    "dob_year": "date_slip",
    "dob_swap": "date_slip",
    "sex_unknown": "other",
    "abbreviation": "abbreviation",
    "address_format": "abbreviation",
    "move": "move",
    "temporary_address": "move",
    "address_missing": "move",
    "no_fixed_abode": "move",
    "postcode_missing": "move",
    "nhs_missing": "other",
    "nhs_other_person": "other",
    "single_extract": "single_extract",
}
"""The coarse groups a recall-by-kind table reports (issue #15): abbreviation, date slip, name swap, nickname,
move, missing date of birth, and the rest."""

DOB_BLANK_FEEDS = ("police_incident_persons", "custody_records", "street_triage", "ed_attendances")
"""The only feeds whose date of birth may be blank: people who would not or could not say."""


@dataclass(frozen=True)
class Citation:
    """Where a rate comes from: a published figure, or a judgment said to be one."""

    source: str
    figure: str
    judgment: bool


SOURCES: dict[str, str] = {
    "harron2017": "Harron K, Hagger-Johnson G, Gilbert R, Goldstein H. Utilising identifier error variation in linkage "
    "of large administrative data sources. BMC Med Res Methodol 2017;17:23.",
    "hj2015bmjo": "Hagger-Johnson G, Harron K, Fleming T, Gilbert R, Goldstein H, Landy R, Parslow RC. Data linkage "
    "errors in hospital administrative data when applying a pseudonymisation algorithm to paediatric intensive care "
    "records. BMJ Open 2015;5:e008118.",
    "hj2015hsr": "Hagger-Johnson G, Harron K, Gonzalez-Izquierdo A, et al. Identifying possible false matches in "
    "anonymized hospital administrative data without patient identifiers. Health Serv Res 2015;50(4):1162-78 "
    "(Table 3, citing HSCIC 2009-2010 and Millett et al. 2005).",
    "pnc1996": "House of Commons written answer on the fields of the Police National Computer, HC Deb 11 December "
    "1996 vol 287 cc259-60W; Home Office written answer on criminal records and previous names, 15 December 2014.",
    "libuy2021": "Libuy N, Harron K, Gilbert R, Caulton R, Cameron E, Blackburn R. Linking education and hospital data "
    "in England: linkage process and quality. Int J Popul Data Sci 2021;6(1):1671.",
    "dfe_census": "Department for Education. School census guide (the census is taken each term: autumn, spring, "
    "summer).",
    "judgment": "No published figure for this feed; a judgment, set against the sources named in its note.",
}


def _c(source: str, figure: str, *, judgment: bool = True) -> Citation:
    return Citation(source=source, figure=figure, judgment=judgment)


CITATIONS: dict[str, Citation] = {
    "nickname": _c(
        "hj2015hsr",
        "of 100 HES records that failed to match the PDS and had no NHS number, 37 failed on the name (HSCIC 2009a); "
        "the per-feed rates are a judgment: police and triage take the name the person gives",
    ),
    "typo": _c("judgment", "keying errors: twice the default profile's rates in police and triage feeds"),
    "name_swap": _c(
        "hj2015hsr",
        "names 'stored differently on different databases, presented in different ways and misunderstood by "
        "frontline staff'; the rates are a judgment",
    ),
    "alias": _c(
        "pnc1996",
        "the PNC holds 'names, nicknames and dates of birth used' and records aliases 'as and when known'; "
        "the rates are a judgment",
    ),
    "dob_missing": _c(
        "hj2015hsr",
        "unconscious, frail or intoxicated patients give 'unknown dates of birth [that] can result in missing data "
        "or default values' (HSCIC 2010); Harron et al. 2017 found sex or date of birth wrong or missing in 0.11 % of "
        "HES admissions against the PDS, so 0.5 % at ED is harsh; police and triage rates are a judgment",
    ),
    "dob_day": _c(
        "harron2017",
        "0.11 % of HES admissions disagreed with the PDS on sex or date of birth; errors clustered by age and "
        "hospital; rates here are 3-10 times that, a judgment for feeds keyed at the scene",
    ),
    "dob_year": _c("harron2017", "as dob_day; a year out is the commonest date slip in our judgment"),
    "dob_swap": _c(
        "harron2017",
        "as dob_day; a share of the dates that can be swapped (day 12 or less), a judgment",
    ),
    "abbreviation": _c("judgment", "road types and flat prefixes are abbreviated in free-text address lines"),
    "address_format": _c("judgment", "case and punctuation of free-text address lines"),
    "move": _c(
        "hj2015hsr",
        "40 % of patients had not registered with a GP six months after moving (Millett et al. 2005), so the "
        "address given is often the old one; Harron et al. 2017: postcode disagreed with the PDS or was missing in "
        "53 % of HES admissions",
        judgment=False,
    ),
    "temporary_address": _c("judgment", "staying with friends or family at the time of the record"),
    "address_missing": _c(
        "harron2017",
        "postcode disagreed or missing in 53 % of HES admissions (most of it legitimate change); blank address "
        "rates here are a judgment",
    ),
    "nhs_missing": _c(
        "hj2015bmjo",
        "missed matches were more common for records with missing data (4.1 % missed matches overall); "
        "the rates are a judgment",
    ),
    "single_extract": _c(
        "dfe_census",
        "a local authority sees the roll through termly census extracts; the share of enrolments known only "
        "from one extract is a judgment (Libuy et al. 2021: 95 % of pupil records linked to HES)",
    ),
    "clustering": _c(
        "harron2017",
        "identifier errors cluster by person (age, ethnicity, sex) and by hospital, violating the independence "
        "that match weights assume; the share and factor are a judgment",
    ),
}


@dataclass(frozen=True)
class FeedNoise:
    """Total rates (0-1) of each kind of error in one feed under a profile; absent kinds are 0."""

    rates: dict[str, float] = field(default_factory=dict)

    def rate(self, kind: str) -> float:
        return self.rates.get(kind, 0.0)


@dataclass(frozen=True)
class NoiseProfile:
    name: str
    feeds: dict[str, FeedNoise]
    cluster_share: float = 0.0
    """Share of records that are hurried (a crisis, a custody desk at 3 a.m.): every kind is more likely on them."""
    cluster_factor: float = 1.0
    """How much more likely each kind is on a hurried record (the total rates stay as stated)."""
    single_extract: float = 0.0
    """Share of school-roll enrolments the local authority saw on one termly extract only."""
    move_window_days: int = 730
    """A stale address needs a move this many days or fewer before the record."""

    def feed(self, name: str) -> FeedNoise:
        return self.feeds.get(name, FeedNoise())


# Rates in per cent, by feed, then turned into FeedNoise. Column order matches docs/synth.md.
_COLUMNS = (
    "nickname",
    "typo",
    "name_swap",
    "alias",
    "dob_missing",
    "dob_day",
    "dob_year",
    "dob_swap",
    "abbreviation",
    "address_format",
    "move",
    "temporary_address",
    "address_missing",
    "nhs_missing",
)
_HARSH_PERCENT: dict[str, tuple[float, ...]] = {
    #                        nick typo swap alias dob∅ day  year d/m  abbr case move temp addr∅ nhs∅
    "police_incident_persons": (20, 6, 3, 2, 4, 1, 1.5, 3, 40, 30, 40, 3, 4, 0),
    "custody_records": (20, 4, 2, 4, 1, 0.8, 1, 2.5, 40, 50, 45, 5, 2, 0),
    "missing_episodes": (15, 4, 1, 0.5, 0, 0.5, 0.6, 1.5, 20, 10, 20, 3, 1, 0),
    "street_triage": (20, 6, 3, 1, 5, 1, 1.5, 3, 40, 20, 40, 4, 6, 20),
    "ed_attendances": (8, 3, 0.8, 0, 0.5, 0.3, 0.5, 1, 25, 15, 30, 1, 2, 5),
    "mental_health_contacts": (6, 1.5, 0.5, 0, 0, 0.2, 0.3, 0.6, 15, 10, 20, 0, 1, 2),
    "substance_treatment": (15, 3, 1, 1, 0, 0.5, 0.8, 1.5, 20, 10, 30, 3, 2, 10),
    "childrens_social_care": (8, 2.5, 1, 0, 0, 0.3, 0.5, 1, 15, 10, 20, 0, 0.5, 15),
    "custodial_sentences": (10, 3, 2, 3, 0, 0.5, 0.8, 1.5, 30, 10, 45, 2, 1, 0),
    "school_roll": (3, 1, 0.5, 0, 0, 0.1, 0.2, 0.5, 5, 5, 10, 0, 0, 0),
}

HARSH = NoiseProfile(
    name="harsh",
    feeds={
        feed: FeedNoise({k: v / 100 for k, v in zip(_COLUMNS, row, strict=True) if v})
        for feed, row in _HARSH_PERCENT.items()
    },
    cluster_share=0.10,
    cluster_factor=4.0,
    single_extract=0.30,
)
DEFAULT = NoiseProfile(name="default", feeds={})

NOISE_PROFILES: dict[str, NoiseProfile] = {"default": DEFAULT, "harsh": HARSH}
