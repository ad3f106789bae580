from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xlt.analysis.gains import bootstrap_gain, percentile_interval
from xlt.evaluation.metrics import pearson, rowwise_spearman, spearman
from xlt.models.lexical import dice


def test_spearman_uses_average_ranks_for_ties() -> None:
    # ranks of pred with ties: [1.5, 1.5, 3, 4]; gold ranks [1, 2, 3, 4]
    # centred ranks [-1, -1, .5, 1.5] and [-1.5, -.5, .5, 1.5]: rho = 4.5 / sqrt(4.5 * 5) ~= 0.9487
    assert spearman([0.1, 0.1, 0.5, 0.9], [1, 2, 3, 4]) == pytest.approx(4.5 / np.sqrt(4.5 * 5))
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)


def test_rowwise_spearman_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    pred, gold = rng.integers(0, 5, size=(6, 30)).astype(float), rng.normal(size=(6, 30))
    expected = [stats.spearmanr(p, g).statistic for p, g in zip(pred, gold, strict=True)]
    assert rowwise_spearman(pred, gold) == pytest.approx(expected)


def test_dice_by_hand() -> None:
    assert dice("a b c", "b c d") == pytest.approx(2 * 2 / 6)
    assert dice("A b", "a b") == pytest.approx(0.5)  # case-sensitive
    assert dice("a a b", "a") == pytest.approx(2 / 3)  # sets, not bags
    assert dice("", "") == 0.0


def test_identical_arms_give_zero_gain_and_zero_interval() -> None:
    rng = np.random.default_rng(1)
    gold = rng.normal(size=50)
    preds = gold + rng.normal(size=(2, 50))
    estimate = bootstrap_gain(list(preds), list(preds.copy()), list(gold), "spearman", resamples=200, rng=rng)
    assert estimate.gain == 0.0 and estimate.gain_std == 0.0
    assert percentile_interval(estimate.replicates, 0.95) == (0.0, 0.0)


def test_gain_is_treated_minus_baseline_and_ci_covers_it() -> None:
    rng = np.random.default_rng(2)
    gold = np.arange(200, dtype=float)
    baseline = np.stack([gold + rng.normal(scale=80, size=200) for _ in range(2)])
    treated = np.stack([gold + rng.normal(scale=20, size=200) for _ in range(2)])
    estimate = bootstrap_gain(list(baseline), list(treated), list(gold), "spearman", resamples=500, rng=rng)
    per_seed = [spearman(t, gold) - spearman(b, gold) for t, b in zip(treated, baseline, strict=True)]
    assert estimate.gain == pytest.approx(np.mean(per_seed))
    assert estimate.gain_std == pytest.approx(np.std(per_seed, ddof=1))
    low, high = percentile_interval(estimate.replicates, 0.95)
    assert 0 < low < estimate.gain < high


def test_bootstrap_rejects_misaligned_arms() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        bootstrap_gain(
            np.zeros((2, 5)), np.zeros((2, 4)), np.zeros(5), "spearman", rng=np.random.default_rng()
        )
