"""Schools: primary and secondary (about one per 2,000 and 8,000 residents), each with a safeguarding lead.

URNs are six digits; the designated safeguarding lead has a synthetic name and an email address
at a fictional domain (``@<school>.school.example.org``, a reserved example domain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import IntArray, ObjArray, texts
from commonground.synth.names import NameBook, ascii_fold

PEOPLE_PER_PRIMARY = 2_000
PEOPLE_PER_SECONDARY = 8_000
PEOPLE_PER_SPECIAL = 40_000

SCHOOL_STEMS = (
    "Northgate",
    "Oakfield",
    "Riverside",
    "Hillcrest",
    "Meadowbank",
    "Castle View",
    "Westfield",
    "Brookside",
    "Greenacres",
    "Ashdown",
    "Beechwood",
    "Fairholme",
    "Kingsmead",
    "Larkrise",
    "Millbrook",
    "Orchard Vale",
    "Parklands",
    "Queensbury",
    "Redhill",
    "Southfields",
    "Thornbury",
    "Valley Road",
    "Willowbank",
    "Elmhurst",
    "Holywell",
    "Lime Tree",
    "Moorside",
    "Newlands",
    "Priory",
    "Rosehill",
    "St Peter's",
    "St Bede's",
    "Sandfield",
    "Trinity",
    "Wentworth",
    "Highcliffe",
)
PRIMARY_KINDS = (
    "Primary School",
    "Primary Academy",
    "Infant and Junior School",
    "C of E Primary School",
    "Catholic Primary School",
    "Community Primary School",
)
SECONDARY_KINDS = ("High School", "Academy", "Community School", "School", "Secondary School")
TITLES_F = ("Mrs", "Ms", "Miss", "Dr")
TITLES_M = ("Mr", "Mr", "Mr", "Dr")


@dataclass(frozen=True)
class Schools:
    sa_primary: IntArray  # the catchment primary school of each small area
    sa_secondary: IntArray
    urn: ObjArray
    name: ObjArray
    phase: ObjArray
    postcode: IntArray  # index into the area's postcodes
    dsl_name: ObjArray
    dsl_email: ObjArray


def build_schools(
    rng: np.random.Generator, *, n_sa: int, people: int, names: NameBook, pc_small_area: IntArray
) -> Schools:
    """Primary and secondary schools (and a special school in a big area), each serving nearby small areas."""
    n_pri = max(1, round(people / PEOPLE_PER_PRIMARY))
    n_sec = max(1, round(people / PEOPLE_PER_SECONDARY))
    n_spe = people // PEOPLE_PER_SPECIAL
    sa = np.arange(n_sa, dtype=np.int64)
    sa_primary = sa * n_pri // n_sa
    sa_secondary = n_pri + sa * n_sec // n_sa
    phases = ["primary"] * n_pri + ["secondary"] * n_sec + ["special"] * n_spe
    n = len(phases)
    stems = [SCHOOL_STEMS[i] for i in rng.permutation(len(SCHOOL_STEMS))]
    school_names: list[str] = []
    for i, phase in enumerate(phases):
        stem = stems[i % len(stems)]
        if i >= len(stems):
            stem = f"{stem} {('North', 'South', 'East', 'West', 'Park', 'Vale')[(i // len(stems)) % 6]}"
        if phase == "primary":
            school_names.append(f"{stem} {PRIMARY_KINDS[int(rng.integers(len(PRIMARY_KINDS)))]}")
        elif phase == "secondary":
            school_names.append(f"{stem} {SECONDARY_KINDS[int(rng.integers(len(SECONDARY_KINDS)))]}")
        else:
            school_names.append(f"{stem} Special School")
    home_sa = np.concatenate(
        [
            np.searchsorted(sa_primary, np.arange(n_pri)),
            np.searchsorted(sa_secondary, n_pri + np.arange(n_sec)),
            rng.integers(0, n_sa, size=n_spe),
        ]
    ).astype(np.int64)
    home_sa = np.minimum(home_sa, n_sa - 1)
    pcs_by_sa = np.searchsorted(pc_small_area, home_sa)  # first postcode of the school's small area
    urns = 100_000 + rng.choice(900_000, size=n, replace=False)
    sex = rng.integers(0, 2, size=n)
    sex = np.where(rng.random(n) < 0.75, 0, sex)  # most safeguarding leads are women
    given = names.draw_given(rng, np.zeros(n, dtype=np.int64), sex, rng.integers(1965, 1995, size=n))
    family = names.draw_family(rng, np.zeros(n, dtype=np.int64))
    dsl_names, emails = [], []
    for i in range(n):
        g, f = str(names.given[given[i]]), str(names.family[family[i]])
        title = (TITLES_F if sex[i] == 0 else TITLES_M)[int(rng.integers(4))]
        dsl_names.append(f"{title} {g} {f}")
        slug = "".join(c for c in ascii_fold(school_names[i]).lower().replace(" ", "-") if c.isalnum() or c == "-")
        local = "".join(c for c in ascii_fold(f"{g[0]}.{f}").lower() if c.isalnum() or c == ".")
        emails.append(f"{local}@{slug}.school.example.org")
    return Schools(
        sa_primary=sa_primary,
        sa_secondary=sa_secondary,
        urn=texts([str(u) for u in urns.tolist()]),
        name=texts(school_names),
        phase=texts(phases),
        postcode=pcs_by_sa.astype(np.int64),
        dsl_name=texts(dsl_names),
        dsl_email=texts(emails),
    )
