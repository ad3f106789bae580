"""Seed-and-item inference (interval, p, MDE) and the multiple-comparison adjustments, by hand and by
simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from xlt.analysis.inference import (
    ErrorDistribution,
    benjamini_hochberg,
    bootstrap_inference,
    correlation_mde,
    holm,
    seed_item_inference,
)


def test_benjamini_hochberg_by_hand() -> None:
    # sorted: .005 .01 .03 .04 -> x4/rank: .02 .02 .04 .04 -> running minimum from the top
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(q, [0.02, 0.04, 0.04, 0.02])
    # a large p early in the order is pulled down by a smaller q after it; capped at 1
    np.testing.assert_allclose(benjamini_hochberg([0.02, 0.021, 0.9]), [0.0315, 0.0315, 0.9])
    np.testing.assert_allclose(benjamini_hochberg([0.6, 0.8]), [0.8, 0.8])


def test_holm_by_hand() -> None:
    # sorted: .005 .01 .03 .04 -> x (4, 3, 2, 1): .02 .03 .06 .04 -> running maximum: .02 .03 .06 .06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.4]), [0.8, 0.8])
    np.testing.assert_allclose(holm([0.3, 0.9]), [0.6, 0.9])


def test_adjustments_leave_missing_p_values_out_of_the_family() -> None:
    q = benjamini_hochberg([0.01, math.nan, 0.04])
    assert math.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], [0.02, 0.04])
    adjusted = holm([math.nan, 0.01, 0.04])
    assert math.isnan(adjusted[0])
    np.testing.assert_allclose(adjusted[1:], [0.02, 0.04])
    assert benjamini_hochberg([]).shape == (0,)


def test_adjustments_agree_with_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(3).uniform(0, 0.2, 40)
    np.testing.assert_allclose(benjamini_hochberg(p), multitest.multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(holm(p), multitest.multipletests(p, method="holm")[1])


def test_without_shared_item_error_the_interval_is_students_t_on_the_seeds() -> None:
    per_seed = np.array([0.02, 0.05, 0.03])
    replicates = np.tile(per_seed[:, None], (1, 50))  # items add no error
    result = seed_item_inference(per_seed, replicates)
    low, high = stats.t.interval(0.95, 2, loc=per_seed.mean(), scale=stats.sem(per_seed))
    assert result.ci_low == pytest.approx(low) and result.ci_high == pytest.approx(high)
    assert result.p == pytest.approx(stats.ttest_1samp(per_seed, 0).pvalue)
    assert result.few_seeds is False


def test_with_one_seed_the_interval_is_the_normal_interval_of_the_bootstrap() -> None:
    replicates = np.random.default_rng(0).normal(0.1, 0.02, size=(1, 4000))
    result = seed_item_inference([0.1], replicates)
    sd = replicates.std(ddof=1)
    assert result.ci_low == pytest.approx(0.1 - 1.959964 * sd, rel=1e-5)
    assert result.mde == pytest.approx((1.959964 + 0.841621) * sd, rel=1e-5)
    assert result.few_seeds
    same = bootstrap_inference(0.1, replicates[0])
    assert same.ci_high == pytest.approx(result.ci_high)


def test_error_distribution_quantiles_invert_its_tail() -> None:
    error = ErrorDistribution(shared=1e-4, seed_part=4e-4, dof=2)
    for q in (0.9, 0.975, 0.995):
        x = error.quantile(q)
        assert error.tail(x) == pytest.approx(2 * (1 - q), rel=1e-6)
    # between the normal of the total variance and the t of the seed part alone
    x = error.quantile(0.975)
    assert 1.96 * math.sqrt(5e-4) < x < stats.t.ppf(0.975, 2) * math.sqrt(5e-4)


def _simulate(n_seeds: int, mu: float, sims: int, rng: np.random.Generator) -> list:
    """Per-item gains d[s, i] = mu + u_s + a_i + e_si (seed effect sd .01, shared item effect sd .15,
    seed-specific item noise sd .1; 100 items), scored by their mean, with an item bootstrap of 200
    resamples that draws the same items for every seed."""
    results = []
    for _ in range(sims):
        d = (
            mu
            + rng.normal(0, 0.01, (n_seeds, 1))
            + rng.normal(0, 0.15, (1, 100))
            + rng.normal(0, 0.1, (n_seeds, 100))
        )
        draws = rng.integers(0, 100, (200, 100))
        results.append(seed_item_inference(d.mean(axis=1), d[:, draws].mean(axis=2)))
    return results


@pytest.mark.parametrize(("n_seeds", "low", "high"), [(2, 0.95, 0.995), (3, 0.94, 0.98), (5, 0.935, 0.97)])
def test_interval_coverage_by_simulation(n_seeds: int, low: float, high: float) -> None:
    """Known item and seed variance: the nominal 95% interval covers the true gain at least nominally;
    2 seeds are conservative (one degree of freedom for the seed variance), 5 close to nominal."""
    results = _simulate(n_seeds, 0.02, 1000, np.random.default_rng(n_seeds))
    coverage = np.mean([r.ci_low <= 0.02 <= r.ci_high for r in results])
    assert low <= coverage <= high, coverage


def test_minimum_detectable_effect_has_its_power_by_simulation() -> None:
    """With the true gain at the design's MDE (its median over null replications), the test rejects
    about 80% of the time."""
    rng = np.random.default_rng(11)
    mde = float(np.median([r.mde for r in _simulate(3, 0.0, 300, rng)]))
    rejected = np.mean([r.p < 0.05 for r in _simulate(3, mde, 1000, rng)])
    assert 0.74 <= rejected <= 0.86, (mde, rejected)


def test_correlation_mde_has_its_power_by_simulation() -> None:
    """Pearson at the MDE of 40 pairs (bivariate normal) is detected about 80% of the time."""
    rho = correlation_mde("pearson", 40)
    rng = np.random.default_rng(5)
    cov = [[1, rho], [rho, 1]]
    hits = [stats.pearsonr(*rng.multivariate_normal([0, 0], cov, 40).T).pvalue < 0.05 for _ in range(2000)]
    assert 0.76 <= np.mean(hits) <= 0.84
    assert correlation_mde("spearman", 40) > rho  # ranks lose a little efficiency
    assert math.isnan(correlation_mde("kendall", 4))
