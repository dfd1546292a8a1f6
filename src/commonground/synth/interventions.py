"""Two planted interventions with a known effect, the yardstick for ``commonground.evaluation``.

After a police-attended mental-health crisis some adults are offered a follow-up. Who is offered
what is *confounded*: the more crises a person had in the year before, and a member of the
revolving door, the likelier an offer — so a naive comparison of recipients with everybody else
is biased, as it is in real services.

- **A** (``crisis_follow_up``): a mental-health practitioner follows the person up. For a random
  70 % of recipients it prevents every crisis in the 183 days after the start; for the rest it
  does nothing. The true effect on any outcome made of crises in those 183 days is a risk ratio
  of 0.3.
- **B** (``welfare_letter``): a letter listing local services. It changes nothing: a risk ratio
  of 1.0.

The referral comes from the police: whether the police attend each crisis is drawn here (with
the police model's chances) instead of in the police observation. A person's index crisis is
their first police-attended crisis from 3 May 2021 to 29 April 2026 (as an evaluator finds
comparison people); they are offered A, or B, or neither (never both). The start is the day of
the index crisis. Everything here draws from its own random stream; removing the prevented
crises changes the observation draws that follow them, and nothing else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from commonground.synth.adults import Adults
from commonground.synth.arrays import IntArray, ObjArray
from commonground.synth.dynamics import Dynamics
from commonground.synth.police import CRISIS_POLICE
from commonground.synth.timeline import T0, T1, format_days, years

FOLLOW_UP_DAYS = 183
"""How long an intervention's effect lasts, and the outcome window its truth is stated for."""


FIRST_DAY = T0 + 183
"""Index crises from here (half a year of history before the first)..."""
LAST_DAY = T1 - 1 - FOLLOW_UP_DAYS - 2
"""...to here, so that every recipient has a whole follow-up inside the window."""


@dataclass(frozen=True)
class InterventionSpec:
    code: str
    name: str
    description: str
    risk_ratio: float
    """The true effect on the chance of another crisis within FOLLOW_UP_DAYS of the start."""
    intercept: float
    per_prior_crisis: float
    revolving: float


SPECS = (
    InterventionSpec(
        code="A",
        name="crisis_follow_up",
        description="A mental-health practitioner follows the person up after a police-attended crisis; for 70 % of "
        "recipients it prevents every crisis in the next 183 days.",
        risk_ratio=0.3,
        intercept=-0.8,
        per_prior_crisis=0.6,
        revolving=1.0,
    ),
    InterventionSpec(
        code="B",
        name="welfare_letter",
        description="A letter listing local services after a police-attended crisis; it changes nothing.",
        risk_ratio=1.0,
        intercept=-0.4,
        per_prior_crisis=0.4,
        revolving=0.5,
    ),
)


@dataclass(frozen=True)
class Interventions:
    """Who received which intervention, from when (days)."""

    pid: IntArray
    spec: IntArray
    """Index into SPECS."""
    start: IntArray

    def rows(self, person_ids: ObjArray) -> list[tuple[str, str, str, str, str, str]]:
        """``person_id, intervention, name, start, true_effect, effect_measure`` rows, sorted."""
        starts = format_days(self.start)
        out = [
            (
                str(person_ids[p]),
                SPECS[s].code,
                SPECS[s].name,
                str(starts[i]),
                f"{SPECS[s].risk_ratio:g}",
                f"risk_ratio_{FOLLOW_UP_DAYS}d",
            )
            for i, (p, s) in enumerate(zip(self.pid.tolist(), self.spec.tolist(), strict=True))
        ]
        return sorted(out, key=lambda r: (r[1], r[3], r[0]))


def _prior_counts(pid: IntArray, day: IntArray, index_pid: IntArray, index_day: IntArray, days: int) -> IntArray:
    """How many of each person's crises fell in the ``days`` before each index day."""
    big = np.int64(1) << 32
    keys = np.sort(pid * big + day)
    hi = np.searchsorted(keys, index_pid * big + index_day, side="left")
    lo = np.searchsorted(keys, index_pid * big + (index_day - days), side="left")
    return np.asarray(hi - lo, dtype=np.int64)


def _index_crises(adults: Adults, police: np.ndarray, dob: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Each adult's first police-attended crisis in the period: (crisis index, person, day)."""
    pid, day = adults.crisis_pid, adults.crisis_day
    in_period = (day >= FIRST_DAY) & (day <= LAST_DAY)
    eligible = np.flatnonzero(police & in_period & (dob[pid] + years(18) <= day))
    order = eligible[np.lexsort((day[eligible], pid[eligible]))]
    first = order[np.unique(pid[order], return_index=True)[1]]
    return first, pid[first], day[first]


def _chance(spec: InterventionSpec, prior: IntArray, revolving: np.ndarray) -> np.ndarray:
    logit = spec.intercept + spec.per_prior_crisis * np.minimum(prior, 4) + spec.revolving * revolving
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def plant_interventions(rng: np.random.Generator, adults: Adults, dyn: Dynamics) -> tuple[Adults, Interventions]:
    """Draw which crises the police attend, choose the recipients, and remove the crises A prevents."""
    pid, day = adults.crisis_pid, adults.crisis_day
    police = rng.random(len(pid)) < np.where(adults.revolving[pid], 0.5, CRISIS_POLICE)
    _, person, start = _index_crises(adults, police, dyn.dob)
    prior = _prior_counts(pid, day, person, start, 365)
    p_a = _chance(SPECS[0], prior, adults.revolving[person])
    p_b = (1 - p_a) * _chance(SPECS[1], prior, adults.revolving[person])
    u = rng.random(len(person))
    which = np.where(u < p_a, 0, np.where(u < p_a + p_b, 1, -1)).astype(np.int64)
    responder = rng.random(len(person)) >= np.array([s.risk_ratio for s in SPECS])[np.maximum(which, 0)]
    keep = np.ones(len(pid), dtype=bool)
    for who, s in zip(person[(which >= 0) & responder].tolist(), start[(which >= 0) & responder].tolist(), strict=True):
        keep &= ~((pid == who) & (day > s) & (day <= s + FOLLOW_UP_DAYS))
    chosen = which >= 0
    planted = Interventions(pid=person[chosen], spec=which[chosen], start=start[chosen])
    thinned = dataclasses.replace(
        adults, crisis_pid=pid[keep], crisis_day=day[keep], crisis_police=np.asarray(police[keep], dtype=bool)
    )
    return thinned, planted


def manifest_entry(planted: Interventions) -> dict[str, object]:
    """What the manifest says about the planted interventions."""
    counts = np.bincount(planted.spec, minlength=len(SPECS))
    return {
        spec.code: {
            "name": spec.name,
            "description": spec.description,
            "recipients": int(counts[i]),
            "index_crises_from": str(format_days(np.array([FIRST_DAY]))[0]),
            "index_crises_to": str(format_days(np.array([LAST_DAY]))[0]),
            "true_effect": spec.risk_ratio,
            "effect_measure": f"risk_ratio_{FOLLOW_UP_DAYS}d",
            "outcome": "another mental-health crisis within 183 days of the start (any crisis, seen or not)",
        }
        for i, spec in enumerate(SPECS)
    }


def header() -> tuple[str, ...]:
    return ("person_id", "intervention", "name", "start", "true_effect", "effect_measure")
