"""Emergency-department attendances: everybody's, and the few that carry a story.

Everyone attends now and then (NHS Digital *Hospital Accident and Emergency Activity*: about
0.3-0.45 attendances per person a year, most for illness, highest for the under-fives and
the over-eighties, and about twice as high in the most deprived tenth of areas as in the
least). On top: assaults (with the ISTV items: time and place of the assault, weapon),
self-harm in mental-health crises, injuries to abused children (mostly recorded as
accidents), alcohol- and drug-related attendances, and domestic-abuse injuries (often
explained away as accidents).
"""

from __future__ import annotations

import numpy as np

from commonground.contracts import codes
from commonground.synth.adults import ALCOHOL, DRUGS
from commonground.synth.arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    blanks,
    choice,
    ints,
    poisson_times,
    texts,
)
from commonground.synth.children import NEGLECT, PHYSICAL
from commonground.synth.feedrows import FeedRows, at_time, bool_cells, code_cells, yearly_ids
from commonground.synth.identity import finalize
from commonground.synth.missing import CCE
from commonground.synth.police import PoliceSeen
from commonground.synth.timeline import DAYS_PER_YEAR, NO_DAY, SECONDS_PER_DAY, T0, T1, format_seconds
from commonground.synth.world import World

INTENT = {name: i for i, name in enumerate(codes.INJURY_INTENTS)}
LOCATION = {name: i for i, name in enumerate(codes.ASSAULT_LOCATION_TYPES)}
WEAPON = {name: i for i, name in enumerate(codes.WEAPONS)}
AGE_RATES = ((0, 0.55), (5, 0.25), (15, 0.38), (25, 0.28), (65, 0.35), (80, 0.75))
STREET_WEAPONS = (("none", 55), ("blunt", 12), ("knife", 9), ("glass", 6), ("firearm", 0.3), ("other", 17.7))
HOME_WEAPONS = (("none", 60), ("blunt", 20), ("knife", 10), ("other", 10))
PUBS = (
    "The Red Lion",
    "The Crown",
    "The Kings Arms",
    "The White Hart",
    "The Railway",
    "The Plough",
    "The Royal Oak",
    "The Swan",
    "The Bell",
    "Wetherspoons",
    "The Black Horse",
    "Club Zero",
)
PLACES = (
    "Bus station",
    "Retail park car park",
    "Town centre",
    "Recreation ground",
    "Outside the chip shop",
    "Canal towpath",
    "Train station",
    "Underpass",
)


def _by_age(world: World) -> np.ndarray:
    age_mid = (T0 + (T1 - T0) / 2 - world.dyn.dob) / DAYS_PER_YEAR
    rate = np.zeros(world.n_people)
    for lo, r in AGE_RATES:
        rate[age_mid >= lo] = r
    return rate


class _Parts:
    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("pid", "secs", "intent", "alcohol", "drugs", "loc", "weapon")
        }

    def add(
        self,
        pid: IntArray,
        secs: IntArray,
        intent: IntArray,
        alcohol: np.ndarray,
        drugs: np.ndarray,
        loc: IntArray | None = None,
        weapon: IntArray | None = None,
    ) -> None:
        n = len(pid)
        self.cols["pid"].append(ints(pid))
        self.cols["secs"].append(ints(secs))
        self.cols["intent"].append(ints(intent))
        self.cols["alcohol"].append(np.asarray(alcohol, dtype=bool))
        self.cols["drugs"].append(np.asarray(drugs, dtype=bool))
        self.cols["loc"].append(ints(loc) if loc is not None else np.full(n, -1, dtype=np.int64))
        self.cols["weapon"].append(ints(weapon) if weapon is not None else np.full(n, -1, dtype=np.int64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def _mix(rng: np.random.Generator, n: int, mix: tuple[tuple[str, float], ...], table: dict[str, int]) -> IntArray:
    return ints([table[name] for name, _ in mix])[choice(rng, n, [w for _, w in mix])]


ADULT_PLACES = (("street", 40), ("home", 22), ("licensed_premises", 14), ("workplace", 5), ("other", 15))
CHILD_PLACES = (("street", 40), ("home", 30), ("school", 25), ("other", 5))


def _intents(rng: np.random.Generator, age: FloatArray, male: BoolArray) -> IntArray:
    """Injury intent of ordinary attendances: assaults mostly of young men, self-harm mostly of the young."""
    assault = 0.013 * np.select([age < 12, age < 15, age < 45, age < 70], [0.1, 0.8, 2.2, 0.6], 0.15)
    assault *= np.where(male, 1.4, 0.6)
    self_harm = 0.007 * np.select([age < 11, age < 25, age < 45], [0.0, 2.5, 1.2], 0.5)
    u = rng.random(len(age))
    return np.select(
        [u < assault, u < assault + self_harm, u < assault + self_harm + 0.36],
        [INTENT["assault"], INTENT["self_harm"], INTENT["accident"]],
        INTENT["none"],
    ).astype(np.int64)


def _baseline(rng: np.random.Generator, world: World, parts: _Parts) -> None:
    rate = _by_age(world) * world.risk**0.3 / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, np.maximum(T0, world.dyn.dob), np.full(world.n_people, T1))
    n = len(row)
    age = world.age_on(row, day)
    intent = _intents(rng, age, world.dyn.sex[row] == 1)
    assault = intent == INTENT["assault"]
    place = np.where(age < 16, _mix(rng, n, CHILD_PLACES, LOCATION), _mix(rng, n, ADULT_PLACES, LOCATION))
    loc = np.where(assault, place, -1)
    weapon = np.where(assault, _mix(rng, n, STREET_WEAPONS, WEAPON), -1)
    adult = age >= 16
    p_alc = np.select([assault, intent == INTENT["self_harm"], intent == INTENT["accident"]], [0.45, 0.3, 0.08], 0.03)
    p_drug = np.select([assault, intent == INTENT["self_harm"]], [0.2, 0.15], 0.02)
    alcohol = (rng.random(n) < p_alc) & adult
    drugs = (rng.random(n) < p_drug) & adult
    parts.add(row, at_time(rng, day, "ed"), intent, alcohol, drugs, loc, weapon)


def _vulnerable(rng: np.random.Generator, world: World, parts: _Parts) -> None:
    a = world.adults
    c = a.cond
    sub = (c.kind == ALCOHOL) | (c.kind == DRUGS)
    rate = np.where(a.revolving[c.pid[sub]], 1.5, 0.5) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, np.maximum(c.start[sub], T0), c.end[sub])
    n = len(row)
    alcohol = c.kind[sub][row] == ALCOHOL
    intent = _mix(rng, n, (("none", 0.5), ("accident", 0.35), ("assault", 0.1), ("self_harm", 0.05)), INTENT)
    assault = intent == INTENT["assault"]
    parts.add(
        c.pid[sub][row],
        at_time(rng, day, "night"),
        intent,
        alcohol | (rng.random(n) < 0.1),
        ~alcohol | (rng.random(n) < 0.1),
        np.where(assault, LOCATION["street"], -1),
        np.where(assault, _mix(rng, n, STREET_WEAPONS, WEAPON), -1),
    )
    # Mental-health crises: about 45 % end in the emergency department, half for self-harm.
    go = rng.random(len(a.crisis_pid)) < 0.45
    pid, day = a.crisis_pid[go], a.crisis_day[go]
    n = len(pid)
    intent = np.where(rng.random(n) < 0.55, INTENT["self_harm"], INTENT["none"])
    parts.add(pid, at_time(rng, day, "night"), intent, rng.random(n) < 0.3, rng.random(n) < 0.2)


def _harm(rng: np.random.Generator, world: World, parts: _Parts, seen: PoliceSeen) -> None:
    h = world.harm
    sel = (h.kind == PHYSICAL) | (h.kind == NEGLECT)
    rate = np.where(h.kind[sel] == PHYSICAL, 0.5, 0.3) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, np.maximum(h.start[sel], T0), np.minimum(h.end[sel], T1))
    n = len(row)
    physical = h.kind[sel][row] == PHYSICAL
    intent = np.where(
        physical,
        _mix(rng, n, (("accident", 70), ("assault", 20), ("none", 10)), INTENT),
        _mix(rng, n, (("none", 70), ("accident", 30)), INTENT),
    )
    assault = intent == INTENT["assault"]
    parts.add(
        h.pid[sel][row],
        at_time(rng, day, "ed"),
        intent,
        np.zeros(n, dtype=bool),
        np.zeros(n, dtype=bool),
        np.where(assault, LOCATION["home"], -1),
        np.where(assault, _mix(rng, n, HOME_WEAPONS, WEAPON), -1),
    )
    # Domestic-abuse injuries: more often after a reported incident; many called accidents.
    a = world.adults
    go = rng.random(len(a.da_day)) < np.where(seen.da_reported, 0.2, 0.06)
    pid, day = a.da_victim[go], a.da_day[go]
    n = len(pid)
    intent = np.where(rng.random(n) < 0.7, INTENT["assault"], INTENT["accident"])
    assault = intent == INTENT["assault"]
    parts.add(
        pid,
        at_time(rng, day, "evening") + 3600,
        intent,
        rng.random(n) < 0.3,
        rng.random(n) < 0.1,
        np.where(assault, LOCATION["home"], -1),
        np.where(assault, _mix(rng, n, HOME_WEAPONS, WEAPON), -1),
    )
    # Street violence the police logged; and children exploited into drug running.
    go = rng.random(len(seen.assault_pid)) < 0.3
    pid, secs = seen.assault_pid[go], seen.assault_seconds[go] + rng.integers(1200, 7200, size=int(go.sum()))
    n = len(pid)
    parts.add(
        pid,
        secs,
        np.full(n, INTENT["assault"]),
        rng.random(n) < 0.5,
        rng.random(n) < 0.15,
        _mix(rng, n, (("street", 60), ("licensed_premises", 30), ("other", 10)), LOCATION),
        _mix(rng, n, STREET_WEAPONS, WEAPON),
    )
    ms = world.missing
    cce = ms.exp_kind == CCE
    row, day = poisson_times(rng, np.full(int(cce.sum()), 0.4 / DAYS_PER_YEAR), ms.exp_start[cce], ms.exp_end[cce])
    n = len(row)
    parts.add(
        ms.exp_pid[cce][row],
        at_time(rng, day, "night"),
        np.full(n, INTENT["assault"]),
        rng.random(n) < 0.1,
        rng.random(n) < 0.3,
        np.full(n, LOCATION["street"]),
        _mix(rng, n, (("knife", 50), ("blunt", 20), ("none", 30)), WEAPON),
    )


def _assault_places(rng: np.random.Generator, world: World, loc: IntArray, assault: np.ndarray) -> ObjArray:
    """The precise place of each assault, as the patient described it (blank for other attendances)."""
    out = blanks(len(loc))
    idx = np.flatnonzero(assault)
    out[idx] = _location_text(rng, world, loc[idx])
    return out


def _location_text(rng: np.random.Generator, world: World, loc: IntArray) -> ObjArray:
    n = len(loc)
    out = blanks(n)
    street = world.area.street_name[rng.integers(0, len(world.area.street_name), size=max(n, 1))[:n]]
    pub = texts(list(PUBS))[rng.integers(0, len(PUBS), size=n)]
    place = texts(list(PLACES))[rng.integers(0, len(PLACES), size=n)]
    school = world.area.school_name[rng.integers(0, len(world.area.school_name), size=n)]
    for kind, values in (
        ("street", street),
        ("licensed_premises", pub + ", " + street),
        ("school", school),
        ("other", place),
        ("workplace", "Workplace on " + street),
        ("home", np.full(n, "At home", dtype=object)),
    ):
        sel = loc == LOCATION[kind]
        out[sel] = values[sel]
    out[rng.random(n) < 0.1] = ""
    return out


def emergency(seed: np.random.SeedSequence, world: World, seen: PoliceSeen) -> dict[str, np.ndarray]:
    r = [np.random.default_rng(s) for s in seed.spawn(5)]
    parts = _Parts()
    _baseline(r[0], world, parts)
    _vulnerable(r[1], world, parts)
    _harm(r[2], world, parts, seen)
    c = parts.arrays()
    keep = world.alive_on(c["pid"], c["secs"] // SECONDS_PER_DAY) & (c["secs"] < T1 * SECONDS_PER_DAY)
    c = {k: v[keep] for k, v in c.items()}
    rng = r[3]
    n = len(c["pid"])
    assault = c["intent"] == INTENT["assault"]
    assault_at = np.where(assault, c["secs"] - rng.integers(1200, 8 * 3600, size=n), NO_DAY)
    rows = FeedRows("ed_attendances")
    rows.add(
        pid=c["pid"],
        day=c["secs"] // SECONDS_PER_DAY,
        sort=c["secs"],
        arrived_at=format_seconds(c["secs"]),
        injury_intent=code_cells(codes.INJURY_INTENTS, c["intent"]),
        alcohol_involved=bool_cells(c["alcohol"], rng.random(n) < 0.15),
        drugs_involved=bool_cells(c["drugs"], rng.random(n) < 0.2),
        assault_at=format_seconds(assault_at),
        assault_location_type=code_cells(codes.ASSAULT_LOCATION_TYPES, np.where(assault, c["loc"], -1)),
        assault_location=_assault_places(rng, world, c["loc"], assault),
        weapon=code_cells(codes.WEAPONS, np.where(assault, c["weapon"], -1)),
    )
    return finalize(r[4], world, rows, yearly_ids("ED", 6, "-"))
