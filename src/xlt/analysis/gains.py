"""Gain of intermediate training over the baseline, with a paired bootstrap over test examples and seeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xlt.evaluation.metrics import rowwise_spearman

RowwiseMetric = Callable[[np.ndarray, np.ndarray], np.ndarray]
ROWWISE_METRICS: dict[str, RowwiseMetric] = {"spearman": rowwise_spearman}


@dataclass(frozen=True)
class GainEstimate:
    baseline: float
    treated: float
    gain: float
    gain_std: float
    replicates: np.ndarray


def bootstrap_gain(
    baseline: np.ndarray,
    treated: np.ndarray,
    gold: np.ndarray,
    metric: str,
    *,
    resamples: int = 1000,
    rng: np.random.Generator,
) -> GainEstimate:
    """`baseline` and `treated` are (seeds, examples) predictions made with the same seeds on the same items.

    Each replicate draws examples with replacement (the same draw for both arms: a paired bootstrap) and
    seeds with replacement, and averages treated-minus-baseline over the drawn seeds.
    """
    if baseline.shape != treated.shape or baseline.shape[1] != len(gold):
        raise ValueError(
            f"shapes differ: baseline {baseline.shape}, treated {treated.shape}, gold {gold.shape}"
        )
    rowwise = ROWWISE_METRICS[metric]
    n_seeds, n = baseline.shape
    whole = np.arange(n)[None, :]
    base_scores = np.array([rowwise(baseline[s][whole], gold[whole])[0] for s in range(n_seeds)])
    treated_scores = np.array([rowwise(treated[s][whole], gold[whole])[0] for s in range(n_seeds)])
    items = rng.integers(0, n, size=(resamples, n))
    seeds = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    resampled_gold = gold[items]
    per_seed = np.stack(
        [
            rowwise(treated[s][items], resampled_gold) - rowwise(baseline[s][items], resampled_gold)
            for s in range(n_seeds)
        ]
    )
    replicates = per_seed[seeds, np.arange(resamples)[:, None]].mean(axis=1)
    seed_gains = treated_scores - base_scores
    return GainEstimate(
        baseline=float(base_scores.mean()),
        treated=float(treated_scores.mean()),
        gain=float(seed_gains.mean()),
        gain_std=float(seed_gains.std(ddof=1)) if n_seeds > 1 else 0.0,
        replicates=replicates,
    )


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)
