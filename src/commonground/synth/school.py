"""Schools' rolls: every child of school age on the roll of the right school, in the right year group.

Children start Reception in the September after they turn four, move to secondary school
after Year 6 and leave after Year 11 (about 45 % stay on into the sixth form). A child goes to
the catchment school of the small area they live in (85 %) or another school; after a move to
a different catchment, half change school. About 1 % are educated at home and have no row;
where the area is large enough to have a special school, about 1.5 % of children attend it.
"""

from __future__ import annotations

import numpy as np

from commonground.synth.arrays import IntArray, ObjArray, blanks, expand, spell_keys
from commonground.synth.feedrows import FeedRows, sequential_ids
from commonground.synth.identity import finalize
from commonground.synth.timeline import SECONDS_PER_DAY, T0, T1, civil, format_days, school_year_end, school_year_start
from commonground.synth.world import World

HOME_EDUCATED = 0.01
SPECIAL = 0.015
SIXTH_FORM = 0.45
CATCHMENT = 0.85
CHANGE_AFTER_MOVE = 0.5


def _academic_year(day: IntArray) -> IntArray:
    y, m, _ = civil(day)
    return np.where(m >= 9, y, y - 1)


def _phases(rng: np.random.Generator, world: World) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Enrolment periods by phase: (person, phase 0 primary / 1 secondary, start, end)."""
    dob = world.dyn.dob
    reception = _academic_year(dob) + 5
    n = len(dob)
    sixth = rng.random(n) < SIXTH_FORM
    p_start = school_year_start(reception)
    p_end = school_year_end(reception + 7)
    s_start = school_year_start(reception + 7)
    s_end = school_year_end(reception + np.where(sixth, 14, 12))
    at_home = rng.random(n) < HOME_EDUCATED
    pid = np.arange(n, dtype=np.int64)
    parts = []
    for phase, start, end in ((0, p_start, p_end), (1, s_start, s_end)):
        ok = (start < T1) & (end > T0) & ~at_home
        parts.append((pid[ok], np.full(int(ok.sum()), phase), start[ok], end[ok]))
    return tuple(np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(4))  # type: ignore[return-value]


def _school_for(
    rng: np.random.Generator, world: World, pid: IntArray, day: IntArray, phase: IntArray, special: IntArray
) -> IntArray:
    area = world.area
    dw = world.res.dwelling_at(pid, day)
    sa = area.dw_small_area[np.maximum(dw, 0)]
    catchment = np.where(phase == 0, area.sa_primary[sa], area.sa_secondary[sa])
    n_pri = int((area.school_phase == "primary").sum())
    n_sec = int((area.school_phase == "secondary").sum())
    other = np.where(
        phase == 0, rng.integers(0, n_pri, size=len(pid)), n_pri + rng.integers(0, max(n_sec, 1), size=len(pid))
    )
    school = np.where(rng.random(len(pid)) < CATCHMENT, catchment, other)
    return np.where(special >= 0, special, school).astype(np.int64)


def _switches(
    rng: np.random.Generator,
    world: World,
    pid: IntArray,
    phase: IntArray,
    start: IntArray,
    end: IntArray,
    special: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Moves to another dwelling during an enrolment after which the child may change school.

    Returns (enrolment index, move day, the school the child would go to from then), sorted.
    """
    res = world.res
    moved = np.zeros(len(res.sp_pid), dtype=bool)
    moved[1:] = (res.sp_pid[1:] == res.sp_pid[:-1]) & (res.sp_dw[1:] != res.sp_dw[:-1])
    m_pid, m_day = res.sp_pid[moved], res.sp_start[moved]
    key = spell_keys(m_pid, m_day)
    lo = np.searchsorted(key, spell_keys(pid, np.maximum(start, T0)), side="right")
    hi = np.searchsorted(key, spell_keys(pid, np.minimum(end, T1)), side="left")
    owner, pos = expand(np.maximum(hi - lo, 0).astype(np.int64))
    day = m_day[lo[owner] + pos]
    keep = (rng.random(len(owner)) < CHANGE_AFTER_MOVE) & (special[owner] < 0)
    owner, day = owner[keep], day[keep]
    school = _school_for(rng, world, pid[owner], day, phase[owner], np.full(len(owner), -1))
    return owner, day, school


def school_roll(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    pid, phase, start, end = _phases(rng, world)
    n_special = int((world.area.school_phase == "special").sum())
    special_school = np.flatnonzero(world.area.school_phase == "special")
    goes_special = np.full(world.n_people, -1, dtype=np.int64)
    if n_special:
        chosen = rng.random(world.n_people) < SPECIAL
        goes_special[chosen] = special_school[rng.integers(0, n_special, size=int(chosen.sum()))]
    first_day = np.maximum(start, np.maximum(T0, world.dyn.dob[pid]))
    school = _school_for(rng, world, pid, first_day, phase, goes_special[pid])
    owner, day, new_school = _switches(rng, world, pid, phase, start, end, goes_special[pid])
    # Enrolments split at each change of school (a short loop over the moves only). The child
    # starts at the new school about a week after the move, or sooner if the next move (or the
    # end of the enrolment) comes first.
    cut_start, cut_school = start.copy(), school.copy()
    extra: dict[str, list[int]] = {k: [] for k in ("pid", "school", "start", "end", "phase")}
    owners, days, news = owner.tolist(), day.tolist(), new_school.tolist()
    for k, (e, d, new) in enumerate(zip(owners, days, news, strict=True)):
        if new == cut_school[e]:
            continue
        for key, v in (
            ("pid", pid[e]),
            ("school", cut_school[e]),
            ("start", cut_start[e]),
            ("end", d),
            ("phase", phase[e]),
        ):
            extra[key].append(int(v))
        following = days[k + 1] if k + 1 < len(owners) and owners[k + 1] == e else int(end[e])
        cut_start[e], cut_school[e] = min(d + 7, max(d, following - 1)), new
    rows = {"pid": pid, "school": cut_school, "start": cut_start, "end": end, "phase": phase}
    rows = {k: np.concatenate([v, np.asarray(extra[k], dtype=np.int64)]) for k, v in rows.items()}
    return _table(rng, world, rows)


def year_group(world: World, pid: IntArray, on: IntArray) -> ObjArray:
    """Each pupil's national curriculum year group on a day (``r`` for Reception, up to 13)."""
    reception = _academic_year(world.dyn.dob[pid]) + 5
    yg = _academic_year(on) - reception
    out = blanks(len(pid))
    out[:] = ["r" if g <= 0 else str(min(int(g), 13)) for g in yg.tolist()]
    return out


def _table(rng: np.random.Generator, world: World, r: dict[str, IntArray]) -> dict[str, np.ndarray]:
    pid, start, end = r["pid"], r["start"], r["end"]
    ref = np.minimum(end, T1) - 1
    ref = np.maximum(ref, np.maximum(start, T0))
    left = np.where(end < T1, end, -(10**9))
    rows = FeedRows("school_roll")
    rows.add(
        pid=pid,
        day=ref,
        sort=start * SECONDS_PER_DAY,
        school_urn=world.area.school_urn[r["school"]],
        year_group=year_group(world, pid, ref),
        enrolled_on=format_days(start),
        left_on=format_days(left),
    )
    return finalize(rng, world, rows, sequential_ids("SR-", 7))
