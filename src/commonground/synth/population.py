"""The people of the area at the start of the window, in households of realistic types.

Household types and their shares follow ONS *Families and households in the UK* (2022-23): 30 %
of households are one person, 57 % couples (with or without children), 10 % lone parents, the
rest sharers; 2.36 people per household; 84-88 % of lone parents are mothers. Children's ages
fit their mothers' (mean age at birth about 31). About 21 % of people are under 18.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import BoolArray, IntArray, choice
from commonground.synth.names import GROUP_SHARES, NameBook
from commonground.synth.timeline import T0, years

# Household types at the start of the window (share of households).
SINGLE_YOUNG, SINGLE_OLD, COUPLE_YOUNG, COUPLE_OLD, COUPLE_KIDS, COUPLE_GROWN, LONE_KIDS, LONE_GROWN, SHARED = range(9)
TYPE_SHARES = (0.13, 0.15, 0.13, 0.15, 0.22, 0.08, 0.08, 0.03, 0.03)
KIDS_COUNT_SHARES = (0.43, 0.40, 0.12, 0.05)  # 1, 2, 3, 4 dependent children
MARRIED_SHARE = 0.78  # of couples (ONS: 66 % married, 18-19 % cohabiting of all families)
LONE_MOTHER_SHARE = 0.88
SAME_SEX_SHARE = 0.03

# Roles within a household.
ADULT_A, ADULT_B, CHILD, GROWN_CHILD, SHARER = range(5)


@dataclass
class Population:
    """People (one row each) and their households at the start of the window."""

    sex: IntArray  # 0 female, 1 male
    dob: IntArray
    group: IntArray
    given: IntArray
    family: IntArray
    mother: IntArray
    father: IntArray
    partner: IntArray
    married: BoolArray
    hh: IntArray  # household at the start
    role: IntArray
    hh_type: IntArray
    hh_since: IntArray
    hh_dwelling: IntArray

    @property
    def size(self) -> int:
        return len(self.sex)


def _age_days(age_years: np.ndarray) -> IntArray:
    return np.round(np.asarray(age_years) * 365.25).astype(np.int64)


class _Members:
    """Accumulates member rows of households while they are generated, type by type."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("hh", "role", "age", "sex", "group", "fam")}

    def add(self, hh: IntArray, role: int, age: np.ndarray, sex: np.ndarray, group: IntArray, fam: IntArray) -> None:
        n = len(hh)
        self.cols["hh"].append(hh)
        self.cols["role"].append(np.full(n, role, dtype=np.int64))
        self.cols["age"].append(np.asarray(age, dtype=np.float64))
        self.cols["sex"].append(np.asarray(sex, dtype=np.int64))
        self.cols["group"].append(group)
        self.cols["fam"].append(fam)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()}


def build_population(rng: np.random.Generator, *, people: int, names: NameBook, n_dwellings: int) -> Population:
    """Exactly ``people`` people in households, each household in its own dwelling."""
    n_guess = int(people / 2.2) + 8
    types = choice(rng, n_guess, TYPE_SHARES)
    group = choice(rng, n_guess, GROUP_SHARES)
    fam = names.draw_family(rng, group)
    m = _Members()
    hh = np.arange(n_guess, dtype=np.int64)
    _singles(rng, m, hh, types, group, fam)
    _couples(rng, m, hh, types, group, fam, names)
    _lone_parents(rng, m, hh, types, group, fam, names)
    _sharers(rng, m, hh, types, group, names)
    cols = m.arrays()
    order = np.lexsort((cols["role"], cols["hh"]))
    cols = {k: v[order] for k, v in cols.items()}
    # Keep whole households while they fit, then fill up with people living alone.
    sizes = np.bincount(cols["hh"].astype(np.int64), minlength=n_guess)
    keep_hh = int(np.searchsorted(np.cumsum(sizes), people, side="right"))
    keep = cols["hh"] < keep_hh
    cols = {k: v[keep] for k, v in cols.items()}
    extra = people - int(keep.sum())
    if extra > 0:
        extra_hh = keep_hh + np.arange(extra, dtype=np.int64)
        g = choice(rng, extra, GROUP_SHARES)
        age = 18 + rng.random(extra) * 47
        for k, v in (
            ("hh", extra_hh),
            ("role", np.full(extra, ADULT_A)),
            ("age", age),
            ("sex", rng.integers(0, 2, size=extra)),
            ("group", g),
            ("fam", names.draw_family(rng, g)),
        ):
            cols[k] = np.concatenate([cols[k], v])
        types = np.concatenate([types[:keep_hh], np.full(extra, SINGLE_YOUNG)])
    else:
        types = types[:keep_hh]
    n_hh = len(types)
    return _finish(rng, cols, types, names, n_hh, n_dwellings)


def _finish(
    rng: np.random.Generator, cols: dict[str, np.ndarray], types: IntArray, names: NameBook, n_hh: int, n_dwellings: int
) -> Population:
    hh = cols["hh"].astype(np.int64)
    role = cols["role"].astype(np.int64)
    sex = cols["sex"].astype(np.int64)
    n = len(hh)
    dob = T0 - _age_days(cols["age"]) - rng.integers(0, 365, size=n)
    birth_year = 1970 + dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    group = cols["group"].astype(np.int64)
    given = names.draw_given(rng, group, sex, birth_year)
    # Parents of each child: the household's adults A and B (by sex).
    first = np.searchsorted(hh, np.arange(n_hh))
    a = first[hh]
    b = np.where(
        (a + 1 < n) & (hh[np.minimum(a + 1, n - 1)] == hh) & (role[np.minimum(a + 1, n - 1)] == ADULT_B), a + 1, -1
    )
    is_child = (role == CHILD) | (role == GROWN_CHILD)
    a_female = sex[a] == 0
    b_exists = b >= 0
    mother = np.where(is_child & a_female, a, np.where(is_child & b_exists & ~a_female, b, -1))
    father = np.where(is_child & ~a_female, a, np.where(is_child & b_exists & a_female, b, -1))
    partner = np.full(n, -1, dtype=np.int64)
    has_b = (role == ADULT_A) & b_exists
    partner[np.flatnonzero(has_b)] = b[has_b]
    partner[b[has_b]] = np.flatnonzero(has_b)
    couple_married = rng.random(n_hh) < MARRIED_SHARE
    married = (partner >= 0) & couple_married[hh]
    family = cols["fam"].astype(np.int64)
    # An unmarried woman keeps her own family name.
    unmarried_b = (role == ADULT_B) & ~married & (family == family[a])
    family[unmarried_b] = names.draw_family(rng, group[unmarried_b])
    # Years at the current address: roughly exponential, mean nine years, never before adulthood.
    youngest_adult = np.full(n_hh, -(10**9), dtype=np.int64)
    adult_rows = (role == ADULT_A) | (role == ADULT_B) | (role == SHARER)
    np.maximum.at(youngest_adult, hh[adult_rows], dob[adult_rows])
    since = T0 - (rng.exponential(9.0, size=n_hh) * 365.25).astype(np.int64)
    since = np.maximum(since, youngest_adult + years(18))
    since = np.minimum(since, T0 - 30)
    dwellings = rng.permutation(n_dwellings)[:n_hh].astype(np.int64)
    return Population(
        sex=sex,
        dob=dob.astype(np.int64),
        group=group,
        given=given,
        family=family,
        mother=mother.astype(np.int64),
        father=father.astype(np.int64),
        partner=partner,
        married=married,
        hh=hh,
        role=role,
        hh_type=types.astype(np.int64),
        hh_since=since,
        hh_dwelling=dwellings,
    )


def _singles(
    rng: np.random.Generator, m: _Members, hh: IntArray, types: IntArray, group: IntArray, fam: IntArray
) -> None:
    young = hh[types == SINGLE_YOUNG]
    band = choice(rng, len(young), (0.08, 0.22, 0.18, 0.22, 0.30))
    age = np.array([18, 25, 35, 45, 55])[band] + rng.random(len(young)) * np.array([7, 10, 10, 10, 10])[band]
    m.add(young, ADULT_A, age, (rng.random(len(young)) < 0.55).astype(np.int64), group[young], fam[young])
    old = hh[types == SINGLE_OLD]
    age = np.minimum(65 + rng.gamma(2.0, 6.0, size=len(old)), 99)
    m.add(old, ADULT_A, age, (rng.random(len(old)) < 0.38).astype(np.int64), group[old], fam[old])


def _partner_group(rng: np.random.Generator, group: IntArray) -> IntArray:
    mixed = rng.random(len(group)) < 0.08
    return np.where(mixed, choice(rng, len(group), GROUP_SHARES), group)


def _couple_adults(
    rng: np.random.Generator,
    m: _Members,
    hh: IntArray,
    woman_age: np.ndarray,
    group: IntArray,
    fam: IntArray,
    names: NameBook,
    same_sex: BoolArray | None = None,
    min_man_age: np.ndarray | None = None,
) -> None:
    """Adult A is the man (the household's family name), B the woman; married women mostly share it."""
    n = len(hh)
    man_age = np.clip(woman_age + rng.normal(2.5, 4.0, size=n), 18, 99)
    if min_man_age is not None:
        man_age = np.maximum(man_age, min_man_age)
    pg = _partner_group(rng, group)
    own = names.draw_family(rng, pg)
    keeps_own = rng.random(n) < 0.12  # kept her own name (unmarried partners are set apart later)
    woman_fam = np.where(keeps_own, own, fam)
    sex_a = np.ones(n, dtype=np.int64)
    sex_b = np.zeros(n, dtype=np.int64)
    if same_sex is not None:
        both_f = same_sex & (rng.random(n) < 0.5)
        sex_a = np.where(both_f, 0, sex_a)
        sex_b = np.where(same_sex & ~both_f, 1, sex_b)
        woman_fam = np.where(same_sex, own, woman_fam)
    m.add(hh, ADULT_A, man_age, sex_a, group, fam)
    m.add(hh, ADULT_B, woman_age, sex_b, pg, woman_fam)


def _children(rng: np.random.Generator, n: int) -> tuple[IntArray, np.ndarray, np.ndarray]:
    """Dependent children per family: (family index, child age), and the mother's age."""
    k = 1 + choice(rng, n, KIDS_COUNT_SHARES)
    youngest = rng.random(n) * 17.9
    owner = np.repeat(np.arange(n), k)
    gaps = 1.0 + rng.gamma(2.0, 0.9, size=len(owner))
    first = np.cumsum(k) - k
    gaps[first] = 0.0
    age = youngest[owner] + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], k)
    keep = age < 18.0
    oldest = np.zeros(n)
    np.maximum.at(oldest, owner[keep], age[keep])
    mother_age = youngest + np.clip(rng.normal(31.0, 5.5, size=n), 18, 44)
    mother_age = np.maximum(mother_age, oldest + 16 + rng.random(n) * 3)
    return owner[keep].astype(np.int64), age[keep], mother_age


def _kid_names(rng: np.random.Generator, father_fam: IntArray, mother_fam: IntArray) -> IntArray:
    return np.where(rng.random(len(father_fam)) < 0.8, father_fam, mother_fam)


def _couples(
    rng: np.random.Generator,
    m: _Members,
    hh: IntArray,
    types: IntArray,
    group: IntArray,
    fam: IntArray,
    names: NameBook,
) -> None:
    young = hh[types == COUPLE_YOUNG]
    _couple_adults(
        rng,
        m,
        young,
        20 + rng.gamma(3.0, 3.5, size=len(young)),
        group[young],
        fam[young],
        names,
        same_sex=rng.random(len(young)) < SAME_SEX_SHARE,
    )
    old = hh[types == COUPLE_OLD]
    _couple_adults(
        rng,
        m,
        old,
        50 + rng.random(len(old)) * 35,
        group[old],
        fam[old],
        names,
        same_sex=rng.random(len(old)) < SAME_SEX_SHARE,
    )
    kids_hh = hh[types == COUPLE_KIDS]
    owner, age, mother_age = _children(rng, len(kids_hh))
    # One family in six also has a grown-up child still at home.
    pick = (rng.random(len(kids_hh)) < 0.17) & (mother_age >= 37)
    grown_age = 18 + rng.random(len(kids_hh)) * np.clip(mother_age - 36, 0, 5)
    oldest = np.where(pick, grown_age, 0.0)
    np.maximum.at(oldest, owner, age)
    _couple_adults(
        rng,
        m,
        kids_hh,
        mother_age,
        group[kids_hh],
        fam[kids_hh],
        names,
        min_man_age=oldest + 17 + rng.random(len(kids_hh)) * 3,
    )
    kid_hh = kids_hh[owner]
    m.add(kid_hh, CHILD, age, rng.integers(0, 2, size=len(owner)), group[kid_hh], fam[kid_hh])
    extra = kids_hh[pick]
    m.add(extra, GROWN_CHILD, grown_age[pick], rng.integers(0, 2, size=len(extra)), group[extra], fam[extra])
    grown = hh[types == COUPLE_GROWN]
    mum = 46 + rng.random(len(grown)) * 22
    n_kids = 1 + (rng.random(len(grown)) < 0.35)
    owner2 = np.repeat(np.arange(len(grown)), n_kids)
    kid_age = np.clip(mum[owner2] - 22 - rng.random(len(owner2)) * 16, 18, 40)  # born to a mother of 22-38
    eldest = np.zeros(len(grown))
    np.maximum.at(eldest, owner2, kid_age)
    _couple_adults(rng, m, grown, mum, group[grown], fam[grown], names, min_man_age=eldest + 18)
    g2 = grown[owner2]
    m.add(g2, GROWN_CHILD, kid_age, rng.integers(0, 2, size=len(owner2)), group[g2], fam[g2])


def _lone_parents(
    rng: np.random.Generator,
    m: _Members,
    hh: IntArray,
    types: IntArray,
    group: IntArray,
    fam: IntArray,
    names: NameBook,
) -> None:
    lone = hh[types == LONE_KIDS]
    owner, age, parent_age = _children(rng, len(lone))
    parent_sex = (rng.random(len(lone)) > LONE_MOTHER_SHARE).astype(np.int64)
    m.add(lone, ADULT_A, parent_age, parent_sex, group[lone], fam[lone])
    other_fam = names.draw_family(rng, _partner_group(rng, group[lone]))
    kid_fam = np.where(rng.random(len(lone)) < 0.55, fam[lone], other_fam)
    m.add(lone[owner], CHILD, age, rng.integers(0, 2, size=len(owner)), group[lone[owner]], kid_fam[owner])
    grown = hh[types == LONE_GROWN]
    parent_age = 45 + rng.random(len(grown)) * 35
    m.add(grown, ADULT_A, parent_age, (rng.random(len(grown)) > 0.8).astype(np.int64), group[grown], fam[grown])
    kid_age = np.clip(parent_age - 22 - rng.random(len(grown)) * 16, 18, 45)
    m.add(grown, GROWN_CHILD, kid_age, rng.integers(0, 2, size=len(grown)), group[grown], fam[grown])


def _sharers(
    rng: np.random.Generator, m: _Members, hh: IntArray, types: IntArray, group: IntArray, names: NameBook
) -> None:
    shared = hh[types == SHARED]
    k = 2 + choice(rng, len(shared), (0.5, 0.35, 0.15))
    owner = np.repeat(np.arange(len(shared)), k)
    g = np.where(rng.random(len(owner)) < 0.7, group[shared[owner]], choice(rng, len(owner), GROUP_SHARES))
    first = np.cumsum(k) - k
    role = np.full(len(owner), SHARER)
    role[first] = ADULT_A
    age = 19 + rng.random(len(owner)) * 21
    sex = rng.integers(0, 2, size=len(owner))
    fam = names.draw_family(rng, g)
    is_a = role == ADULT_A
    m.add(shared[owner[is_a]], ADULT_A, age[is_a], sex[is_a], g[is_a], fam[is_a])
    m.add(shared[owner[~is_a]], SHARER, age[~is_a], sex[~is_a], g[~is_a], fam[~is_a])


def nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct valid NHS numbers from the test range 999 000 0000 - 999 999 9999.

    That range holds about 909,000 valid numbers; beyond that the synth continues in 998, 997...
    (ranges never issued to patients in England and Wales).
    """
    out: list[str] = []
    prefix = 999
    while len(out) < n:
        base = np.arange(1_000_000, dtype=np.int64)
        digits = [(base // 10**p) % 10 for p in range(5, -1, -1)]
        p = [prefix // 100, (prefix // 10) % 10, prefix % 10]
        total = p[0] * 10 + p[1] * 9 + p[2] * 8 + sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True))
        check = 11 - total % 11
        check = np.where(check == 11, 0, check)
        valid = check != 10
        cand = base[valid] * 10 + check[valid]
        cand = cand[rng.permutation(len(cand))][: n - len(out)]
        out += [f"{prefix}{c:07d}" for c in cand.tolist()]
        prefix -= 1
    return out
