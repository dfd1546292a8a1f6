"""The estimator, in numpy: a propensity score, nearest-neighbour matching, balance and effects.

Nothing here knows about builds or people; it takes arrays. The Lalonde test runs these same
functions on the National Supported Work data.

- :func:`fit_logistic`: logistic regression by Newton-Raphson (iteratively reweighted least
  squares) on standardised columns, with a tiny ridge so that a separating column cannot make
  it diverge.
- :func:`match`: greedy nearest-neighbour matching on the logit of the propensity score, within a
  caliper of ``caliper`` standard deviations of that logit (0.2 after Austin 2011), without
  replacement (each comparison person used once) or with replacement; the treated people with
  the highest scores are matched first, as they are the hardest to match.
- :func:`smd`: standardised mean differences, with the pooled standard deviation of the
  unmatched groups as denominator both before and after matching, so the two are comparable.
- :func:`risk_effects`, :func:`mean_difference`, :func:`difference_in_differences`: effects with
  95 % Wald intervals; the comparison group's variance counts each matched person's weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

Z95 = 1.959963984540054


def fit_logistic(x: Floats, y: Bools, *, max_iter: int = 100, tol: float = 1e-10, ridge: float = 1e-6) -> Floats:
    """Coefficients (intercept first) of a logistic regression of ``y`` on the columns of ``x``."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    target = np.asarray(y, dtype=np.float64)
    beta = np.zeros(design.shape[1])
    penalty = ridge * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(max_iter):
        p = _sigmoid(design @ beta)
        w = np.maximum(p * (1 - p), 1e-12)
        gradient = design.T @ (target - p) - penalty @ beta
        hessian = (design * w[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < tol:
            break
    slopes = beta[1:] / sd
    return np.concatenate([[beta[0] - float(slopes @ mean)], slopes])


def predict_logit(beta: Floats, x: Floats) -> Floats:
    """The linear predictor (log-odds) for the rows of ``x``."""
    return np.asarray(beta[0] + np.asarray(x, dtype=np.float64) @ beta[1:], dtype=np.float64)


def _sigmoid(z: Floats) -> Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -35, 35))), dtype=np.float64)


def propensity_logit(x: Floats, treated: Bools) -> Floats:
    """Each row's estimated log-odds of being treated."""
    return predict_logit(fit_logistic(x, treated), x)


@dataclass(frozen=True)
class Matches:
    """Matched pairs: ``treated[k]`` was matched to ``control[k]`` (row indices of the input)."""

    treated: Ints
    control: Ints
    unmatched: Ints
    """Treated rows with no comparison person inside the caliper."""
    caliper: float
    """The caliper in logit units."""

    def control_weights(self, n: int) -> Floats:
        """Each row's weight as a comparison person: the number of times it was used, each use divided
        by the number of comparison people its treated person got."""
        per_treated = np.bincount(self.treated, minlength=n).astype(np.float64)
        w = np.zeros(n)
        np.add.at(w, self.control, 1.0 / per_treated[self.treated])
        return w

    @property
    def matched_treated(self) -> Ints:
        return np.unique(self.treated)


def match(
    logit: Floats, treated: Bools, *, caliper: float | None = 0.2, ratio: int = 1, replace: bool = False
) -> Matches:
    """Greedy nearest-neighbour matching on the propensity logit; ``caliper`` in standard deviations."""
    logit = np.asarray(logit, dtype=np.float64)
    t_rows = np.flatnonzero(treated)
    c_rows = np.flatnonzero(~np.asarray(treated, dtype=bool))
    width = math.inf if caliper is None else caliper * float(np.std(logit, ddof=1)) if len(logit) > 1 else 0.0
    order = t_rows[np.argsort(-logit[t_rows], kind="stable")]
    c_logit = logit[c_rows]
    pairs_t: list[int] = []
    pairs_c: list[int] = []
    if replace:
        for row in order.tolist():
            distance = np.abs(c_logit - logit[row])
            nearest = np.argsort(distance, kind="stable")[:ratio]
            nearest = nearest[distance[nearest] <= width]
            pairs_t += [row] * len(nearest)
            pairs_c += c_rows[nearest].tolist()
    else:
        available = np.ones(len(c_rows), dtype=bool)
        for _ in range(ratio):
            for row in order.tolist():
                distance = np.where(available, np.abs(c_logit - logit[row]), math.inf)
                best = int(np.argmin(distance)) if len(distance) else 0
                if len(distance) and distance[best] <= width:
                    pairs_t.append(row)
                    pairs_c.append(int(c_rows[best]))
                    available[best] = False
    matched_t = np.asarray(pairs_t, dtype=np.int64)
    return Matches(
        treated=matched_t,
        control=np.asarray(pairs_c, dtype=np.int64),
        unmatched=np.setdiff1d(t_rows, matched_t).astype(np.int64),
        caliper=width,
    )


def smd(x: Floats, treated: Bools, control_weights: Floats | None = None, treated_rows: Ints | None = None) -> Floats:
    """Standardised mean difference of each column: treated minus comparison, over the pooled SD of the
    unmatched groups. With ``control_weights`` (and ``treated_rows``) the matched groups are compared."""
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(treated, dtype=bool)
    sd = np.sqrt((x[t].var(axis=0, ddof=1) + x[~t].var(axis=0, ddof=1)) / 2) if t.sum() > 1 else np.ones(x.shape[1])
    sd = np.where(sd > 0, sd, 1.0)
    if control_weights is None:
        return np.asarray((x[t].mean(axis=0) - x[~t].mean(axis=0)) / sd, dtype=np.float64)
    rows = np.flatnonzero(t) if treated_rows is None else treated_rows
    w = np.asarray(control_weights, dtype=np.float64)
    mean_c = (w[:, None] * x).sum(axis=0) / max(w.sum(), 1e-12)
    return np.asarray((x[rows].mean(axis=0) - mean_c) / sd, dtype=np.float64)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float | None
    high: float | None

    def contains(self, truth: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= truth <= self.high

    def excludes(self, value: float) -> bool:
        return self.low is not None and self.high is not None and not self.low <= value <= self.high


def _wald(value: float, se: float) -> Estimate:
    if not math.isfinite(se):
        return Estimate(value, None, None)
    return Estimate(value, value - Z95 * se, value + Z95 * se)


def _weighted_mean_var(y: Floats, w: Floats) -> tuple[float, float]:
    """A weighted mean and the variance of that mean (weights as frequency of use)."""
    total = float(w.sum())
    mean = float((w * y).sum() / total)
    spread = float((w * (y - mean) ** 2).sum() / total)
    spread *= len(y) / max(len(y) - 1, 1)
    return mean, spread * float((w**2).sum()) / total**2


@dataclass(frozen=True)
class RiskEffects:
    risk_treated: float
    risk_control: float
    difference: Estimate
    ratio: Estimate


def risk_effects(y_treated: Floats, y_control: Floats, w_control: Floats | None = None) -> RiskEffects:
    """Risk difference and risk ratio (treated vs comparison) with 95 % Wald intervals
    (the ratio's on the log scale; none when either risk is 0)."""
    yt = np.asarray(y_treated, dtype=np.float64)
    yc = np.asarray(y_control, dtype=np.float64)
    wc = np.ones(len(yc)) if w_control is None else np.asarray(w_control, dtype=np.float64)
    pt, vt = _weighted_mean_var(yt, np.ones(len(yt)))
    pc, vc = _weighted_mean_var(yc, wc)
    difference = _wald(pt - pc, math.sqrt(vt + vc))
    if pt > 0 and pc > 0:
        log_rr = math.log(pt / pc)
        se = math.sqrt(vt / pt**2 + vc / pc**2)
        ratio = Estimate(pt / pc, math.exp(log_rr - Z95 * se), math.exp(log_rr + Z95 * se))
    else:
        ratio = Estimate(pt / pc if pc > 0 else math.nan, None, None)
    return RiskEffects(risk_treated=pt, risk_control=pc, difference=difference, ratio=ratio)


def mean_difference(y_treated: Floats, y_control: Floats, w_control: Floats | None = None) -> Estimate:
    """Mean of the treated minus the (weighted) mean of the comparison group, with a 95 % interval."""
    yt = np.asarray(y_treated, dtype=np.float64)
    yc = np.asarray(y_control, dtype=np.float64)
    wc = np.ones(len(yc)) if w_control is None else np.asarray(w_control, dtype=np.float64)
    mt, vt = _weighted_mean_var(yt, np.ones(len(yt)))
    mc, vc = _weighted_mean_var(yc, wc)
    return _wald(mt - mc, math.sqrt(vt + vc))


def difference_in_differences(
    before_treated: Floats,
    after_treated: Floats,
    before_control: Floats,
    after_control: Floats,
    w_control: Floats | None = None,
) -> Estimate:
    """(after - before) among the treated minus (after - before) among the comparison group, with a
    95 % interval from each person's own change."""
    change_t = np.asarray(after_treated, dtype=np.float64) - np.asarray(before_treated, dtype=np.float64)
    change_c = np.asarray(after_control, dtype=np.float64) - np.asarray(before_control, dtype=np.float64)
    return mean_difference(change_t, change_c, w_control)
