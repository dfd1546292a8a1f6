"""Going missing, and the minority of missing children drawn into exploitation.

The NCA's UK Missing Persons Unit counts about 75,000 children and 96,000 adults reported
missing a year in England and Wales (2022-23), with about three reports per missing child:
roughly one child in 200 a year, mostly aged 12-17, far more often those who are harmed at
home. Here a child aged 11-17 becomes "missing-prone" for a period of six months to two
years (about 3 % of such children over the window, more where there is harm or abuse at
home) and goes missing about 2.5 times a year during it. About one in seven missing-prone
children is exploited: criminally (county lines: drug supply, weapons; mostly boys) or
sexually (mostly girls), going missing more often and being arrested for supplying drugs.
Adults go missing in mental-health crises (see the observation model), in dementia, and at
a low base rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonground.synth.adults import draw_offences
from commonground.synth.arrays import BoolArray, FloatArray, IntArray, ints, poisson_times
from commonground.synth.children import Harm
from commonground.synth.dynamics import Dynamics
from commonground.synth.timeline import DAYS_PER_YEAR, T0, T1, years

CCE, CSE = 0, 1
MISSING_PRONE = 0.03
EPISODES_PER_YEAR = 2.5
EXPLOITED_EPISODES_PER_YEAR = 6.0
EXPLOITED_SHARE = 0.15
CCE_ARRESTS_PER_YEAR = 1.5
CCE_OFFENCES = (("drugs_supply", 70), ("weapons", 15), ("robbery", 5), ("violence", 10))
ADULT_MISSING_PER_YEAR = 0.0008
DEMENTIA_MISSING = 0.003


@dataclass(frozen=True)
class Missing:
    pid: IntArray
    day: IntArray
    exploited: BoolArray
    exp_pid: IntArray
    exp_kind: IntArray
    exp_start: IntArray
    exp_end: IntArray
    arrest_pid: IntArray
    arrest_day: IntArray
    arrest_offence: IntArray


def build_missing(rng: np.random.Generator, dyn: Dynamics, harm: Harm, m: FloatArray) -> Missing:
    n = len(dyn.sex)
    harmed = np.zeros(n, dtype=bool)
    harmed[harm.pid] = True
    m_miss = m * np.where(harmed, 4.0, 1.0)
    from_day = np.maximum(T0, dyn.dob + years(11))
    to_day = np.minimum(T1, dyn.dob + years(18))
    eligible = from_day < to_day
    mean = float(m_miss[eligible].mean()) if eligible.any() else 1.0
    prone = eligible & (rng.random(n) < np.minimum(MISSING_PRONE * m_miss / mean, 0.6))
    kid = np.flatnonzero(prone).astype(np.int64)
    span = to_day[kid] - from_day[kid]
    start = from_day[kid] + (rng.random(len(kid)) * span).astype(np.int64)
    end = np.minimum(start + rng.integers(180, 730, size=len(kid)), T1)
    boy = dyn.sex[kid] == 1
    exploited = rng.random(len(kid)) < EXPLOITED_SHARE * np.where(harmed[kid], 1.5, 1.0)
    kind = np.where(
        boy, np.where(rng.random(len(kid)) < 0.85, CCE, CSE), np.where(rng.random(len(kid)) < 0.35, CCE, CSE)
    ).astype(np.int64)
    rate = np.where(exploited, EXPLOITED_EPISODES_PER_YEAR, EPISODES_PER_YEAR) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, start, end)
    # Every missing-prone child goes missing at least once, at the start of the period.
    pid = np.concatenate([kid, kid[row]])
    day = np.concatenate([start, day])
    was_exploited = np.concatenate([exploited, exploited[row]])
    apid, aday = _adult_missing(rng, dyn)
    e = exploited
    cce = e & (kind == CCE)
    arow, arrest_day = poisson_times(
        rng,
        np.full(int(cce.sum()), CCE_ARRESTS_PER_YEAR / DAYS_PER_YEAR),
        np.maximum(start[cce], dyn.dob[kid[cce]] + years(10)),
        end[cce],
    )
    arrest_pid = kid[cce][arow]
    order = np.lexsort((day, pid))
    all_pid = np.concatenate([pid[order], apid])
    return Missing(
        pid=all_pid,
        day=np.concatenate([day[order], aday]),
        exploited=np.concatenate([was_exploited[order], np.zeros(len(apid), dtype=bool)]),
        exp_pid=kid[e],
        exp_kind=kind[e],
        exp_start=start[e],
        exp_end=end[e],
        arrest_pid=arrest_pid,
        arrest_day=arrest_day,
        arrest_offence=draw_offences(rng, len(arrest_pid), CCE_OFFENCES) if len(arrest_pid) else ints(),
    )


def _adult_missing(rng: np.random.Generator, dyn: Dynamics) -> tuple[IntArray, IntArray]:
    n = len(dyn.sex)
    adult_from = np.maximum(T0, dyn.dob + years(18))
    rate = np.where(dyn.dob < T0 - years(80), DEMENTIA_MISSING, ADULT_MISSING_PER_YEAR) / DAYS_PER_YEAR
    row, day = poisson_times(rng, rate, adult_from, np.full(n, T1))
    return np.arange(n, dtype=np.int64)[row], day
