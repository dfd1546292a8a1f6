"""The truth about exposures: every adult condition and every childhood adversity that really happened.

For children each row names the ACE it constitutes (``ace.*``). Household ACEs come from who
lived with whom: a child is exposed to an adult's mental illness, substance misuse, prison
sentence or abusive relationship for as long as they lived in the same household while it
lasted (a parent in prison still counts as a member of the household). Parental separation
is the day a parent left; for children living with a lone parent at the window start, a
separation before the window is dated by the model (most lone-parent families follow one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.adults import ALCOHOL, DRUGS, MENTAL_ILLNESS, Adults
from commonground.synth.arrays import IntArray, ints, join_intervals, merge_intervals
from commonground.synth.children import Harm, da_periods
from commonground.synth.dynamics import Dynamics
from commonground.synth.missing import CCE, Missing
from commonground.synth.population import CHILD, LONE_KIDS, Population
from commonground.synth.residence import Pairs, Residence
from commonground.synth.timeline import NO_DAY, T0, T1, years

ACE_IDS = (
    "ace.physical_abuse",
    "ace.emotional_abuse",
    "ace.sexual_abuse",
    "ace.physical_neglect",
    "ace.emotional_neglect",
    "ace.domestic_abuse",
    "ace.household_substance_misuse",
    "ace.household_mental_illness",
    "ace.parental_separation",
    "ace.household_imprisonment",
)
"""The ten ACEs, by the ids the rule packs use."""

KINDS: tuple[tuple[str, str], ...] = (
    ("mental_illness", ""),
    ("alcohol_misuse", ""),
    ("drug_misuse", ""),
    ("mental_health_crisis", ""),
    ("domestic_abuse_victim", ""),
    ("domestic_abuse_perpetrator", ""),
    ("imprisonment", ""),
    ("revolving_door", ""),
    ("missing", ""),
    ("criminal_exploitation", ""),
    ("sexual_exploitation", ""),
    ("physical_abuse", ACE_IDS[0]),
    ("emotional_abuse", ACE_IDS[1]),
    ("sexual_abuse", ACE_IDS[2]),
    ("physical_neglect", ACE_IDS[3]),
    ("emotional_neglect", ACE_IDS[4]),
    ("domestic_abuse", ACE_IDS[5]),
    ("household_substance_misuse", ACE_IDS[6]),
    ("household_mental_illness", ACE_IDS[7]),
    ("parental_separation", ACE_IDS[8]),
    ("household_imprisonment", ACE_IDS[9]),
)
K = {name: i for i, (name, _) in enumerate(KINDS)}
SEPARATION_BEFORE_WINDOW = 0.85


@dataclass(frozen=True)
class Exposures:
    pid: IntArray
    kind: IntArray
    start: IntArray
    end: IntArray  # T1 or later: still going on at the window end (written blank)
    other: IntArray  # the other person (the adult of a household ACE, the partner in abuse), or -1


class _Rows:
    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []

    def add(
        self, kind: str | IntArray, pid: IntArray, start: IntArray, end: IntArray, other: IntArray | None = None
    ) -> None:
        k = np.full(len(pid), K[kind], dtype=np.int64) if isinstance(kind, str) else kind
        o = np.full(len(pid), -1, dtype=np.int64) if other is None else other
        self.parts.append((pid, k, start, end, o))

    def build(self) -> Exposures:
        cols = [np.concatenate([p[i] for p in self.parts]).astype(np.int64) for i in range(5)]
        order = np.lexsort((cols[4], cols[1], cols[2], cols[0]))
        return Exposures(*(c[order] for c in cols))


def build_exposures(
    rng: np.random.Generator,
    *,
    pop: Population,
    dyn: Dynamics,
    res: Residence,
    pairs: Pairs,
    adults: Adults,
    harm: Harm,
    missing: Missing,
) -> Exposures:
    rows = _Rows()
    c = adults.cond
    cond_kind = ints([K["mental_illness"], K["alcohol_misuse"], K["drug_misuse"]])[c.kind]
    rows.add(cond_kind, c.pid, c.start, c.end)
    rows.add("mental_health_crisis", adults.crisis_pid, adults.crisis_day, adults.crisis_day)
    has = dyn.cp_da_start != NO_DAY
    victim = dyn.cp_victim[has]
    perp = np.where(dyn.cp_a[has] == victim, dyn.cp_b[has], dyn.cp_a[has])
    da_start = np.maximum(dyn.cp_da_start[has], dyn.cp_start[has])
    ok = da_start < dyn.cp_end[has]
    rows.add("domestic_abuse_victim", victim[ok], da_start[ok], dyn.cp_end[has][ok], perp[ok])
    rows.add("domestic_abuse_perpetrator", perp[ok], da_start[ok], dyn.cp_end[has][ok], victim[ok])
    rows.add("imprisonment", adults.prison_pid, adults.prison_start, adults.prison_end)
    rev = np.flatnonzero(adults.revolving).astype(np.int64)
    rows.add("revolving_door", rev, np.full(len(rev), T0), np.full(len(rev), T1))
    rows.add("missing", missing.pid, missing.day, missing.day)
    kind = np.where(missing.exp_kind == CCE, K["criminal_exploitation"], K["sexual_exploitation"]).astype(np.int64)
    rows.add(kind, missing.exp_pid, missing.exp_start, missing.exp_end)
    harm_kind = ints(
        [K["physical_abuse"], K["emotional_abuse"], K["sexual_abuse"], K["physical_neglect"], K["emotional_neglect"]]
    )[harm.kind]
    rows.add(harm_kind, harm.pid, harm.start, harm.end)
    _household(rows, pairs, adults, dyn)
    _separations(rows, dyn, res)
    _separations_before(rng, rows, pop)
    return rows.build()


def _household(rows: _Rows, pairs: Pairs, adults: Adults, dyn: Dynamics) -> None:
    c = adults.cond
    sub = np.where(
        (c.kind == ALCOHOL) | (c.kind == DRUGS),
        K["household_substance_misuse"],
        np.where(c.kind == MENTAL_ILLNESS, K["household_mental_illness"], -1),
    )
    sources = [
        (c.pid, c.start, c.end, sub),
        (
            adults.prison_pid,
            adults.prison_start,
            adults.prison_end,
            np.full(len(adults.prison_pid), K["household_imprisonment"]),
        ),
    ]
    v_pid, v_start, v_end = da_periods(dyn)
    sources.append((v_pid, v_start, v_end, np.full(len(v_pid), K["domestic_abuse"])))
    for pid, start, end, kind in sources:
        li, rj, s, e = join_intervals(pairs.adult, pairs.start, pairs.end, pid, start, end)
        child, adult, k = pairs.child[li], pairs.adult[li], kind[rj].astype(np.int64)
        first, ms, me = merge_intervals([child, adult, k], s, e)
        rows.add(k[first], child[first], ms, me, adult[first])


def _separations(rows: _Rows, dyn: Dynamics, res: Residence) -> None:
    """Children living with a parent on the day before that parent left."""
    before = dyn.sep_day - 1
    seg = res.seg_at(dyn.sep_leaver, before)
    owner, kid = res.members_of(seg)
    leaver = dyn.sep_leaver[owner]
    day = dyn.sep_day[owner]
    is_child = ((dyn.mother[kid] == leaver) | (dyn.father[kid] == leaver)) & (dyn.dob[kid] + years(18) > day)
    rows.add("parental_separation", kid[is_child], day[is_child], day[is_child], leaver[is_child])


def _separations_before(rng: np.random.Generator, rows: _Rows, pop: Population) -> None:
    """Lone-parent families at the start: most follow a separation, dated before the window."""
    lone_hh = np.flatnonzero(pop.hh_type == LONE_KIDS)
    separated = lone_hh[rng.random(len(lone_hh)) < SEPARATION_BEFORE_WINDOW]
    kid = np.flatnonzero(np.isin(pop.hh, separated) & (pop.role == CHILD)).astype(np.int64)
    oldest = np.full(len(pop.hh_type), T0, dtype=np.int64)
    np.minimum.at(oldest, pop.hh[kid], pop.dob[kid])
    span = np.maximum(T0 - 30 - oldest, 1)
    when = oldest + (rng.random(len(oldest)) * span).astype(np.int64)
    day = when[pop.hh[kid]]
    ok = pop.dob[kid] <= day
    rows.add("parental_separation", kid[ok], day[ok], day[ok])
