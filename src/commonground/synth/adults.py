"""Adults' lives: mental illness and crises, alcohol and drug misuse, abusive relationships, offending, prison.

These are the things that *really happened*, whether or not any agency saw them; the feeds
are drawn from them later with the chance of each being seen. Prevalences are set so that
over the six-year window about 5-6 % of adults have a mental illness serious enough to bring
them to secondary services (NHS Mental Health Services Data Set: about 3 % of adults in
contact in a year), 3-4 % misuse alcohol (PHE: about 600,000 dependent drinkers in England,
1.4 % of adults, with many more harmful drinkers), 1-2 % misuse drugs (about 300,000 opiate
and crack users), 2-3 % offend, and about 0.25 % are "revolving door" adults with repeated
arrests, mental illness and substance misuse together. All scale with deprivation and the
latent household factor (see :mod:`commonground.synth.risk`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.contracts import codes
from commonground.synth.arrays import BoolArray, FloatArray, IntArray, choice, ints, poisson_times
from commonground.synth.dynamics import Dynamics
from commonground.synth.residence import Residence
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, T0, T1, WINDOW_DAYS, years

MENTAL_ILLNESS, ALCOHOL, DRUGS = range(3)
SUBSTANCE = {name: i for i, name in enumerate(codes.SUBSTANCES)}
DRUG_MIX = (("opiates", 0.35), ("crack", 0.2), ("cocaine", 0.2), ("cannabis", 0.2), ("other", 0.05))
OFFENCE = {name: i for i, name in enumerate(codes.OFFENCE_GROUPS)}
ORDINARY_OFFENCES = (
    ("theft", 25),
    ("violence", 20),
    ("drugs_possession", 12),
    ("criminal_damage", 8),
    ("public_order", 10),
    ("burglary", 6),
    ("breach", 6),
    ("robbery", 3),
    ("weapons", 3),
    ("sexual", 2),
    ("other", 5),
)
REVOLVING_OFFENCES = (
    ("theft", 35),
    ("breach", 20),
    ("public_order", 15),
    ("drugs_possession", 15),
    ("violence", 10),
    ("criminal_damage", 5),
)
ARREST_ORDINARY, ARREST_REVOLVING, ARREST_EXPLOITED = range(3)

MI_RATE = 0.055
ALCOHOL_RATE = 0.035
DRUG_RATE = 0.013
REVOLVING_RATE = 0.0015
CRISIS_PRONE = 0.12
CRISES_PER_YEAR = 1.1
OFFENDER_RATE = 0.025
ARRESTS_PER_YEAR = 0.3
REVOLVING_ARRESTS_PER_YEAR = 3.0
DA_INCIDENTS_PER_YEAR = 3.5
PRISON_AFTER_ARREST = 0.07
REVOLVING_PRISON_AFTER_ARREST = 0.12
DA_PRISON = 0.08


@dataclass(frozen=True)
class Conditions:
    """Periods of an adult's condition: mental illness, alcohol or drug misuse."""

    pid: IntArray
    kind: IntArray
    start: IntArray
    end: IntArray
    substance: IntArray  # index into codes.SUBSTANCES (-1 for mental illness)


@dataclass(frozen=True)
class Adults:
    cond: Conditions
    crisis_prone: BoolArray
    revolving: BoolArray
    offender: BoolArray
    crisis_pid: IntArray
    crisis_day: IntArray
    da_couple: IntArray
    da_day: IntArray
    da_victim: IntArray
    da_perp: IntArray
    prison_pid: IntArray
    prison_start: IntArray
    prison_end: IntArray
    prison_remand: BoolArray
    arrest_pid: IntArray
    arrest_day: IntArray
    arrest_offence: IntArray
    arrest_source: IntArray
    crisis_police: BoolArray | None = None
    """Whether the police attend each crisis, when the planted interventions drew it (they need to know);
    None: the police observation draws it."""


def person_risk(dyn: Dynamics, res: Residence) -> FloatArray:
    """Each person's household multiplier at the start (or at birth)."""
    pid = np.arange(len(dyn.sex), dtype=np.int64)
    hh = res.household_at(pid, np.maximum(T0, dyn.dob))
    return np.asarray(dyn.hh_risk[np.maximum(hh, 0)], dtype=np.float64)


def _periods(
    rng: np.random.Generator,
    pid: IntArray,
    adult_from: IntArray,
    *,
    prevalent: float,
    chronic: FloatArray,
    mean_years: float,
) -> tuple[IntArray, IntArray, IntArray]:
    """Condition periods: some already going on at the window start, some beginning in it."""
    n = len(pid)
    before = rng.random(n) < prevalent
    start = np.where(
        before, T0 - (rng.random(n) * years(8)).astype(np.int64), T0 + (rng.random(n) * WINDOW_DAYS).astype(np.int64)
    )
    start = np.maximum(start, adult_from[pid])
    length = (rng.exponential(mean_years, size=n) * DAYS_PER_YEAR).astype(np.int64) + 30
    end = np.where(rng.random(n) < chronic, T1, np.minimum(start + length, T1))
    keep = (end > T0) & (start < end)
    return pid[keep], start[keep], end[keep]


def _sex_factor(sex: IntArray, female: float, male: float) -> FloatArray:
    return np.where(sex == 0, female, male).astype(np.float64)


def _conditions(rng: np.random.Generator, dyn: Dynamics, risk: FloatArray) -> tuple[Conditions, BoolArray]:
    n = len(dyn.sex)
    age0 = (T0 - dyn.dob) / DAYS_PER_YEAR
    adult_from = dyn.dob + years(18)
    adult_in_window = (adult_from < T1 - 365) & (age0 < 90)
    rev = (
        adult_in_window
        & (age0 >= 20)
        & (age0 < 55)
        & (rng.random(n) < REVOLVING_RATE * risk * _sex_factor(dyn.sex, 0.5, 1.5))
    )
    mi = adult_in_window & (rng.random(n) < np.minimum(MI_RATE * risk**0.6 * _sex_factor(dyn.sex, 1.2, 0.85), 0.6))
    mi |= rev
    p_alc = ALCOHOL_RATE * risk * _sex_factor(dyn.sex, 0.6, 1.5) * np.where(mi, 2.0, 1.0)
    alc = adult_in_window & (age0 < 80) & (rng.random(n) < np.minimum(p_alc, 0.6))
    p_drug = DRUG_RATE * risk**1.3 * _sex_factor(dyn.sex, 0.5, 1.6) * np.where(mi, 2.5, 1.0)
    drug = adult_in_window & (age0 < 60) & (rng.random(n) < np.minimum(p_drug, 0.6))
    needs_substance = rev & ~alc & ~drug
    drug |= needs_substance & (rng.random(n) < 0.7)
    alc |= needs_substance & ~drug
    parts = []
    for kind, mask, prevalent, chronic, mean in (
        (MENTAL_ILLNESS, mi, 0.65, 0.55, 2.5),
        (ALCOHOL, alc, 0.7, 0.5, 3.0),
        (DRUGS, drug, 0.7, 0.5, 3.0),
    ):
        pid = np.flatnonzero(mask).astype(np.int64)
        chronic_p = np.where(rev[pid], 1.0, chronic)
        p, s, e = _periods(rng, pid, adult_from, prevalent=prevalent, chronic=chronic_p, mean_years=mean)
        if kind == DRUGS:
            mix = choice(rng, len(p), [w for _, w in DRUG_MIX])
            sub = ints([SUBSTANCE[name] for name, _ in DRUG_MIX])[mix]
        else:
            sub = np.full(len(p), SUBSTANCE["alcohol"] if kind == ALCOHOL else -1, dtype=np.int64)
        parts.append((p, np.full(len(p), kind, dtype=np.int64), s, e, sub))
    cols = [np.concatenate([part[i] for part in parts]) for i in range(5)]
    order = np.lexsort((cols[2], cols[1], cols[0]))
    cond = Conditions(*(c[order].astype(np.int64) for c in cols))
    return cond, rev


def _crises(rng: np.random.Generator, cond: Conditions, prone: BoolArray, rev: BoolArray) -> tuple[IntArray, IntArray]:
    mi = (cond.kind == MENTAL_ILLNESS) & prone[cond.pid]
    pid = cond.pid[mi]
    rate = np.where(rev[pid], 1.5, CRISES_PER_YEAR) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, np.maximum(cond.start[mi], T0), cond.end[mi])
    return pid[row], day


def _abuse_incidents(rng: np.random.Generator, dyn: Dynamics) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    has = dyn.cp_da_start != NO_DAY
    c = np.flatnonzero(has).astype(np.int64)
    start = np.maximum(np.maximum(dyn.cp_da_start[c], dyn.cp_start[c]), T0)
    row, day = poisson_times(rng, np.full(len(c), DA_INCIDENTS_PER_YEAR / DAYS_PER_YEAR), start, dyn.cp_end[c])
    couple = c[row]
    victim = dyn.cp_victim[couple]
    perp = np.where(dyn.cp_a[couple] == victim, dyn.cp_b[couple], dyn.cp_a[couple])
    return couple, day, victim, perp


def draw_offences(rng: np.random.Generator, n: int, mix: tuple[tuple[str, int], ...]) -> IntArray:
    return ints([OFFENCE[name] for name, _ in mix])[choice(rng, n, [w for _, w in mix])]


def _arrests(
    rng: np.random.Generator, dyn: Dynamics, risk: FloatArray, rev: BoolArray, drug_users: BoolArray
) -> tuple[BoolArray, IntArray, IntArray, IntArray, IntArray]:
    n = len(dyn.sex)
    age0 = (T0 - dyn.dob) / DAYS_PER_YEAR
    age_factor = np.select([age0 < 15, age0 < 25, age0 < 35, age0 < 50], [1.2, 2.0, 1.3, 0.7], 0.15)
    p = OFFENDER_RATE * risk * _sex_factor(dyn.sex, 0.3, 1.7) * age_factor * np.where(drug_users, 3.0, 1.0)
    offender = (age0 >= 12) & (age0 < 75) & (rng.random(n) < np.minimum(p, 0.5)) & ~rev
    pid = np.flatnonzero(offender | rev).astype(np.int64)
    rate = np.where(rev[pid], REVOLVING_ARRESTS_PER_YEAR, ARRESTS_PER_YEAR) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, np.maximum(T0, dyn.dob[pid] + years(16)), np.full(len(pid), T1))
    who = pid[row]
    is_rev = rev[who]
    offence = np.where(
        is_rev, draw_offences(rng, len(who), REVOLVING_OFFENCES), draw_offences(rng, len(who), ORDINARY_OFFENCES)
    )
    source = np.where(is_rev, ARREST_REVOLVING, ARREST_ORDINARY).astype(np.int64)
    return offender, who, day, offence, source


def _prison(
    rng: np.random.Generator,
    arrest_pid: IntArray,
    arrest_day: IntArray,
    rev: BoolArray,
    da: tuple[IntArray, IntArray, IntArray, IntArray],
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    p = np.where(rev[arrest_pid], REVOLVING_PRISON_AFTER_ARREST, PRISON_AFTER_ARREST)
    jailed = rng.random(len(arrest_pid)) < p
    pid, day = arrest_pid[jailed], arrest_day[jailed]
    n = len(pid)
    remand = rng.random(n) < 0.15
    band = choice(rng, n, (0.6, 0.3, 0.1))
    lo, hi = ints([14, 120, 540])[band], ints([120, 540, 1500])[band]
    length = np.where(remand, rng.integers(20, 120, size=n), lo + (rng.random(n) * (hi - lo)).astype(np.int64))
    start = day + np.where(remand, 1, rng.integers(30, 180, size=n))
    # Some perpetrators of domestic abuse go to prison during the abusive relationship.
    couple, da_day, _, perp = da
    first = np.unique(couple, return_index=True)[1]
    chosen = first[rng.random(len(first)) < DA_PRISON]
    pid = np.concatenate([pid, perp[chosen]])
    start = np.concatenate([start, da_day[chosen] + rng.integers(30, 120, size=len(chosen))])
    length = np.concatenate([length, rng.integers(180, 900, size=len(chosen))])
    remand = np.concatenate([remand, np.zeros(len(chosen), dtype=bool)])
    keep = start < T1
    pid, start, end, remand = pid[keep], start[keep], np.minimum(start + length, T1 + 4000)[keep], remand[keep]
    return _without_overlaps(pid, start, end, remand)


def _without_overlaps(
    pid: IntArray, start: IntArray, end: IntArray, remand: BoolArray
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Drop prison periods that begin while the same person is already inside."""
    order = np.lexsort((start, pid))
    keep = np.zeros(len(order), dtype=bool)
    last_pid, last_end = -1, -(10**9)
    for k, i in enumerate(order.tolist()):
        if pid[i] != last_pid or start[i] >= last_end:
            keep[k] = True
            last_pid, last_end = int(pid[i]), int(end[i])
    o = order[keep]
    return pid[o], start[o], end[o], remand[o]


def _outside_prison(
    arrest_pid: IntArray, arrest_day: IntArray, prison: tuple[IntArray, IntArray, IntArray]
) -> BoolArray:
    """Arrests that do not fall while the person is in prison."""
    pid, start, end = prison
    if len(pid) == 0:
        return np.ones(len(arrest_pid), dtype=bool)
    order = np.lexsort((start, pid))
    big = np.int64(1) << 32
    key = pid[order] * big + start[order]
    idx = np.searchsorted(key, arrest_pid * big + arrest_day, side="left") - 1
    ok = idx >= 0
    i = order[np.maximum(idx, 0)]
    inside = ok & (pid[i] == arrest_pid) & (arrest_day < end[i]) & (arrest_day > start[i])
    return np.asarray(~inside, dtype=bool)


def build_adults(seed: np.random.SeedSequence, dyn: Dynamics, res: Residence) -> Adults:
    """The adult events of the window, each stage from its own random stream."""
    risk = person_risk(dyn, res)
    r = [np.random.default_rng(s) for s in seed.spawn(6)]
    cond, rev = _conditions(r[0], dyn, risk)
    n = len(dyn.sex)
    prone = np.zeros(n, dtype=bool)
    mi_pid = cond.pid[cond.kind == MENTAL_ILLNESS]
    prone[mi_pid] = r[1].random(len(mi_pid)) < np.minimum(CRISIS_PRONE * risk[mi_pid] ** 0.5, 0.6)
    prone |= rev
    crisis_pid, crisis_day = _crises(r[2], cond, prone, rev)
    da = _abuse_incidents(r[3], dyn)
    drug_users = np.zeros(n, dtype=bool)
    drug_users[cond.pid[cond.kind == DRUGS]] = True
    offender, a_pid, a_day, a_off, a_src = _arrests(r[4], dyn, risk, rev, drug_users)
    prison = _prison(r[5], a_pid, a_day, rev, da)
    free = _outside_prison(a_pid, a_day, prison[:3])
    return Adults(
        cond=cond,
        crisis_prone=prone,
        revolving=rev,
        offender=offender,
        crisis_pid=crisis_pid,
        crisis_day=crisis_day,
        da_couple=da[0],
        da_day=da[1],
        da_victim=da[2],
        da_perp=da[3],
        prison_pid=prison[0],
        prison_start=prison[1],
        prison_end=prison[2],
        prison_remand=prison[3],
        arrest_pid=a_pid[free],
        arrest_day=a_day[free],
        arrest_offence=a_off[free],
        arrest_source=a_src[free],
    )
