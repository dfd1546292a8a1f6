"""Referrals to children's social care, with the Children in Need census factors found at assessment.

About 5 % of children are referred each year (DfE *Children in need*: 650,000 referrals a year
for 12 million children); nearly a quarter come from the police. Here referrals come from
abuse and neglect (a minority of which is ever referred: 15-35 % by kind), from domestic-abuse
incidents the police attended with a child present (police notifications), from parental
substance misuse or mental illness, from going missing and exploitation, and from ordinary
concerns with no factor found (code 21). Factor codes follow the census guide: 1 alcohol,
2 drugs, 3 domestic abuse, 4 mental health (a: the child, b: a parent or carer, c: another
person in the household), 10a missing, 11a sexual exploitation, 13a gangs, 16a-19a neglect,
emotional, physical and sexual abuse, 23a criminal exploitation.
"""

from __future__ import annotations

import numpy as np

from commonground.contracts import codes
from commonground.synth.adults import ALCOHOL, DRUGS, MENTAL_ILLNESS
from commonground.synth.arrays import BoolArray, IntArray, ObjArray, blanks, choice, join_intervals, poisson_times
from commonground.synth.children import EMOTIONAL, EMOTIONAL_NEGLECT, NEGLECT, PHYSICAL, SEXUAL, da_periods
from commonground.synth.feedrows import FeedRows, bool_cells, code_cells, sequential_ids
from commonground.synth.identity import finalize
from commonground.synth.missing import CCE
from commonground.synth.police import PoliceSeen
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, SECONDS_PER_DAY, T0, T1, format_days, years
from commonground.synth.world import World

CP = {name: i for i, name in enumerate(codes.CP_PLAN_CATEGORIES)}
HARM_FACTOR = {PHYSICAL: "18a", EMOTIONAL: "17a", SEXUAL: "19a", NEGLECT: "16a", EMOTIONAL_NEGLECT: "16a"}
HARM_CP = {
    PHYSICAL: "physical",
    EMOTIONAL: "emotional",
    SEXUAL: "sexual",
    NEGLECT: "neglect",
    EMOTIONAL_NEGLECT: "emotional",
}
HARM_REFERRED = {PHYSICAL: 0.3, EMOTIONAL: 0.2, SEXUAL: 0.15, NEGLECT: 0.35, EMOTIONAL_NEGLECT: 0.15}
BASELINE_PER_CHILD_YEAR = 0.025
BASELINE_FACTORS = (
    ("21", 40),
    ("6a", 10),
    ("5a", 8),
    ("14a", 8),
    ("4a", 8),
    ("7a", 5),
    ("15a", 5),
    ("24a", 4),
    ("9a", 1),
    ("22a", 0.5),
    ("20", 0.5),
    ("12a", 0.5),
    ("8b", 0.5),
    ("6b", 4),
    ("5b", 3),
)


class _Referrals:
    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, dict[str, BoolArray], IntArray, np.ndarray]] = []

    def add(
        self, pid: IntArray, day: IntArray, factors: dict[str, BoolArray], cp: IntArray, looked_after_p: np.ndarray
    ) -> None:
        self.parts.append((pid, day, factors, cp, np.broadcast_to(looked_after_p, len(pid)).astype(np.float64)))


def _household_factors(
    rng: np.random.Generator, world: World, kid: IntArray, day: IntArray, p: float
) -> dict[str, BoolArray]:
    """Factors about the adults a child lives with on the day, each found with probability ``p``."""
    n = len(kid)
    owner, adult = world.adults_with(kid, day)
    parent = world.dyn.dob[adult] <= world.dyn.dob[kid[owner]] - years(16)
    c = world.adults.cond
    flags: dict[str, BoolArray] = {}
    for digit, kinds in (("1", (ALCOHOL,)), ("2", (DRUGS,)), ("4", (MENTAL_ILLNESS,))):
        sel = np.isin(c.kind, kinds)
        d = day[owner]
        li, _, _, _ = join_intervals(adult, d, d + 1, c.pid[sel], c.start[sel], c.end[sel])
        for letter, who in (("b", parent), ("c", ~parent)):
            f = np.zeros(n, dtype=bool)
            f[owner[li[who[li]]]] = True
            flags[digit + letter] = f & (rng.random(n) < p)
    v_pid, v_start, v_end = da_periods(world.dyn)
    d = day[owner]
    li, _, _, _ = join_intervals(adult, d, d + 1, v_pid, v_start, v_end)
    f = np.zeros(n, dtype=bool)
    f[owner[li]] = True
    flags["3b"] = f & (rng.random(n) < p)
    return flags


def _from_harm(rng: np.random.Generator, world: World, out: _Referrals) -> None:
    h = world.harm
    p = np.array([HARM_REFERRED[int(k)] for k in h.kind]) if len(h.kind) else np.zeros(0)
    sel = np.flatnonzero(rng.random(len(h.pid)) < p)
    span = np.minimum(h.end[sel] - h.start[sel], 365)
    day = np.maximum(h.start[sel], T0) + (rng.random(len(sel)) * np.maximum(span, 1)).astype(np.int64)
    kid, kind = h.pid[sel], h.kind[sel]
    ok = (day < T1) & world.is_child_on(kid, day)
    kid, kind, day = kid[ok], kind[ok], day[ok]
    n = len(kid)
    flags = _household_factors(rng, world, kid, day, 0.5)
    found = rng.random(n) < 0.75
    for k, code in HARM_FACTOR.items():
        flags[code] = flags.get(code, np.zeros(n, dtype=bool)) | (found & (kind == k))
    plan = found & (rng.random(n) < 0.35)
    cp = np.array([CP[HARM_CP[int(k)]] for k in kind], dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    li, _, _, _ = join_intervals(kid, day, day + 1, h.pid, h.start, h.end)
    several = np.bincount(li, minlength=n) > 1
    cp = np.where(several & (rng.random(n) < 0.5), CP["multiple"], cp)
    out.add(kid, day, flags, np.where(plan, cp, -1), np.where(plan, 0.15, 0.04))


def _from_police(rng: np.random.Generator, world: World, seen: PoliceSeen, out: _Referrals) -> None:
    inc, kid = seen.da_children
    go = rng.random(len(kid)) < 0.35
    kid = kid[go]
    day = world.adults.da_day[inc[go]] + rng.integers(1, 15, size=len(kid))
    ok = (day < T1) & world.is_child_on(kid, day)
    kid, day = kid[ok], day[ok]
    n = len(kid)
    flags = _household_factors(rng, world, kid, day, 0.4)
    flags["3b"] = flags["3b"] | (rng.random(n) < 0.8)
    flags["3a"] = rng.random(n) < 0.1
    out.add(kid, day, flags, np.where(rng.random(n) < 0.06, CP["emotional"], -1), np.asarray(0.03))


def _from_parents(rng: np.random.Generator, world: World, out: _Referrals) -> None:
    c = world.adults.cond
    pr = world.pairs
    li, _rj, s, e = join_intervals(pr.adult, pr.start, pr.end, c.pid, c.start, c.end)
    s = np.maximum(s, T0)
    keep = (s < e) & (rng.random(len(li)) < 0.06)
    li, s, e = li[keep], s[keep], e[keep]
    kid = pr.child[li]
    day = s + (rng.random(len(li)) * (e - s)).astype(np.int64)
    flags = _household_factors(rng, world, kid, day, 0.6)
    n = len(kid)
    out.add(kid, day, flags, np.where(rng.random(n) < 0.05, CP["neglect"], -1), np.asarray(0.04))


def _from_missing(rng: np.random.Generator, world: World, out: _Referrals) -> None:
    ms = world.missing
    go = rng.random(len(ms.exp_pid)) < 0.8
    kid, kind = ms.exp_pid[go], ms.exp_kind[go]
    day = ms.exp_start[go] + rng.integers(0, 90, size=len(kid))
    ok = (day < T1) & world.is_child_on(kid, day)
    kid, kind, day = kid[ok], kind[ok], day[ok]
    n = len(kid)
    cce = kind == CCE
    flags = {"10a": rng.random(n) < 0.9, "23a": cce, "11a": ~cce, "13a": cce & (rng.random(n) < 0.3)}
    out.add(kid, day, flags, np.where(~cce & (rng.random(n) < 0.2), CP["sexual"], -1), np.asarray(0.1))
    first = np.unique(ms.pid, return_index=True)[1]
    child = world.is_child_on(ms.pid[first], ms.day[first]) & ~ms.exploited[first]
    referred = first[child & (rng.random(len(first)) < 0.25)]
    n = len(referred)
    out.add(
        ms.pid[referred],
        ms.day[referred] + 3,
        {"10a": np.ones(n, dtype=bool)},
        np.full(n, -1, dtype=np.int64),
        np.asarray(0.03),
    )


def _baseline(rng: np.random.Generator, world: World, out: _Referrals) -> None:
    dob = world.dyn.dob
    start, end = np.maximum(dob, T0), np.minimum(dob + years(18), T1)
    rate = BASELINE_PER_CHILD_YEAR * world.risk / DAYS_PER_YEAR
    row, day = poisson_times(rng, np.where(start < end, rate, 0.0), start, np.maximum(end, start))
    n = len(row)
    names = [f for f, _ in BASELINE_FACTORS]
    first = choice(rng, n, [w for _, w in BASELINE_FACTORS])
    second = choice(rng, n, [w for _, w in BASELINE_FACTORS])
    second_ok = rng.random(n) < 0.3
    flags = {name: (first == i) | (second_ok & (second == i) & (first != 0) & (i != 0)) for i, name in enumerate(names)}
    out.add(np.arange(world.n_people, dtype=np.int64)[row], day, flags, np.full(n, -1), np.asarray(0.02))


def _factor_cells(flags: list[dict[str, BoolArray]], sizes: list[int]) -> ObjArray:
    n = sum(sizes)
    cells: list[list[str]] = [[] for _ in range(n)]
    offset = 0
    for f, size in zip(flags, sizes, strict=True):
        for code in codes.CIN_FACTOR_CODES:
            if code in f:
                for i in np.flatnonzero(f[code]).tolist():
                    cells[offset + i].append(code)
        offset += size
    out = blanks(n)
    out[:] = [";".join(c) if c else "21" for c in cells]
    return out


def social_care(seed: np.random.SeedSequence, world: World, seen: PoliceSeen) -> dict[str, np.ndarray]:
    r = [np.random.default_rng(s) for s in seed.spawn(7)]
    out = _Referrals()
    _from_harm(r[0], world, out)
    _from_police(r[1], world, seen, out)
    _from_parents(r[2], world, out)
    _from_missing(r[3], world, out)
    _baseline(r[4], world, out)
    rng = r[5]
    pid = np.concatenate([p[0] for p in out.parts])
    day = np.concatenate([p[1] for p in out.parts])
    factors = _factor_cells([p[2] for p in out.parts], [len(p[0]) for p in out.parts])
    cp = np.concatenate([p[3] for p in out.parts]).astype(np.int64)
    la_p = np.concatenate([p[4] for p in out.parts])
    ok = (day >= T0) & (day < T1) & world.alive_on(pid, day) & world.is_child_on(pid, day)
    pid, day, factors, cp, la_p = pid[ok], day[ok], factors[ok], cp[ok], la_p[ok]
    n = len(pid)
    median = np.where(cp >= 0, 420.0, np.where(factors == "21", 45.0, 180.0))
    closure = day + np.clip(rng.lognormal(np.log(median), 0.5), 7, 2000).astype(np.int64)
    closure = np.where(closure < T1, closure, NO_DAY)
    rows = FeedRows("childrens_social_care")
    rows.add(
        pid=pid,
        day=day,
        sort=day * SECONDS_PER_DAY,
        referral_date=format_days(day),
        closure_date=format_days(closure),
        assessment_factors=factors,
        cp_plan_category=code_cells(codes.CP_PLAN_CATEGORIES, cp),
        looked_after=bool_cells(rng.random(n) < la_p, rng.random(n) < 0.1),
    )
    return finalize(r[6], world, rows, sequential_ids("CSC-REF-", 7))
