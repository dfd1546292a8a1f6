"""Children's lives: what their households expose them to, and abuse and neglect.

Hazards are set from the Welsh ACE study (Bellis et al., 2015: 23 % verbal/emotional abuse,
17 % physical abuse, 10 % sexual abuse over a whole childhood) and, for neglect, which the
Welsh study did not ask about, the CDC-Kaiser study (about 10 % physical and 15 % emotional
neglect). A childhood prevalence p over 18 years gives a yearly hazard of -ln(1-p)/18; each
child's hazard is scaled by the household multiplier and by what the household holds
(substance misuse x2.5, mental illness x2, domestic abuse x3), renormalised so the average
child keeps the published hazard. Abuse lasts a while (1-3 years on average) and often
touches brothers and sisters too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.adults import ALCOHOL, DRUGS, MENTAL_ILLNESS, Adults
from commonground.synth.arrays import FloatArray, IntArray, join_intervals, merge_intervals, poisson_times
from commonground.synth.dynamics import Dynamics
from commonground.synth.residence import Pairs, Residence
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, T0, T1, years

PHYSICAL, EMOTIONAL, SEXUAL, NEGLECT, EMOTIONAL_NEGLECT = range(5)
MALTREATMENT = (
    # kind, childhood prevalence, mean duration (years), share of siblings also harmed
    (PHYSICAL, 0.17, 1.5, 0.5),
    (EMOTIONAL, 0.23, 2.5, 0.5),
    (SEXUAL, 0.10, 1.0, 0.15),
    (NEGLECT, 0.10, 3.0, 0.8),
    (EMOTIONAL_NEGLECT, 0.15, 3.0, 0.6),
)


@dataclass(frozen=True)
class Harm:
    """Periods of abuse or neglect of a child."""

    pid: IntArray
    kind: IntArray
    start: IntArray
    end: IntArray


@dataclass(frozen=True)
class HouseholdFlags:
    """For each person: whether, as a child, they lived with each kind of adult adversity."""

    substance: np.ndarray
    mental_illness: np.ndarray
    domestic_abuse: np.ndarray


def household_flags(dyn: Dynamics, adults: Adults, pairs: Pairs) -> HouseholdFlags:
    n = len(dyn.sex)
    c = adults.cond
    li, rj, _, _ = join_intervals(pairs.adult, pairs.start, pairs.end, c.pid, c.start, c.end)
    kind = c.kind[rj]
    flags = [np.zeros(n, dtype=bool) for _ in range(3)]
    flags[0][pairs.child[li[(kind == ALCOHOL) | (kind == DRUGS)]]] = True
    flags[1][pairs.child[li[kind == MENTAL_ILLNESS]]] = True
    da_pid, da_start, da_end = da_periods(dyn)
    li, _, _, _ = join_intervals(pairs.adult, pairs.start, pairs.end, da_pid, da_start, da_end)
    flags[2][pairs.child[li]] = True
    return HouseholdFlags(*flags)


def da_periods(dyn: Dynamics) -> tuple[IntArray, IntArray, IntArray]:
    """Abusive relationships as (victim, start, end) periods."""
    has = dyn.cp_da_start != NO_DAY
    start = np.maximum(dyn.cp_da_start[has], dyn.cp_start[has])
    end = dyn.cp_end[has]
    ok = start < end
    return dyn.cp_victim[has][ok], start[ok], end[ok]


def child_multiplier(dyn: Dynamics, risk: FloatArray, flags: HouseholdFlags) -> FloatArray:
    """Relative hazard of harm for each child, averaging 1 over the children of the area."""
    m = risk * (1 + 1.5 * flags.substance + 1.0 * flags.mental_illness + 2.0 * flags.domestic_abuse)
    is_child = dyn.dob + years(18) > T0
    mean = float(m[is_child].mean()) if is_child.any() else 1.0
    return np.asarray(m / mean, dtype=np.float64)


def build_harm(rng: np.random.Generator, dyn: Dynamics, res: Residence, m: FloatArray) -> Harm:
    n = len(dyn.sex)
    pid = np.arange(n, dtype=np.int64)
    adult_on = dyn.dob + years(18)
    child = adult_on > T0
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    for kind, prevalence, duration, sibling_share in MALTREATMENT:
        hazard = -np.log(1 - prevalence) / 18 * m
        k = pid[child]
        # Already going on at the window start.
        age0 = np.maximum(T0 - dyn.dob[k], 0)
        ongoing = (dyn.dob[k] < T0) & (rng.random(len(k)) < np.minimum(hazard[k] * duration, 0.6))
        k0 = k[ongoing]
        s0 = T0 - (rng.random(len(k0)) * np.minimum(age0[ongoing], years(duration))).astype(np.int64)
        e0 = T0 + (rng.exponential(duration, size=len(k0)) * DAYS_PER_YEAR).astype(np.int64)
        # Beginning during the window.
        row, s1 = poisson_times(rng, hazard[k] / DAYS_PER_YEAR, np.maximum(dyn.dob[k], T0), np.minimum(adult_on[k], T1))
        k1 = k[row]
        e1 = s1 + 30 + (rng.exponential(duration, size=len(k1)) * DAYS_PER_YEAR).astype(np.int64)
        who = np.concatenate([k0, k1])
        start = np.concatenate([s0, s1])
        end = np.concatenate([e0, e1])
        sib, sib_start, sib_end = _siblings(rng, res, dyn, who, start, end, sibling_share)
        who = np.concatenate([who, sib])
        start = np.maximum(np.concatenate([start, sib_start]), dyn.dob[who])
        end = np.minimum(np.concatenate([end, sib_end]), adult_on[who])
        ok = start < end
        parts.append((who[ok], np.full(int(ok.sum()), kind, dtype=np.int64), start[ok], end[ok]))
    all_who = np.concatenate([p[0] for p in parts])
    all_kind = np.concatenate([p[1] for p in parts])
    first, merged_start, merged_end = merge_intervals(
        [all_who, all_kind], np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts])
    )
    return Harm(pid=all_who[first], kind=all_kind[first], start=merged_start, end=merged_end)


def _siblings(
    rng: np.random.Generator, res: Residence, dyn: Dynamics, who: IntArray, start: IntArray, end: IntArray, share: float
) -> tuple[IntArray, IntArray, IntArray]:
    """Other children of the household harmed at the same time (with probability ``share``)."""
    seg = res.seg_at(who, np.maximum(start, T0))
    owner, other = res.members_of(seg)
    day = np.maximum(start[owner], T0)
    is_child = (other != who[owner]) & (dyn.dob[other] + years(18) > day) & (dyn.dob[other] <= day)
    keep = is_child & (rng.random(len(owner)) < share)
    return other[keep], start[owner][keep], end[owner][keep]
