"""Gain of intermediate training over the baseline, with a paired bootstrap over test examples and seeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt.metrics import get_metric


@dataclass(frozen=True)
class GainEstimate:
    baseline: float
    treated: float
    gain: float
    gain_std: float
    replicates: np.ndarray


def bootstrap_gain(
    baseline: list[list[Any]],
    treated: list[list[Any]],
    gold: list[Any],
    metric: str,
    *,
    resamples: int = 1000,
    rng: np.random.Generator,
) -> GainEstimate:
    """`baseline` and `treated` hold one list of per-item predictions per seed, same seeds, same items.

    Each replicate draws items with replacement (the same draw for both arms: a paired bootstrap) and
    seeds with replacement, and averages treated-minus-baseline over the drawn seeds.
    """
    n_seeds, n = len(baseline), len(gold)
    if len(treated) != n_seeds or any(len(p) != n for p in [*baseline, *treated]):
        raise ValueError(f"shapes differ: {n_seeds} vs {len(treated)} seeds, {n} gold items")
    items = rng.integers(0, n, size=(resamples, n))
    seeds = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    arm_scores, arm_replicates = [], []
    for arm in (baseline, treated):
        full, replicates = zip(
            *(_score_and_replicates(pred, gold, metric, items) for pred in arm), strict=True
        )
        arm_scores.append(np.array(full))
        arm_replicates.append(np.stack(replicates))
    per_seed = arm_replicates[1] - arm_replicates[0]
    replicates = per_seed[seeds, np.arange(resamples)[:, None]].mean(axis=1)
    seed_gains = arm_scores[1] - arm_scores[0]
    return GainEstimate(
        baseline=float(arm_scores[0].mean()),
        treated=float(arm_scores[1].mean()),
        gain=float(seed_gains.mean()),
        gain_std=float(seed_gains.std(ddof=1)) if n_seeds > 1 else 0.0,
        replicates=replicates,
    )


def bootstrap_difference(
    first: list[list[Any]],
    first_gold: list[Any],
    second: list[list[Any]],
    second_gold: list[Any],
    metric: str,
    *,
    resamples: int = 1000,
    rng: np.random.Generator,
) -> np.ndarray:
    """Replicates of score(first) - score(second) for two different item sets (unpaired: each set is
    resampled on its own), one list of per-item predictions per seed in each, seeds drawn with replacement."""
    n_seeds = len(first)
    if len(second) != n_seeds or any(len(p) != len(first_gold) for p in first):
        raise ValueError(f"shapes differ: {n_seeds} vs {len(second)} seeds, {len(first_gold)} gold items")
    if any(len(p) != len(second_gold) for p in second):
        raise ValueError(f"shapes differ: {len(second_gold)} gold items in the second set")
    draws = [rng.integers(0, len(gold), size=(resamples, len(gold))) for gold in (first_gold, second_gold)]
    seeds = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    per_seed = np.stack(
        [
            _score_and_replicates(a, first_gold, metric, draws[0])[1]
            - _score_and_replicates(b, second_gold, metric, draws[1])[1]
            for a, b in zip(first, second, strict=True)
        ]
    )
    return np.asarray(per_seed[seeds, np.arange(resamples)[:, None]].mean(axis=1))


def _score_and_replicates(
    pred: list[Any], gold: list[Any], metric: str, items: np.ndarray
) -> tuple[float, np.ndarray]:
    """The metric on all items and on each resample (rows of `items`), in the registry's bootstrap form."""
    return get_metric(metric).bootstrap.resampled(pred, gold, items)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)
