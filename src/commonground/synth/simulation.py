"""The household simulation's state and its event handlers (see :mod:`commonground.synth.dynamics`).

Rates (per year): moves 3-20 % by household type (English Housing Survey: about one household
in ten moves each year, private renters far more than owners); couple separation 0.6-3 %,
three times higher where there is domestic abuse; lone parents and single adults find a new
partner at about 6 %; cohabiting couples marry at 4 %, and most wives take the husband's name;
births follow the ONS age-specific fertility rates (total fertility about 1.5).
"""

from __future__ import annotations

import heapq
from array import array

import numpy as np

from commonground.synth.arrays import FloatArray, IntArray
from commonground.synth.population import (
    COUPLE_GROWN,
    COUPLE_KIDS,
    COUPLE_OLD,
    COUPLE_YOUNG,
    LONE_KIDS,
    SHARED,
    SINGLE_OLD,
    SINGLE_YOUNG,
    Population,
)
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, T0, T1, years

MOVE_RATE = {
    SINGLE_YOUNG: 0.14,
    SINGLE_OLD: 0.03,
    COUPLE_YOUNG: 0.12,
    COUPLE_OLD: 0.03,
    COUPLE_KIDS: 0.07,
    COUPLE_GROWN: 0.04,
    LONE_KIDS: 0.12,
    7: 0.05,
    SHARED: 0.2,
}
SEPARATION_RATE = {COUPLE_YOUNG: 0.03, COUPLE_OLD: 0.006, COUPLE_KIDS: 0.025, COUPLE_GROWN: 0.012}
NEW_COUPLE_SEPARATION_RATE = 0.045
DA_SEPARATION_FACTOR = 3.0
DA_PREVALENCE = 0.05  # couples already in an abusive relationship at the start (times household risk)
DA_INCIDENCE = 0.01  # per couple-year
PARTNER_RATE = 0.06
MARRY_RATE = 0.04
NEW_COUPLE_MARRY_RATE = 0.06
TAKES_NAME = 0.85
LEAVE_HOME_RATE = 0.12
ASFR = ((16, 20, 0.012), (20, 25, 0.045), (25, 30, 0.08), (30, 35, 0.10), (35, 40, 0.058), (40, 46, 0.013))
"""Births per woman-year by age (ONS births in England and Wales, 2021-22, rounded)."""
BIRTH_FACTOR_IN_COUPLE = 1.35
BIRTH_FACTOR_ALONE = 0.35

MOVE, SEPARATE, PARTNER, MARRY, BIRTH, LEAVE_HOME = range(6)


def draw_days(rng: np.random.Generator, rate: float | FloatArray, n: int) -> IntArray:
    """Days (from now) to the next event of a Poisson process of ``rate`` per year."""
    r = np.maximum(np.asarray(rate, dtype=np.float64), 1e-9)
    return (rng.exponential(1.0, size=n) / r * DAYS_PER_YEAR).astype(np.int64)


class Simulation:
    """The state of the area while the window is played through."""

    def __init__(self, rng: np.random.Generator, pop: Population, hh_risk: FloatArray, n_dwellings: int) -> None:
        self.rng = rng
        self.hh_risk = hh_risk.tolist()
        self.sex = pop.sex.tolist()
        self.dob = pop.dob.tolist()
        self.group = pop.group.tolist()
        self.family = pop.family.tolist()
        self.mother = pop.mother.tolist()
        self.father = pop.father.tolist()
        self.partner = pop.partner.tolist()
        self.married = pop.married.tolist()
        self.hh_of = pop.hh.tolist()
        self.role = pop.role.tolist()
        n_hh = len(pop.hh_type)
        bounds = np.searchsorted(pop.hh, np.arange(n_hh + 1)).tolist()
        self.members: list[list[int]] = [list(range(bounds[i], bounds[i + 1])) for i in range(n_hh)]
        self.head = [bounds[i] for i in range(n_hh)]
        self.dwelling = pop.hh_dwelling.tolist()
        self.seg_open = [T0] * n_hh
        self.since = pop.hh_since.tolist()
        used = set(self.dwelling)
        self.free = [d for d in range(n_dwellings) if d not in used]
        self.changed: dict[int, tuple[int, int]] = {}
        self.pending: list[tuple[int, int, int, int, int]] = []
        self.running = False
        self.heap: list[tuple[int, int, int, int, int]] = []
        self.seq = 0
        self.out_seg: dict[str, array[int]] = {k: array("q") for k in ("hh", "dw", "start", "end", "count")}
        self.out_mem: array[int] = array("q")
        self.cp: dict[str, list[int]] = {k: [] for k in ("a", "b", "start", "end", "da", "victim")}
        self.couple_of: dict[int, int] = {}
        self.sep: dict[str, list[int]] = {k: [] for k in ("day", "leaver", "stayer")}
        self.singles: dict[tuple[int, int], list[int]] = {}
        self.buffer: list[float] = []
        self.uniform: list[float] = []

    def gap(self, rate: float) -> int:
        """Days to the next event of a Poisson process of ``rate`` per year."""
        if not self.buffer:
            self.buffer = self.rng.exponential(1.0, size=65_536).tolist()
        return int(self.buffer.pop() / max(rate, 1e-9) * DAYS_PER_YEAR)

    # -- bookkeeping -------------------------------------------------------------------------

    def push(self, day: int, kind: int, x: int, y: int = -1) -> None:
        """Schedule an event: before the run into a list sorted once, during it into a heap."""
        if T0 <= day < T1:
            self.seq += 1
            if self.running:
                heapq.heappush(self.heap, (day, self.seq, kind, x, y))
            else:
                self.pending.append((day, self.seq, kind, x, y))

    def close(self, hh: int, day: int) -> None:
        """End the household's current segment on ``day`` (if it has lasted at least a day)."""
        if day > self.seg_open[hh] and self.members[hh]:
            o = self.out_seg
            o["hh"].append(hh)
            o["dw"].append(self.dwelling[hh])
            o["start"].append(self.seg_open[hh])
            o["end"].append(day)
            o["count"].append(len(self.members[hh]))
            self.out_mem.extend(self.members[hh])
        self.seg_open[hh] = day

    def new_household(self, day: int, pid: int) -> int | None:
        """A new household for ``pid`` in a free dwelling (None when none is free)."""
        dw = self.take_dwelling()
        if dw is None:
            return None
        hh = len(self.members)
        self.members.append([pid])
        self.head.append(pid)
        self.dwelling.append(dw)
        self.seg_open.append(day)
        self.since.append(day)
        self.hh_risk.append(self.hh_risk[self.hh_of[pid]])
        self.hh_of[pid] = hh
        self.schedule_household(hh, day, MOVE_RATE[SINGLE_YOUNG])
        return hh

    def take_dwelling(self) -> int | None:
        if not self.free:
            return None
        if not self.uniform:
            self.uniform = self.rng.random(65_536).tolist()
        i = int(self.uniform.pop() * len(self.free))
        self.free[i], self.free[-1] = self.free[-1], self.free[i]
        return self.free.pop()

    def schedule_household(self, hh: int, day: int, move_rate: float) -> None:
        t = day
        for _ in range(4):
            t += self.gap(move_rate)
            self.push(t, MOVE, hh)
        if self.partner[self.head[hh]] < 0 and day - self.dob[self.head[hh]] < years(55):
            self.push(day + self.gap(PARTNER_RATE), PARTNER, hh)
            self.add_single(self.head[hh])

    def add_single(self, pid: int) -> None:
        key = (self.sex[pid], (T0 - self.dob[pid]) // years(5))
        self.singles.setdefault(key, []).append(pid)

    def start_couple(self, a: int, b: int, start: int, rate_sep: float, da_start: int, victim: int) -> None:
        c = len(self.cp["a"])
        for k, v in (("a", a), ("b", b), ("start", start), ("end", T1), ("da", da_start), ("victim", victim)):
            self.cp[k].append(v)
        self.couple_of[a] = self.couple_of[b] = c
        self.partner[a], self.partner[b] = b, a
        factor = DA_SEPARATION_FACTOR if da_start != NO_DAY else 1.0
        self.push(max(start, T0) + self.gap(rate_sep * factor), SEPARATE, c)

    def abuse(self, a: int, b: int, risk: float, now: int) -> tuple[int, int]:
        """Whether and from when a couple's relationship is abusive, and who is the victim.

        A couple together at the start may already be abusive (``now`` before the window).
        """
        u = self.rng.random(3)
        if now < T0 and u[0] < min(DA_PREVALENCE * risk, 0.5):
            start = max(now, T0 - int(u[1] * DAYS_PER_YEAR * 3))
        else:
            start = max(now, T0) + self.gap(DA_INCIDENCE * risk)
        if start >= T1:
            return int(NO_DAY), -1
        if self.sex[a] != self.sex[b]:
            woman, man = (a, b) if self.sex[a] == 0 else (b, a)
            victim = woman if u[2] < 0.75 else man
        else:
            victim = a if u[2] < 0.5 else b
        return start, victim

    # -- events ------------------------------------------------------------------------------

    def on_move(self, day: int, hh: int) -> None:
        if not self.members[hh]:
            return
        dw = self.take_dwelling()
        if dw is None:
            return
        self.close(hh, day)
        self.free.append(self.dwelling[hh])
        self.dwelling[hh] = dw

    def on_separate(self, day: int, c: int) -> None:
        a, b = self.cp["a"][c], self.cp["b"][c]
        if self.cp["end"][c] < T1 or self.hh_of[a] != self.hh_of[b]:
            return
        hh = self.hh_of[a]
        if self.sex[a] != self.sex[b]:
            man = a if self.sex[a] == 1 else b
            leaver = man if self.rng.random() < 0.85 else (a if man == b else b)
        else:
            leaver = a if self.rng.random() < 0.5 else b
        stayer = b if leaver == a else a
        if not self.free:
            return
        self.close(hh, day)
        self.cp["end"][c] = day
        self.partner[a] = self.partner[b] = -1
        self.married[a] = self.married[b] = False
        self.new_household(day, leaver)
        self.members[hh].remove(leaver)
        self.head[hh] = stayer
        for k, v in (("day", day), ("leaver", leaver), ("stayer", stayer)):
            self.sep[k].append(v)
        if day - self.dob[stayer] < years(55):
            self.push(day + self.gap(PARTNER_RATE), PARTNER, hh)
            if len(self.members[hh]) == 1:
                self.add_single(stayer)

    def find_single(self, seeker: int, day: int) -> int:
        want_sex = 1 - self.sex[seeker] if self.rng.random() > 0.03 else self.sex[seeker]
        band = (T0 - self.dob[seeker]) // years(5)
        for _ in range(6):
            key = (want_sex, band + int(self.rng.integers(-1, 2)))
            pool = self.singles.get(key)
            if not pool:
                continue
            i = int(self.rng.integers(len(pool)))
            pool[i], pool[-1] = pool[-1], pool[i]
            cand = pool.pop()
            hh = self.hh_of[cand]
            if (
                cand != seeker
                and self.partner[cand] < 0
                and len(self.members[hh]) == 1
                and hh != self.hh_of[seeker]
                and self.dob[cand] < day - years(18)
            ):
                return cand
        return -1

    def on_partner(self, day: int, hh: int) -> None:
        seeker = self.head[hh]
        if not self.members[hh] or self.partner[seeker] >= 0 or self.hh_of[seeker] != hh:
            return
        cand = self.find_single(seeker, day)
        if cand < 0:
            return
        old = self.hh_of[cand]
        self.close(old, day)
        self.members[old] = []
        self.free.append(self.dwelling[old])
        self.close(hh, day)
        self.members[hh].append(cand)
        self.hh_of[cand] = hh
        da, victim = self.abuse(seeker, cand, self.hh_risk[hh], day)
        self.start_couple(seeker, cand, day, NEW_COUPLE_SEPARATION_RATE, da, victim)
        self.push(day + self.gap(NEW_COUPLE_MARRY_RATE), MARRY, len(self.cp["a"]) - 1)

    def on_marry(self, day: int, c: int) -> None:
        a, b = self.cp["a"][c], self.cp["b"][c]
        if self.cp["end"][c] < T1 or self.married[a]:
            return
        self.married[a] = self.married[b] = True
        if self.sex[a] == self.sex[b] or self.rng.random() > TAKES_NAME:
            return
        woman, man = (a, b) if self.sex[a] == 0 else (b, a)
        if self.family[woman] != self.family[man] and woman not in self.changed:
            self.changed[woman] = (day, self.family[man])

    def current_family(self, pid: int, day: int) -> int:
        change = self.changed.get(pid)
        return change[1] if change is not None and change[0] <= day else self.family[pid]

    def on_birth(self, day: int, mum: int) -> None:
        hh = self.hh_of[mum]
        if not self.members[hh]:
            return
        dad = self.partner[mum] if self.partner[mum] >= 0 and self.sex[self.partner[mum]] == 1 else -1
        fam = (
            self.current_family(dad, day)
            if dad >= 0 and (self.married[mum] or self.rng.random() < 0.6)
            else self.current_family(mum, day)
        )
        baby = len(self.sex)
        self.sex.append(int(self.rng.integers(2)))
        self.dob.append(day)
        self.group.append(self.group[mum])
        self.family.append(fam)
        self.mother.append(mum)
        self.father.append(dad)
        self.partner.append(-1)
        self.married.append(False)
        self.hh_of.append(hh)
        self.role.append(2)
        self.close(hh, day)
        self.members[hh].append(baby)

    def on_leave_home(self, day: int, pid: int) -> None:
        hh = self.hh_of[pid]
        if self.partner[pid] >= 0 or self.head[hh] == pid or len(self.members[hh]) < 2:
            return
        self.close(hh, day)
        if self.new_household(day, pid) is None:
            return
        self.members[hh].remove(pid)

    def run(self) -> None:
        """Play every event in (day, order scheduled) order: the sorted start list merged with the heap."""
        handlers = (self.on_move, self.on_separate, self.on_partner, self.on_marry, self.on_birth, self.on_leave_home)
        self.running = True
        pending, heap = sorted(self.pending), self.heap
        i, n = 0, len(pending)
        while i < n or heap:
            if heap and (i >= n or heap[0] < pending[i]):
                day, _, kind, x, _ = heapq.heappop(heap)
            else:
                day, _, kind, x, _ = pending[i]
                i += 1
            handlers[kind](day, x)
        for hh in range(len(self.members)):
            self.close(hh, T1)
