"""How deprivation and a family's hidden circumstances raise the chance of harmful events.

Two multipliers scale every adverse rate in the synth: the deprivation decile of the home
(harm is about 2.5 times as common in the most deprived tenth as in the least, the gradient
seen in emergency-department attendances, domestic abuse and children's social care), and a
latent household factor (log-normal, mean 1) that makes adversities cluster in the same
families, as the ACE studies find. Neither is ever written to a feed: the rules must not use
deprivation as a condition, and the latent factor is what agencies cannot see.
"""

from __future__ import annotations

import numpy as np

from commonground.synth.arrays import FloatArray, IntArray

LATENT_SD = 0.8
"""Spread of the latent household factor (log scale)."""


def deprivation_rr(decile: IntArray) -> FloatArray:
    """Relative risk by deprivation decile: 1.6 in decile 1 down to 0.65 in decile 10 (mean about 1)."""
    return np.asarray(1.6 - (decile - 1) * (0.95 / 9), dtype=np.float64) / 1.125


def household_risk(rng: np.random.Generator, decile: IntArray) -> FloatArray:
    """One multiplier per household: deprivation times a latent factor with mean 1."""
    latent = np.exp(rng.normal(0.0, LATENT_SD, size=len(decile)) - LATENT_SD**2 / 2)
    return np.asarray(deprivation_rr(decile) * latent, dtype=np.float64)
