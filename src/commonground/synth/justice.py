"""Custody, prison and missing-person records.

Every arrest becomes a custody record, with the vulnerabilities the custody sergeant records
at booking-in (a mental illness is recorded about 60 % of the time, a drug or alcohol
dependency 70 %; liaison and diversion referrals follow). Every prison period is a
custodial-sentence row. Every missing episode the police were told about is a missing
record, graded by risk, with a return-home interview offered to most children.
"""

from __future__ import annotations

import numpy as np

from commonground.contracts import codes
from commonground.synth.adults import ALCOHOL, DRUGS, MENTAL_ILLNESS
from commonground.synth.arrays import BoolArray, IntArray, ObjArray, blanks, join_intervals
from commonground.synth.feedrows import (
    FeedRows,
    at_time,
    bool_cells,
    clip_to_window,
    code_cells,
    sequential_ids,
    yearly_ids,
)
from commonground.synth.identity import finalize
from commonground.synth.police import PoliceSeen
from commonground.synth.timeline import SECONDS_PER_DAY, T1, format_days, format_seconds
from commonground.synth.world import World

RISK = {name: i for i, name in enumerate(codes.RISK_LEVELS)}


def has_condition(world: World, pid: IntArray, day: IntArray, kinds: tuple[int, ...]) -> BoolArray:
    """Whether each person had one of the conditions on the day."""
    c = world.adults.cond
    sel = np.isin(c.kind, kinds)
    li, _, _, _ = join_intervals(pid, day, day + 1, c.pid[sel], c.start[sel], c.end[sel])
    out = np.zeros(len(pid), dtype=bool)
    out[li] = True
    return out


def _vulnerabilities(
    rng: np.random.Generator, world: World, pid: IntArray, day: IntArray
) -> tuple[ObjArray, BoolArray]:
    n = len(pid)
    rev = world.adults.revolving[pid]
    mh = has_condition(world, pid, day, (MENTAL_ILLNESS,)) & (rng.random(n) < np.where(rev, 0.8, 0.6))
    sub = has_condition(world, pid, day, (ALCOHOL, DRUGS)) & (rng.random(n) < 0.7)
    harm = mh & world.adults.crisis_prone[pid] & (rng.random(n) < 0.3)
    ld = rng.random(n) < 0.02
    flags = {"mental_health": mh, "substance": sub, "self_harm": harm, "learning_disability": ld}
    out = blanks(n)
    parts = [(name, flags[name]) for name in codes.CUSTODY_VULNERABILITIES]
    cells = [";".join(name for name, f in parts if f[i]) for i in np.flatnonzero(mh | sub | harm | ld).tolist()]
    out[mh | sub | harm | ld] = cells
    return out, mh | sub | harm | ld


def custody(rng: np.random.Generator, world: World, seen: PoliceSeen) -> dict[str, np.ndarray]:
    a, ms = world.adults, world.missing
    pid = np.concatenate([a.arrest_pid, ms.arrest_pid, seen.arrest_pid])
    day = np.concatenate([a.arrest_day, ms.arrest_day, seen.arrest_day])
    offence = np.concatenate([a.arrest_offence, ms.arrest_offence, seen.arrest_offence])
    ok = world.alive_on(pid, day) & (world.age_on(pid, day) >= 10)
    pid, day, offence = pid[ok], day[ok], offence[ok]
    n = len(pid)
    arrested = at_time(rng, day, "evening")
    hours = np.clip(rng.lognormal(np.log(12), 0.6, size=n), 2, 36)
    released = clip_to_window(arrested + (hours * 3600).astype(np.int64))
    released[rng.random(n) < 0.03] = -(10**9)
    vuln, any_vuln = _vulnerabilities(rng, world, pid, day)
    ld_ref = rng.random(n) < np.where(any_vuln, 0.4, 0.03)
    rows = FeedRows("custody_records")
    rows.add(
        pid=pid,
        day=day,
        sort=arrested,
        arrested_at=format_seconds(arrested),
        offence_group=code_cells(codes.OFFENCE_GROUPS, offence),
        vulnerabilities=vuln,
        released_at=format_seconds(released),
        liaison_diversion_referral=bool_cells(ld_ref, rng.random(n) < 0.15),
    )
    return finalize(rng, world, rows, yearly_ids("CR/", 6, "/", two_digit=True), homeless=world.adults.revolving)


def sentences(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    a = world.adults
    n = len(a.prison_pid)
    released = np.where(a.prison_end < T1, a.prison_end, -(10**9))
    rows = FeedRows("custodial_sentences")
    rows.add(
        pid=a.prison_pid,
        day=a.prison_start,
        sort=a.prison_start * SECONDS_PER_DAY,
        received_at=format_days(a.prison_start),
        released_at=format_days(released),
        remand=bool_cells(a.prison_remand, rng.random(n) < 0.05),
    )
    return finalize(rng, world, rows, sequential_ids("HMP-", 7), homeless=world.adults.revolving)


def missing_episodes(rng: np.random.Generator, world: World, seen: PoliceSeen) -> dict[str, np.ndarray]:
    ms = world.missing
    idx = np.flatnonzero(seen.missing_seconds >= 0)
    pid, reported = ms.pid[idx], seen.missing_seconds[idx]
    day = reported // SECONDS_PER_DAY
    exploited = ms.exploited[idx]
    n = len(idx)
    child = world.is_child_on(pid, day)
    median_h = np.where(exploited, 30.0, 10.0)
    hours = np.clip(rng.lognormal(np.log(median_h), 1.0), 0.5, 24 * 20)
    returned = clip_to_window(reported + (hours * 3600).astype(np.int64))
    mh = has_condition(world, pid, day, (MENTAL_ILLNESS,))
    u = rng.random(n)
    high = np.where(exploited, 0.5, np.where(mh, 0.3, 0.1))
    low = np.where(exploited, 0.05, np.where(child, 0.2, 0.4))
    risk = np.where(u < high, RISK["high"], np.where(u < high + low, RISK["low"], RISK["medium"]))
    interview = bool_cells(rng.random(n) < 0.8, ~child | (rng.random(n) < 0.05))
    rows = FeedRows("missing_episodes")
    rows.add(
        pid=pid,
        day=day,
        sort=reported,
        reported_at=format_seconds(reported),
        returned_at=format_seconds(returned),
        risk_level=code_cells(codes.RISK_LEVELS, risk.astype(np.int64)),
        return_interview=interview,
    )
    return finalize(rng, world, rows, sequential_ids("MISPER-", 7))
