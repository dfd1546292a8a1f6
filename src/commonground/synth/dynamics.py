"""Six years of household change: moves, separations, new partners, marriages, births, leaving home.

The simulation walks through the window day by day in event order (a heap), changing who lives
with whom and where. Each time a household's members or address change, the spell it was in
is closed: the output is a list of household *segments* (household, dwelling, start, end,
members) in which nothing changed. Everything else (addresses at a date, who a child lived
with) is read from these segments.

Rates (per year): moves 3-15 % by household type (English Housing Survey: about one household
in ten moves each year, private renters far more than owners); couple separation 0.6-3 %,
three times higher where there is domestic abuse; lone parents and single adults find a new
partner at about 6 %; cohabiting couples marry at 4 %, and most wives take the husband's name;
births follow the ONS age-specific fertility rates (total fertility about 1.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.arrays import FloatArray, IntArray, ints
from commonground.synth.population import (
    ADULT_A,
    Population,
)
from commonground.synth.simulation import (
    ASFR,
    BIRTH,
    BIRTH_FACTOR_ALONE,
    BIRTH_FACTOR_IN_COUPLE,
    LEAVE_HOME,
    LEAVE_HOME_RATE,
    MARRY,
    MARRY_RATE,
    MOVE,
    MOVE_RATE,
    PARTNER,
    PARTNER_RATE,
    SEPARATION_RATE,
    Simulation,
    draw_days,
)
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, T0, T1, years


@dataclass
class Dynamics:
    """Everyone who lived in the area (including babies born in the window) and their households."""

    n_start: int
    sex: IntArray
    dob: IntArray
    group: IntArray
    family: IntArray
    family_later: IntArray
    family_changed: IntArray
    mother: IntArray
    father: IntArray
    seg_hh: IntArray
    seg_dw: IntArray
    seg_start: IntArray
    seg_end: IntArray
    mem_ptr: IntArray
    mem_pid: IntArray
    hh_since: IntArray
    cp_a: IntArray
    cp_b: IntArray
    cp_start: IntArray
    cp_end: IntArray
    cp_da_start: IntArray
    cp_victim: IntArray
    sep_day: IntArray
    sep_leaver: IntArray
    sep_stayer: IntArray
    hh_risk: FloatArray


def simulate(rng: np.random.Generator, pop: Population, hh_risk: FloatArray, n_dwellings: int) -> Dynamics:
    """Play the window through from the households at its start."""
    sim = Simulation(rng, pop, hh_risk, n_dwellings)
    _schedule_start(rng, sim, pop)
    sim.run()
    return _collect(sim, pop)


def _schedule_start(rng: np.random.Generator, sim: Simulation, pop: Population) -> None:
    n_hh = len(pop.hh_type)
    types = pop.hh_type.tolist()
    move_rate = np.array([MOVE_RATE[t] for t in types])
    gaps = np.cumsum(draw_days(rng, np.repeat(move_rate, 3), 3 * n_hh).reshape(n_hh, 3), axis=1)
    for hh, t in zip(np.repeat(np.arange(n_hh), 3).tolist(), (T0 + gaps.ravel()).tolist(), strict=True):
        if t < T1:
            sim.push(t, MOVE, hh)
    # Couples at the start (adult A with partner B in the same household).
    a_rows = np.flatnonzero((pop.role == ADULT_A) & (pop.partner >= 0))
    for a in a_rows.tolist():
        b = sim.partner[a]
        hh = sim.hh_of[a]
        da, victim = sim.abuse(a, b, sim.hh_risk[hh], sim.since[hh])
        sim.start_couple(a, b, sim.since[hh], SEPARATION_RATE.get(types[hh], 0.02), da, victim)
        if not sim.married[a]:
            sim.push(T0 + sim.gap(MARRY_RATE), MARRY, len(sim.cp["a"]) - 1)
    # Single adults and lone parents look for partners.
    heads = np.flatnonzero(
        (pop.role == ADULT_A) & (pop.partner < 0) & (pop.dob > T0 - years(55)) & (pop.dob < T0 - years(18))
    )
    for pid in heads.tolist():
        sim.push(T0 + sim.gap(PARTNER_RATE), PARTNER, sim.hh_of[pid])
        if len(sim.members[sim.hh_of[pid]]) == 1:
            sim.add_single(pid)
    _schedule_births(rng, sim, pop)
    _schedule_leaving(rng, sim, pop)


def _schedule_births(rng: np.random.Generator, sim: Simulation, pop: Population) -> None:
    women = np.flatnonzero((pop.sex == 0) & (pop.dob > T0 - years(46)) & (pop.dob < T0 - years(12)))
    age_mid = (T0 + years(3) - pop.dob[women]) / DAYS_PER_YEAR
    rate = np.zeros(len(women))
    for lo, hi, r in ASFR:
        rate[(age_mid >= lo) & (age_mid < hi)] = r
    rate *= np.where(pop.partner[women] >= 0, BIRTH_FACTOR_IN_COUPLE, BIRTH_FACTOR_ALONE)
    n = rng.poisson(rate * (T1 - T0) / DAYS_PER_YEAR)
    for w, k in zip(women.tolist(), n.tolist(), strict=True):
        if k == 0:
            continue
        days = np.sort(rng.integers(T0, T1, size=k)).tolist()
        last = -(10**9)
        for d in days:
            if d - last >= 300 and d - sim.dob[w] < years(47):
                sim.push(d, BIRTH, w)
                last = d


def _schedule_leaving(rng: np.random.Generator, sim: Simulation, pop: Population) -> None:
    grown = np.flatnonzero(pop.role >= 2)
    adult_on = np.maximum(pop.dob[grown] + years(18), T0)
    when = adult_on + draw_days(rng, LEAVE_HOME_RATE, len(grown))
    for pid, d in zip(grown.tolist(), when.tolist(), strict=True):
        sim.push(d, LEAVE_HOME, pid)


def _collect(sim: Simulation, pop: Population) -> Dynamics:
    o = sim.out_seg
    count = ints(o["count"])
    n = len(sim.sex)
    changed = np.full(n, NO_DAY, dtype=np.int64)
    later = ints(sim.family).copy()
    for pid, (day, fam) in sim.changed.items():
        changed[pid], later[pid] = day, fam
    return Dynamics(
        n_start=pop.size,
        sex=ints(sim.sex),
        dob=ints(sim.dob),
        group=ints(sim.group),
        family=ints(sim.family),
        family_later=later,
        family_changed=changed,
        mother=ints(sim.mother),
        father=ints(sim.father),
        seg_hh=ints(o["hh"]),
        seg_dw=ints(o["dw"]),
        seg_start=ints(o["start"]),
        seg_end=ints(o["end"]),
        mem_ptr=np.concatenate([[0], np.cumsum(count)]).astype(np.int64),
        mem_pid=ints(sim.out_mem),
        hh_since=ints(sim.since),
        cp_a=ints(sim.cp["a"]),
        cp_b=ints(sim.cp["b"]),
        cp_start=ints(sim.cp["start"]),
        cp_end=ints(sim.cp["end"]),
        cp_da_start=ints(sim.cp["da"]),
        cp_victim=ints(sim.cp["victim"]),
        sep_day=ints(sim.sep["day"]),
        sep_leaver=ints(sim.sep["leaver"]),
        sep_stayer=ints(sim.sep["stayer"]),
        hh_risk=np.asarray(sim.hh_risk, dtype=np.float64),
    )
