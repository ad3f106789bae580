"""Inference for a gain (or drop) measured with a few seeds on one set of test items: an interval that is
honest about seeds, a p-value, the minimum detectable effect, and multiple-comparison adjustments.

The model. Seed s (s = 1..S) gives a per-seed estimate g_s = mu + u_s + e_s: u_s is the seed's own effect
(initialisation, data order; variance sigma_u^2) and e_s the error of scoring on this finite item set. The
same items serve every seed, so the e_s are correlated; their covariance C (S x S) is estimated from one
bootstrap over items that draws the same items for every seed. Write c_o for the mean off-diagonal entry of
C (the item error every seed shares) and c_d for the mean diagonal entry. Then the seed mean g has

    g - mu = A + B,   A ~ N(0, c_o) (shared item error),  B ~ N(0, tau^2 / S),  tau^2 = sigma_u^2 + c_d - c_o,

and the sample variance s^2 of the g_s estimates tau^2 with S - 1 degrees of freedom (the shared part cancels
in it). The estimate of Var(g) is V = s^2 / S + c_o (the `se` reported is its root).

The interval is a generalized confidence interval (Weerahandi 1993; the fiducial treatment of a variance
with one known and one estimated component): the error of g is distributed as

    W = Z1 sqrt(c_o) + Z2 sqrt((s^2 / S) (S - 1) / X),   Z1, Z2 ~ N(0, 1),  X ~ chi^2_{S-1},

i.e. a normal of variance c_o + (s^2 / S)(S - 1) / X given X. Its quantiles (one-dimensional integration
over X on a fixed grid of its quantiles) give the interval g -/+ q_{1-alpha/2}(W), the p-value
P(|W| >= |g|) and the minimum detectable effect q_{1-alpha/2}(W) + q_{power}(W). With no shared item error
this is exactly Student's t interval on the S per-seed estimates; with no seed spread, the normal interval of
the item bootstrap. In between it keeps the heavy tail of a seed variance estimated from S - 1 degrees of
freedom, which a pooled bootstrap (drawing seeds with replacement: with 2 seeds, one seed twice half the
time) and a Welch-Satterthwaite t (whose degrees of freedom jump up whenever s^2 is small by chance)
understate. Simulated coverage of the nominal 95% (`tests/test_inference.py`): 2 seeds 0.989, since one
degree of freedom cannot rule out a large seed variance (no interval is exact there: this is the
Behrens-Fisher problem); 3 seeds 0.970; 5 seeds 0.956.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, stats

POWER = 0.8
# below this many seeds the seed variance rests on one or two differences; the tables say so
FEW_SEEDS = 3


@dataclass(frozen=True)
class Inference:
    """The estimate (seed mean) with its standard error, interval, p-value against 0 and minimum detectable
    effect; `seed_var` (sigma_u^2) and `item_var` (the item error of the seed mean) are the variance parts."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    mde: float
    n_seeds: int
    seed_var: float
    item_var: float

    @property
    def few_seeds(self) -> bool:
        return self.n_seeds < FEW_SEEDS


@dataclass(frozen=True)
class ErrorDistribution:
    """W = N(0, shared) + N(0, seed_part (S - 1) / X), X ~ chi^2_{S-1}; `dof` = S - 1 (0: no seed part)."""

    shared: float
    seed_part: float
    dof: int

    def tail(self, x: float) -> float:
        """P(|W| >= x) for x >= 0."""
        if self.dof == 0 or self.seed_part == 0.0:
            return float(2 * stats.norm.sf(x / math.sqrt(self.shared))) if self.shared > 0 else float(x <= 0)
        if self.shared == 0.0:
            return float(2 * stats.t.sf(x / math.sqrt(self.seed_part), self.dof))

        scale = np.sqrt(self.shared + self.seed_part * self.dof / _chi2_grid(self.dof))
        return float(np.mean(2 * stats.norm.sf(x / scale)))

    def quantile(self, q: float) -> float:
        """The x with P(W <= x) = q, for q in (0.5, 1)."""
        if self.dof == 0 or self.seed_part == 0.0:
            return float(stats.norm.ppf(q) * math.sqrt(self.shared))
        if self.shared == 0.0:
            return float(stats.t.ppf(q, self.dof) * math.sqrt(self.seed_part))
        target = 2 * (1 - q)
        low = float(stats.norm.ppf(q) * math.sqrt(self.shared + self.seed_part))
        high = float(stats.t.ppf(q, self.dof) * math.sqrt(self.shared + self.seed_part)) * 2 + 1e-12
        return float(optimize.brentq(lambda x: self.tail(x) - target, low * 0.5, high, xtol=1e-12))


@lru_cache(maxsize=16)
def _chi2_grid(dof: int, points: int = 4096) -> np.ndarray:
    """chi^2_dof at the midpoints of `points` equal-probability cells: E[f(X)] is the mean of f over it
    (f here is a probability, bounded, so the heavy lower tail of X costs no accuracy)."""
    grid: np.ndarray = stats.chi2.ppf((np.arange(points) + 0.5) / points, dof)
    return grid


def seed_item_inference(
    per_seed: Sequence[float] | np.ndarray,
    replicates: np.ndarray,
    *,
    confidence: float = 0.95,
    power: float = POWER,
) -> Inference:
    """Inference from per-seed estimates (S,) and their item-bootstrap replicates (S, B), drawn with the
    same item indices for every seed (so that column b of every row saw the same items)."""
    g = np.asarray(per_seed, dtype=np.float64)
    reps = np.asarray(replicates, dtype=np.float64)
    if g.ndim != 1 or reps.ndim != 2 or reps.shape[0] != len(g) or len(g) == 0:
        raise ValueError(f"need per-seed estimates (S,) and replicates (S, B); got {g.shape}, {reps.shape}")
    n_seeds = len(g)
    estimate = float(g.mean())
    finite = np.isfinite(reps).all(axis=0)
    if not np.isfinite(g).all() or finite.sum() < 2:
        return _undefined(estimate, n_seeds)
    covariance = np.atleast_2d(np.cov(reps[:, finite]))
    if n_seeds == 1:
        error = ErrorDistribution(shared=float(covariance[0, 0]), seed_part=0.0, dof=0)
        return _infer(estimate, error, n_seeds, 0.0, error.shared, confidence, power)
    sample_var = float(g.var(ddof=1))
    shared = max(0.0, float(covariance[~np.eye(n_seeds, dtype=bool)].mean()))
    within = max(0.0, float(np.mean(np.diag(covariance))) - shared)
    error = ErrorDistribution(shared=shared, seed_part=sample_var / n_seeds, dof=n_seeds - 1)
    seed_var = max(0.0, sample_var - within)
    return _infer(estimate, error, n_seeds, seed_var, shared + within / n_seeds, confidence, power)


def bootstrap_inference(
    estimate: float,
    replicates: np.ndarray,
    *,
    confidence: float = 0.95,
    power: float = POWER,
    n_seeds: int = 1,
) -> Inference:
    """Inference where only item resampling is available (e.g. two different item sets resampled apart):
    a normal interval from the bootstrap standard error."""
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if len(reps) < 2 or not math.isfinite(estimate):
        return _undefined(estimate, n_seeds)
    error = ErrorDistribution(shared=float(reps.var(ddof=1)), seed_part=0.0, dof=0)
    return _infer(estimate, error, n_seeds, 0.0, error.shared, confidence, power)


def _infer(
    estimate: float,
    error: ErrorDistribution,
    n_seeds: int,
    seed_var: float,
    item_var: float,
    confidence: float,
    power: float,
) -> Inference:
    se = math.sqrt(error.shared + error.seed_part)
    if se == 0.0:
        p = 1.0 if estimate == 0 else 0.0
        return Inference(estimate, 0.0, estimate, estimate, p, 0.0, n_seeds, seed_var, item_var)
    critical = error.quantile(1 - (1 - confidence) / 2)
    return Inference(
        estimate=estimate,
        se=se,
        ci_low=estimate - critical,
        ci_high=estimate + critical,
        p=error.tail(abs(estimate)),
        mde=critical + error.quantile(power),
        n_seeds=n_seeds,
        seed_var=seed_var,
        item_var=item_var,
    )


def _undefined(estimate: float, n_seeds: int) -> Inference:
    nan = math.nan
    return Inference(estimate, nan, nan, nan, nan, nan, n_seeds, nan, nan)


# ---------------------------------------------------------------------------------- multiple comparisons


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (step-up, false discovery rate) of one family; NaN p-values are left
    out of the family and get NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = len(valid)
    if m == 0:
        return q
    order = valid[np.argsort(p[valid], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate) of one family; NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    m = len(valid)
    if m == 0:
        return adjusted
    order = valid[np.argsort(p[valid], kind="stable")]
    stepped = p[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(stepped))
    return adjusted


def adjust_families(frame: pd.DataFrame, p_column: str = "p") -> pd.DataFrame:
    """`q` (Benjamini-Hochberg) and `p_holm` (Holm) computed within each `family` of tests of the frame."""
    q = np.full(len(frame), np.nan)
    p_holm = np.full(len(frame), np.nan)
    if frame.empty:
        return frame.assign(q=q, p_holm=p_holm)
    for _, index in frame.groupby("family", sort=False).indices.items():
        p = frame[p_column].to_numpy(dtype=np.float64)[index]
        q[index] = benjamini_hochberg(p)
        p_holm[index] = holm(p)
    return frame.assign(q=q, p_holm=p_holm)


def inference_columns(result: Inference) -> dict[str, float]:
    """The columns every table of effects carries: the interval, its standard error, p and the MDE."""
    return {
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "se": result.se,
        "p": result.p,
        "mde": result.mde,
    }


# variance of Fisher's z of each coefficient: 1 / (n - 3) for Pearson; Fieller, Hartley and Pearson (1957)
# for Spearman (1.06 / (n - 3)) and Kendall (0.437 / (n - 4))
_FISHER_Z_VARIANCE = {"pearson": (1.0, 3), "spearman": (1.06, 3), "kendall": (0.437, 4)}


def correlation_mde(method: str, n: int, *, alpha: float = 0.05, power: float = POWER) -> float:
    """The smallest correlation a two-sided test at `alpha` detects with `power` from `n` pairs, through
    Fisher's z transform; NaN where n is too small."""
    scale, offset = _FISHER_Z_VARIANCE[method]
    if n <= offset:
        return math.nan
    z = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * math.sqrt(scale / (n - offset))
    return float(math.tanh(z))
