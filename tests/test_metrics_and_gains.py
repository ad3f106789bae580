from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xlt.analysis.gains import SeedReplicates, bootstrap_contrast, bootstrap_difference, bootstrap_gain
from xlt.metrics.correlation import pearson, rowwise_spearman, spearman
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
    result = estimate.seeds.inference(0.95)
    assert (result.ci_low, result.ci_high, result.mde, result.p) == (0.0, 0.0, 0.0, 1.0)


def test_gain_is_treated_minus_baseline_and_ci_covers_it() -> None:
    rng = np.random.default_rng(2)
    gold = np.arange(200, dtype=float)
    baseline = np.stack([gold + rng.normal(scale=80, size=200) for _ in range(2)])
    treated = np.stack([gold + rng.normal(scale=20, size=200) for _ in range(2)])
    estimate = bootstrap_gain(list(baseline), list(treated), list(gold), "spearman", resamples=500, rng=rng)
    per_seed = [spearman(t, gold) - spearman(b, gold) for t, b in zip(treated, baseline, strict=True)]
    assert estimate.gain == pytest.approx(np.mean(per_seed))
    assert estimate.gain_std == pytest.approx(np.std(per_seed, ddof=1))
    # every seed's replicates were drawn on the same items
    assert estimate.seeds.replicates.shape == (2, 500)
    result = estimate.seeds.inference(0.95)
    assert 0 < result.ci_low < estimate.gain < result.ci_high and result.p < 0.05


def test_contrast_of_one_arm_against_the_mean_of_two() -> None:
    rng = np.random.default_rng(5)
    gold = rng.integers(0, 3, size=200)

    def arm(correct: float) -> list[np.ndarray]:  # three seeds of a classifier right `correct` of the time
        return [np.where(rng.random(200) < correct, gold, (gold + 1) % 3) for _ in range(3)]

    sts, nli, ner = arm(0.8), arm(0.7), arm(0.5)
    contrast = bootstrap_contrast([sts], [nli, ner], list(gold), "accuracy", resamples=300, rng=rng)
    accuracy = [[np.mean(p == gold) for p in a] for a in (sts, nli, ner)]
    per_seed = np.array(accuracy[0]) - (np.array(accuracy[1]) + np.array(accuracy[2])) / 2
    assert np.allclose(contrast.seeds.estimates, per_seed)
    assert contrast.treated == pytest.approx(np.mean(accuracy[0]))
    assert contrast.baseline == pytest.approx((np.mean(accuracy[1]) + np.mean(accuracy[2])) / 2)
    result = contrast.seeds.inference(0.95)
    assert result.ci_low < contrast.gain < result.ci_high and result.ci_low > 0  # a 0.2 gap on 200 items
    # one arm against one is the plain gain, with the same draws for the same generator state
    one = bootstrap_contrast([sts], [nli], list(gold), "accuracy", resamples=50, rng=np.random.default_rng(1))
    gain = bootstrap_gain(nli, sts, list(gold), "accuracy", resamples=50, rng=np.random.default_rng(1))
    assert np.array_equal(one.seeds.replicates, gain.seeds.replicates)
    with pytest.raises(ValueError, match="same seeds"):
        bootstrap_contrast([sts], [nli[:2]], list(gold), "accuracy", rng=rng)


def test_bootstrap_rejects_misaligned_arms() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        bootstrap_gain(
            np.zeros((2, 5)), np.zeros((2, 4)), np.zeros(5), "spearman", rng=np.random.default_rng()
        )


def test_unpaired_difference_covers_the_true_gap_and_centres_on_zero_for_equal_sets() -> None:
    rng = np.random.default_rng(3)
    gold_a, gold_b = rng.integers(0, 2, size=400), rng.integers(0, 2, size=300)
    good = [np.where(rng.random(400) < 0.8, gold_a, 1 - gold_a) for _ in range(5)]  # ~80% correct
    poor = [np.where(rng.random(300) < 0.6, gold_b, 1 - gold_b) for _ in range(5)]  # ~60% correct
    gap = bootstrap_difference(good, list(gold_a), poor, list(gold_b), "accuracy", resamples=400, rng=rng)
    observed = np.mean([np.mean(g == gold_a) - np.mean(p == gold_b) for g, p in zip(good, poor, strict=True)])
    result = gap.inference(0.95)
    assert gap.estimates.mean() == pytest.approx(observed)
    assert 0.1 < result.ci_low < observed < result.ci_high < 0.3
    same = bootstrap_difference(good, list(gold_a), good, list(gold_a), "accuracy", resamples=400, rng=rng)
    result = same.inference(0.95)
    # unpaired: the two copies are resampled on their own, so the interval is not [0, 0]
    assert result.ci_low < 0 < result.ci_high
    with pytest.raises(ValueError, match="shapes differ"):
        bootstrap_difference(good, list(gold_a), poor[:1], list(gold_b), "accuracy", rng=rng)


def test_a_group_is_the_mean_of_its_members_per_seed_and_resample() -> None:
    first = SeedReplicates(np.array([0.1, 0.2]), np.array([[0.1, 0.2, 0.3], [0.2, 0.2, 0.2]]))
    second = SeedReplicates(np.array([0.3, 0.0]), np.array([[0.3, 0.2, 0.1], [0.0, 0.0, 0.0]]))
    group = SeedReplicates.mean_of([first, second])
    assert group is not None
    np.testing.assert_allclose(group.estimates, [0.2, 0.1])
    np.testing.assert_allclose(group.replicates, [[0.2, 0.2, 0.2], [0.1, 0.1, 0.1]])
    three_seeds = SeedReplicates(np.zeros(3), np.zeros((3, 3)))
    assert SeedReplicates.mean_of([first, three_seeds]) is None
