"""What the police see: reported domestic abuse, mental-health crises, missing people, and ordinary incidents.

Only about one domestic-abuse incident in five reaches the police (Crime Survey for England and
Wales: most victims never report); a third of mental-health crises involve the police; most
missing children are reported. Ordinary incidents (thefts, anti-social behaviour, road
traffic, public order, violence) are the haystack: about 0.06 per resident a year, naming
victims, suspects, witnesses and reporting people from the whole population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.adults import ALCOHOL, DRUGS, OFFENCE
from commonground.synth.arrays import BoolArray, IntArray, ObjArray, blanks, choice, ints, join_intervals, texts
from commonground.synth.feedrows import at_time
from commonground.synth.incidents import CATEGORY, Incidents, qualifier_cells
from commonground.synth.timeline import T0, T1, WINDOW_YEARS, years
from commonground.synth.world import World

DA_REPORTED = 0.2
CHILD_PRESENT = 0.6
CRISIS_POLICE = 0.35
MISSING_REPORTED_CHILD = 0.9
MISSING_REPORTED_ADULT = 0.8
ORDINARY_PER_PERSON_YEAR = 0.06
ORDINARY_MIX = (
    ("theft", 28),
    ("antisocial_behaviour", 22),
    ("road_traffic", 10),
    ("public_order", 8),
    ("violence", 12),
    ("concern_for_welfare", 7),
    ("drugs", 4),
    ("other", 9),
)
# people named, by category: (victims, suspects, witnesses, reporting people) expected counts
NAMED = {
    "theft": (0.9, 0.25, 0.2, 0.2),
    "antisocial_behaviour": (0.1, 0.4, 0.2, 0.6),
    "road_traffic": (0.8, 0.5, 0.4, 0.1),
    "public_order": (0.3, 0.8, 0.3, 0.3),
    "violence": (1.0, 0.8, 0.4, 0.3),
    "concern_for_welfare": (0.0, 0.0, 0.0, 0.9),
    "drugs": (0.0, 0.9, 0.1, 0.1),
    "other": (0.2, 0.3, 0.1, 0.4),
}
ARREST_AFTER = {"theft": 0.2, "public_order": 0.3, "violence": 0.3, "drugs": 0.5}
SUMMARIES = {
    "domestic": (
        "Verbal argument between partners at home.",
        "Report of a domestic assault; suspect left before police arrived.",
        "Neighbour reported shouting and a disturbance.",
        "Victim reports threats and controlling behaviour.",
    ),
    "mental_health": (
        "Concern for a person in mental-health crisis.",
        "Person threatening self-harm.",
        "Person in distress in a public place.",
    ),
    "concern_for_welfare": ("Family concerned for a person's welfare.", "Welfare check requested by a neighbour."),
    "missing_person": ("Reported missing from home.", "Failed to return home at the agreed time."),
    "theft": ("Theft of a bicycle from a garden.", "Shoplifting reported by store staff.", "Burglary of a dwelling."),
    "antisocial_behaviour": ("Youths gathering and causing a nuisance.", "Noise complaint."),
    "road_traffic": ("Minor collision, no injuries.", "Collision between a car and a cyclist."),
    "public_order": ("Disorder outside licensed premises.", "Threatening behaviour in the street."),
    "violence": ("Assault in the street.", "Fight outside licensed premises.", "Assault reported at a party."),
    "drugs": ("Suspected drug dealing reported.", "Person found in possession of drugs."),
    "other": ("Report of suspicious activity.", "Lost property handed in."),
}


@dataclass
class PoliceSeen:
    """What the police observation decided, for the other agencies' feeds."""

    da_reported: BoolArray
    da_children: tuple[IntArray, IntArray]  # (DA incident index, child present)
    crisis_police: BoolArray
    crisis_key: IntArray  # the incident of each crisis (-1 if no police)
    crisis_seconds: IntArray  # when the police logged it (-1 if no police)
    arrest_pid: IntArray
    arrest_day: IntArray
    arrest_offence: IntArray
    assault_pid: IntArray  # victims of street violence some of whom go to the emergency department
    assault_seconds: IntArray
    missing_seconds: IntArray  # when each missing episode was reported (-1 if it was not)


def _summary(rng: np.random.Generator, category: str, n: int) -> ObjArray:
    options = SUMMARIES[category]
    out = texts(list(options))[rng.integers(0, len(options), size=n)] if n else blanks(0)
    out[rng.random(n) < 0.3] = ""
    return out


def _has_condition(world: World, pid: IntArray, day: IntArray, kind: int) -> BoolArray:
    c = world.adults.cond
    sel = c.kind == kind
    li, _, _, _ = join_intervals(pid, day, day + 1, c.pid[sel], c.start[sel], c.end[sel])
    out = np.zeros(len(pid), dtype=bool)
    out[li] = True
    return out


def domestic_abuse(
    rng: np.random.Generator, world: World, inc: Incidents
) -> tuple[BoolArray, tuple[IntArray, IntArray], IntArray]:
    a = world.adults
    n = len(a.da_day)
    reported = rng.random(n) < DA_REPORTED
    idx = np.flatnonzero(reported)
    day, victim, perp = a.da_day[idx], a.da_victim[idx], a.da_perp[idx]
    owner, child = world.children_with(victim, day)
    present = rng.random(len(owner)) < CHILD_PRESENT
    owner, child = owner[present], child[present]
    has_child = np.zeros(len(idx), dtype=bool)
    has_child[owner] = True
    alcohol = _has_condition(world, perp, day, ALCOHOL)
    drugs = _has_condition(world, perp, day, DRUGS)
    q = qualifier_cells(
        {
            "domestic_abuse": np.ones(len(idx), dtype=bool),
            "child_present": has_child,
            "alcohol": alcohol & (rng.random(len(idx)) < 0.6),
            "drugs": drugs & (rng.random(len(idx)) < 0.4),
            "violence": rng.random(len(idx)) < 0.5,
            "weapon": rng.random(len(idx)) < 0.05,
        },
        len(idx),
    )
    keys = inc.add(
        seconds=at_time(rng, day, "evening"),
        dwelling=world.res.dwelling_at(victim, day),
        street=np.full(len(idx), -1),
        category="domestic",
        qualifiers=q,
        summary=_summary(rng, "domestic", len(idx)),
    )
    inc.name(keys, victim, "victim")
    inc.name(keys, perp, "suspect")
    named = rng.random(len(owner)) < 0.9
    inc.name(keys[owner[named]], child[named], "child_present")
    return reported, (idx[owner], child), keys


def crises(rng: np.random.Generator, world: World, inc: Incidents) -> tuple[BoolArray, IntArray, IntArray]:
    a = world.adults
    pid, day = a.crisis_pid, a.crisis_day
    n = len(pid)
    police = rng.random(n) < np.where(a.revolving[pid], 0.5, CRISIS_POLICE)
    if a.crisis_police is not None:  # drawn already, with the planted interventions
        police = a.crisis_police
    idx = np.flatnonzero(police)
    p, d = pid[idx], day[idx]
    m = len(idx)
    at_home = rng.random(m) < 0.6
    cat = np.where(rng.random(m) < 0.6, CATEGORY["mental_health"], CATEGORY["concern_for_welfare"])
    q = qualifier_cells(
        {
            "mental_health": np.ones(m, dtype=bool),
            "self_harm": rng.random(m) < 0.3,
            "alcohol": _has_condition(world, p, d, ALCOHOL) & (rng.random(m) < 0.5),
            "drugs": _has_condition(world, p, d, DRUGS) & (rng.random(m) < 0.4),
        },
        m,
    )
    summary = np.where(
        cat == CATEGORY["mental_health"], _summary(rng, "mental_health", m), _summary(rng, "concern_for_welfare", m)
    ).astype(object)
    secs = at_time(rng, d, "night")
    keys = inc.add(
        seconds=secs,
        dwelling=np.where(at_home, world.res.dwelling_at(p, d), -1),
        street=_random_street(rng, world, m),
        category=cat,
        qualifiers=q,
        summary=summary,
    )
    inc.name(keys, p, "subject")
    owner, adult = world.adults_with(p, d)
    reporter = rng.random(len(owner)) < 0.4
    first = np.unique(owner[reporter], return_index=True)[1]
    inc.name(keys[owner[reporter][first]], adult[reporter][first], "reporting_person")
    key_by_crisis = np.full(n, -1, dtype=np.int64)
    key_by_crisis[idx] = keys
    secs_by_crisis = np.full(n, -1, dtype=np.int64)
    secs_by_crisis[idx] = secs
    return police, key_by_crisis, secs_by_crisis


def missing_reports(rng: np.random.Generator, world: World, inc: Incidents) -> IntArray:
    ms = world.missing
    child = world.is_child_on(ms.pid, ms.day)
    reported = rng.random(len(ms.pid)) < np.where(child, MISSING_REPORTED_CHILD, MISSING_REPORTED_ADULT)
    idx = np.flatnonzero(reported)
    p, d = ms.pid[idx], ms.day[idx]
    m = len(idx)
    q = qualifier_cells({"missing_person": np.ones(m, dtype=bool)}, m)
    secs = at_time(rng, d, "evening")
    keys = inc.add(
        seconds=secs,
        dwelling=world.res.dwelling_at(p, d),
        street=np.full(m, -1),
        category="missing_person",
        qualifiers=q,
        summary=_summary(rng, "missing_person", m),
    )
    inc.name(keys, p, "subject")
    owner, adult = world.adults_with(p, d)
    first = np.unique(owner, return_index=True)[1]
    tell = rng.random(len(first)) < 0.7
    inc.name(keys[owner[first][tell]], adult[first][tell], "reporting_person")
    out = np.full(len(ms.pid), -1, dtype=np.int64)
    out[idx] = secs
    return out


def _random_street(rng: np.random.Generator, world: World, n: int) -> IntArray:
    return rng.integers(0, len(world.area.street_name), size=n).astype(np.int64)


def _pick_people(
    rng: np.random.Generator, world: World, day: IntArray, weights: np.ndarray, min_age: float
) -> IntArray:
    """One person per day, drawn by weight among those alive and old enough (-1 if no luck)."""
    cum = np.cumsum(weights)
    if len(cum) == 0 or cum[-1] <= 0:
        return np.full(len(day), -1, dtype=np.int64)
    out = np.minimum(np.searchsorted(cum, rng.random(len(day)) * cum[-1], side="right"), len(cum) - 1)
    ok = world.dyn.dob[out] + years(min_age) <= day
    return np.where(ok, out, -1).astype(np.int64)


def ordinary(
    rng: np.random.Generator, world: World, inc: Incidents
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    n_people = world.n_people
    n = int(rng.poisson(ORDINARY_PER_PERSON_YEAR * n_people * WINDOW_YEARS))
    day = rng.integers(T0, T1, size=n).astype(np.int64)
    cat_i = choice(rng, n, [w for _, w in ORDINARY_MIX])
    names = [c for c, _ in ORDINARY_MIX]
    a = world.adults
    w_victim = world.risk
    w_suspect = 0.05 + 8.0 * a.offender + 20.0 * a.revolving
    w_any = np.ones(n_people)
    victim_home = rng.random(n) < 0.5
    arrests: list[tuple[IntArray, IntArray, IntArray]] = []
    assaults: list[tuple[IntArray, IntArray]] = []
    victims = _pick_people(rng, world, day, w_victim, 10)
    # Victims of violence are mostly young adults, more often men.
    age_mid = (T0 + (T1 - T0) // 2 - world.dyn.dob) / 365.25
    w_violence = w_victim * np.select([age_mid < 15, age_mid < 45, age_mid < 70], [0.8, 2.5, 0.6], 0.1)
    w_violence = w_violence * np.where(world.dyn.sex == 1, 1.3, 0.7)
    violent = cat_i == names.index("violence")
    victims[violent] = _pick_people(rng, world, day[violent], w_violence, 10)
    for ci, cat in enumerate(names):
        sel = np.flatnonzero(cat_i == ci)
        d = day[sel]
        home = victim_home[sel] & (victims[sel] >= 0) & (cat in ("theft", "violence", "concern_for_welfare"))
        dwelling = np.where(home, world.res.dwelling_at(np.maximum(victims[sel], 0), d), -1)
        q = qualifier_cells(
            {
                "violence": np.full(len(sel), cat == "violence"),
                "alcohol": rng.random(len(sel)) < (0.3 if cat in ("violence", "public_order") else 0.05),
                "weapon": rng.random(len(sel)) < (0.08 if cat == "violence" else 0.0),
                "drugs": np.full(len(sel), cat == "drugs"),
            },
            len(sel),
        )
        secs = at_time(rng, d, "evening" if cat in ("violence", "public_order") else "day")
        keys = inc.add(
            seconds=secs,
            dwelling=dwelling,
            street=_random_street(rng, world, len(sel)),
            category=cat,
            qualifiers=q,
            summary=_summary(rng, cat, len(sel)),
        )
        rates = NAMED[cat]
        v = victims[sel]
        has_v = (rng.random(len(sel)) < rates[0]) & (v >= 0)
        inc.name(keys[has_v], v[has_v], "victim")
        s = _pick_people(rng, world, d, w_suspect, 12)
        has_s = (rng.random(len(sel)) < rates[1]) & (s >= 0)
        inc.name(keys[has_s], s[has_s], "suspect")
        for role, rate in (("witness", rates[2]), ("reporting_person", rates[3])):
            o = _pick_people(rng, world, d, w_any, 14)
            has = (rng.random(len(sel)) < rate) & (o >= 0)
            inc.name(keys[has], o[has], role)
        arrested = has_s & (rng.random(len(sel)) < ARREST_AFTER.get(cat, 0.0))
        offence = {
            "theft": "theft",
            "public_order": "public_order",
            "violence": "violence",
            "drugs": "drugs_possession",
        }.get(cat, "other")
        arrests.append((s[arrested], d[arrested], np.full(int(arrested.sum()), OFFENCE[offence])))
        if cat == "violence":
            assaults.append((v[has_v], secs[has_v]))
    arrest = [np.concatenate([x[i] for x in arrests]) if arrests else ints() for i in range(3)]
    assault = [np.concatenate([x[i] for x in assaults]) if assaults else ints() for i in range(2)]
    return arrest[0], arrest[1], arrest[2].astype(np.int64), assault[0], assault[1]


def observe_police(seed: np.random.SeedSequence, world: World) -> tuple[Incidents, PoliceSeen]:
    r = [np.random.default_rng(s) for s in seed.spawn(5)]
    inc = Incidents()
    da_reported, da_children, _ = domestic_abuse(r[0], world, inc)
    crisis_police, crisis_keys, crisis_secs = crises(r[1], world, inc)
    missing_seconds = missing_reports(r[2], world, inc)
    o_pid, o_day, o_off, assault_pid, assault_secs = ordinary(r[3], world, inc)
    # Domestic abuse suspects arrested at reported incidents (about 45 %).
    rep = np.flatnonzero(da_reported)
    arrested = r[4].random(len(rep)) < 0.45
    a = world.adults
    arrest_pid = np.concatenate([o_pid, a.da_perp[rep[arrested]]])
    arrest_day = np.concatenate([o_day, a.da_day[rep[arrested]]])
    arrest_off = np.concatenate([o_off, np.full(int(arrested.sum()), OFFENCE["violence"])])
    seen = PoliceSeen(
        da_reported=da_reported,
        da_children=da_children,
        crisis_police=crisis_police,
        crisis_key=crisis_keys,
        crisis_seconds=crisis_secs,
        arrest_pid=arrest_pid.astype(np.int64),
        arrest_day=arrest_day.astype(np.int64),
        arrest_offence=arrest_off.astype(np.int64),
        assault_pid=assault_pid,
        assault_seconds=assault_secs,
        missing_seconds=missing_seconds,
    )
    return inc, seen
