"""Gain of intermediate training over the baseline (or any paired difference of two arms), per seed with an
item bootstrap that draws the same items for every seed and both arms; `xlt.analysis.inference` turns the
per-seed estimates and replicates into an interval honest about seeds, a p-value and an MDE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt.analysis.inference import Inference, seed_item_inference
from xlt.metrics import get_metric


@dataclass(frozen=True)
class SeedReplicates:
    """Per-seed estimates (S,) of a difference and their item-bootstrap replicates (S, B), every seed's row
    drawn on the same items; the unit every interval of a study is computed from."""

    estimates: np.ndarray
    replicates: np.ndarray

    def inference(self, confidence: float) -> Inference:
        return seed_item_inference(self.estimates, self.replicates, confidence=confidence)

    @property
    def std(self) -> float:
        """The sd of the per-seed estimates (0 for one seed)."""
        return float(self.estimates.std(ddof=1)) if len(self.estimates) > 1 else 0.0

    @staticmethod
    def mean_of(parts: Sequence[SeedReplicates]) -> SeedReplicates | None:
        """The unweighted mean over parts (a language group: each language's items resampled on their
        own, the seeds the same); None when the parts do not share their number of seeds and resamples."""
        shapes = {part.replicates.shape for part in parts}
        if not parts or len(shapes) != 1:
            return None
        return SeedReplicates(
            np.mean([part.estimates for part in parts], axis=0),
            np.mean([part.replicates for part in parts], axis=0),
        )


@dataclass(frozen=True)
class GainEstimate:
    """Treated minus baseline: the arms' seed means and the per-seed gains with their replicates."""

    baseline: float
    treated: float
    seeds: SeedReplicates

    @property
    def gain(self) -> float:
        return float(self.seeds.estimates.mean())

    @property
    def gain_std(self) -> float:
        return self.seeds.std


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

    One draw of items with replacement serves every seed and both arms (a paired bootstrap): row s of the
    replicates is seed s's treated-minus-baseline score on each resample."""
    return bootstrap_contrast([treated], [baseline], gold, metric, resamples=resamples, rng=rng)


def bootstrap_contrast(
    treated: Sequence[list[list[Any]]],
    baseline: Sequence[list[list[Any]]],
    gold: list[Any],
    metric: str,
    *,
    resamples: int = 1000,
    rng: np.random.Generator,
) -> GainEstimate:
    """The mean score of the `treated` arms minus the mean score of the `baseline` arms, per seed; each arm
    holds one list of per-item predictions per seed (same seeds, same items in every arm). E.g. an STS
    intermediate against the mean of the other intermediates: the shared baseline cancels exactly.

    One draw of items serves every seed and every arm, so the replicates are paired across both."""
    if not treated or not baseline:
        raise ValueError("a contrast needs at least one treated and one baseline arm")
    arms = [*treated, *baseline]
    n_seeds, n = len(arms[0]), len(gold)
    if any(len(arm) != n_seeds for arm in arms):
        raise ValueError(f"every arm needs the same seeds: {[len(arm) for arm in arms]}")
    if any(len(pred) != n for arm in arms for pred in arm):
        raise ValueError(f"shapes differ: an arm's predictions do not match the {n} gold items")
    items = rng.integers(0, n, size=(resamples, n))
    side_scores, side_replicates = [], []
    for side in (baseline, treated):
        scores, replicates = [], []
        for arm in side:
            full, draws = zip(
                *(_score_and_replicates(pred, gold, metric, items) for pred in arm), strict=True
            )
            scores.append(np.array(full))
            replicates.append(np.stack(draws))
        side_scores.append(np.mean(scores, axis=0))
        side_replicates.append(np.mean(replicates, axis=0))
    return GainEstimate(
        baseline=float(side_scores[0].mean()),
        treated=float(side_scores[1].mean()),
        seeds=SeedReplicates(side_scores[1] - side_scores[0], side_replicates[1] - side_replicates[0]),
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
) -> SeedReplicates:
    """score(first) - score(second) per seed for two different item sets (unpaired: each set is resampled
    on its own, with one draw per set that serves every seed)."""
    n_seeds = len(first)
    if len(second) != n_seeds or any(len(p) != len(first_gold) for p in first):
        raise ValueError(f"shapes differ: {n_seeds} vs {len(second)} seeds, {len(first_gold)} gold items")
    if any(len(p) != len(second_gold) for p in second):
        raise ValueError(f"shapes differ: {len(second_gold)} gold items in the second set")
    draws = [rng.integers(0, len(gold), size=(resamples, len(gold))) for gold in (first_gold, second_gold)]
    estimates, replicates = [], []
    for a, b in zip(first, second, strict=True):
        score_a, draws_a = _score_and_replicates(a, first_gold, metric, draws[0])
        score_b, draws_b = _score_and_replicates(b, second_gold, metric, draws[1])
        estimates.append(score_a - score_b)
        replicates.append(draws_a - draws_b)
    return SeedReplicates(np.asarray(estimates), np.stack(replicates))


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
