"""Mental-health contacts, street triage and drug and alcohol treatment.

About half of the adults with a mental illness are in contact with community services (a few
contacts a year); a crisis brings the crisis team in most cases, an admission in one in ten
(often under section 2 or 3), and a section 136 detention in some of those the police attend.
Street-triage professionals advise on about half the crises the police attend. Treatment
reaches about half of opiate and crack users in a year and a minority of problem drinkers
(PHE/OHID: most dependent drinkers are not in treatment).
"""

from __future__ import annotations

import numpy as np

from commonground.contracts import codes
from commonground.synth.adults import ALCOHOL, DRUGS, MENTAL_ILLNESS, SUBSTANCE
from commonground.synth.arrays import IntArray, ObjArray, choice, ints, poisson_times
from commonground.synth.feedrows import FeedRows, at_time, bool_cells, code_cells, int_cells, sequential_ids
from commonground.synth.identity import finalize
from commonground.synth.justice import has_condition
from commonground.synth.police import PoliceSeen
from commonground.synth.timeline import (
    DAYS_PER_YEAR,
    NO_DAY,
    SECONDS_PER_DAY,
    T0,
    T1,
    format_days,
    format_seconds,
    years,
)
from commonground.synth.world import World

SERVICE = {name: i for i, name in enumerate(codes.MH_SERVICES)}
SECTION = {name: i for i, name in enumerate(codes.MHA_SECTIONS)}
OUTCOME = {name: i for i, name in enumerate(codes.TRIAGE_OUTCOMES)}
OUTCOME_MIX = (
    ("no_further_action", 25),
    ("crisis_team_referral", 25),
    ("informal_admission", 5),
    ("s136_detention", 15),
    ("ed_conveyance", 15),
    ("gp_referral", 15),
)
TREATMENT = {"alcohol": 0.2, "opiates": 0.55, "crack": 0.55, "cocaine": 0.25, "cannabis": 0.2, "other": 0.2}


def triage(
    rng: np.random.Generator, world: World, seen: PoliceSeen, refs: ObjArray
) -> tuple[dict[str, np.ndarray], IntArray, IntArray]:
    """Street-triage rows, and the (person, day) of each section 136 detention."""
    a = world.adults
    police = seen.crisis_police
    go = rng.random(len(police)) < np.where(police, 0.55, 0.08)
    idx = np.flatnonzero(go)
    pid, day = a.crisis_pid[idx], a.crisis_day[idx]
    n = len(idx)
    setting = choice(rng, n, (0.5, 0.3, 0.2))
    outcome = ints([OUTCOME[k] for k, _ in OUTCOME_MIX])[choice(rng, n, [w for _, w in OUTCOME_MIX])]
    key = seen.crisis_key[idx]
    ref = np.where(key >= 0, refs[np.maximum(key, 0)], "").astype(object)
    ref[rng.random(n) < 0.1] = ""
    mi = world.adults.cond
    sel = mi.kind == MENTAL_ILLNESS
    start_of = np.full(world.n_people, T1, dtype=np.int64)
    np.minimum.at(start_of, mi.pid[sel], mi.start[sel])
    known = start_of[pid] <= day - 90
    substances = has_condition(world, pid, day, (ALCOHOL, DRUGS))
    s136 = outcome == OUTCOME["s136_detention"]
    avoided = ~s136 & (rng.random(n) < 0.35)
    remote = setting != 1
    attendance_avoided = (
        remote & np.isin(outcome, [OUTCOME["no_further_action"], OUTCOME["gp_referral"]]) & (rng.random(n) < 0.4)
    )
    logged = seen.crisis_seconds[idx]
    contacted = np.where(logged >= 0, logged + rng.integers(300, 3600, size=n), at_time(rng, day, "night"))
    contacted = np.minimum(contacted, T1 * SECONDS_PER_DAY - 1)
    rows = FeedRows("street_triage")
    rows.add(
        pid=pid,
        day=day,
        sort=contacted,
        contacted_at=format_seconds(contacted),
        setting=code_cells(codes.TRIAGE_SETTINGS, setting),
        outcome=code_cells(codes.TRIAGE_OUTCOMES, outcome),
        incident_id=ref,
        duration_minutes=int_cells(
            np.clip(rng.lognormal(np.log(25), 0.6, size=n), 5, 180).astype(np.int64), rng.random(n) < 0.1
        ),
        known_to_services=bool_cells(known, rng.random(n) < 0.1),
        substances_involved=bool_cells(
            substances & (rng.random(n) < 0.7) | (rng.random(n) < 0.05), rng.random(n) < 0.1
        ),
        s136_avoided=bool_cells(avoided, rng.random(n) < 0.15),
        police_attendance_avoided=bool_cells(attendance_avoided, rng.random(n) < 0.15),
    )
    table = finalize(rng, world, rows, sequential_ids("ST-", 6))
    # Crises the police attended without triage: some end in a section 136 detention too.
    other = police & ~go & (rng.random(len(police)) < 0.2)
    s136_pid = np.concatenate([pid[s136], a.crisis_pid[other]])
    s136_day = np.concatenate([day[s136], a.crisis_day[other]])
    return table, s136_pid, s136_day


def mental_health(rng: np.random.Generator, world: World, s136: tuple[IntArray, IntArray]) -> dict[str, np.ndarray]:
    a = world.adults
    c = a.cond
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []  # pid, day, service, section
    # Community mental-health team: about half of those with a mental illness, ~4 contacts a year.
    sel = (c.kind == MENTAL_ILLNESS) & (rng.random(len(c.pid)) < 0.5)
    row, day = poisson_times(rng, np.full(int(sel.sum()), 4 / DAYS_PER_YEAR), np.maximum(c.start[sel], T0), c.end[sel])
    parts.append((c.pid[sel][row], day, np.full(len(row), SERVICE["community"]), np.full(len(row), -1)))
    # Crises: the crisis team, and sometimes an admission.
    crisis = rng.random(len(a.crisis_pid)) < 0.6
    parts.append(
        (
            a.crisis_pid[crisis],
            a.crisis_day[crisis],
            np.full(int(crisis.sum()), SERVICE["crisis"]),
            np.full(int(crisis.sum()), -1),
        )
    )
    admit = rng.random(len(a.crisis_pid)) < 0.1
    m = int(admit.sum())
    section = np.where(rng.random(m) < 0.35, SECTION["2"], np.where(rng.random(m) < 0.25, SECTION["3"], -1))
    parts.append((a.crisis_pid[admit], a.crisis_day[admit] + 1, np.full(m, SERVICE["inpatient"]), section))
    # Section 136: assessed at a place of safety (crisis or liaison service).
    pid, day = s136
    k = len(pid)
    parts.append(
        (pid, day, np.where(rng.random(k) < 0.7, SERVICE["crisis"], SERVICE["liaison"]), np.full(k, SECTION["136"]))
    )
    # Children's services: children who are harmed or go missing, and a few others.
    kids = np.concatenate([world.harm.pid, world.missing.exp_pid])
    kids = kids[rng.random(len(kids)) < 0.15]
    extra = np.flatnonzero((world.dyn.dob < T1 - years(5)) & (world.dyn.dob > T0 - years(17)))
    kids = np.concatenate([kids, extra[rng.random(len(extra)) < 0.02]])
    start = np.maximum(np.maximum(world.dyn.dob[kids] + years(5), T0) + rng.integers(0, years(4), size=len(kids)), T0)
    end = np.minimum(np.minimum(start + 365, world.dyn.dob[kids] + years(18)), T1)
    row, day = poisson_times(rng, np.full(len(kids), 3 / DAYS_PER_YEAR), start, end)
    parts.append((kids[row], day, np.full(len(row), SERVICE["camhs"]), np.full(len(row), -1)))
    pid = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    service = np.concatenate([p[2] for p in parts]).astype(np.int64)
    section = np.concatenate([p[3] for p in parts]).astype(np.int64)
    ok = world.alive_on(pid, day)
    rows = FeedRows("mental_health_contacts")
    rows.add(
        pid=pid[ok],
        day=day[ok],
        sort=day[ok] * SECONDS_PER_DAY,
        contact_date=format_days(day[ok]),
        service=code_cells(codes.MH_SERVICES, service[ok]),
        mha_section=code_cells(codes.MHA_SECTIONS, section[ok]),
    )
    return finalize(rng, world, rows, sequential_ids("MHC", 9))


def treatment(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    a = world.adults
    c = a.cond
    sub = np.flatnonzero((c.kind == ALCOHOL) | (c.kind == DRUGS))
    names = np.asarray(codes.SUBSTANCES, dtype=object)[c.substance[sub]]
    p = np.array([TREATMENT[str(s)] for s in names]) if len(sub) else np.zeros(0)
    p = np.where(a.revolving[c.pid[sub]], 0.7, p)
    sub = sub[rng.random(len(sub)) < p]
    episodes = 1 + rng.poisson(0.4, size=len(sub))
    idx = np.repeat(sub, episodes)
    lo, hi = np.maximum(c.start[idx], T0), c.end[idx]
    start = lo + (rng.random(len(idx)) * np.maximum(hi - lo, 1)).astype(np.int64)
    # Young people drawn into county lines: some reach a young people's service (cannabis).
    ms = world.missing
    yp = np.flatnonzero(rng.random(len(ms.exp_pid)) < 0.2)
    pid = np.concatenate([c.pid[idx], ms.exp_pid[yp]])
    start = np.concatenate([start, ms.exp_start[yp] + rng.integers(30, 200, size=len(yp))])
    substance = np.concatenate([c.substance[idx], np.full(len(yp), SUBSTANCE["cannabis"])])
    ok = (start < T1) & world.alive_on(pid, np.minimum(start, T1 - 1))
    pid, start, substance = pid[ok], start[ok], substance[ok]
    n = len(pid)
    end = start + np.clip(rng.lognormal(np.log(270), 0.6, size=n), 30, 1500).astype(np.int64)
    end = np.where(end < T1, end, NO_DAY)
    owner, _ = world.children_with(pid, start)
    with_children = np.zeros(n, dtype=bool)
    with_children[owner] = True
    rows = FeedRows("substance_treatment")
    rows.add(
        pid=pid,
        day=start,
        sort=start * SECONDS_PER_DAY,
        start_date=format_days(start),
        end_date=format_days(end),
        substance=code_cells(codes.SUBSTANCES, substance),
        lives_with_children=bool_cells(with_children, rng.random(n) < 0.05),
    )
    return finalize(rng, world, rows, sequential_ids("DAS-", 6))
