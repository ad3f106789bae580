"""Transferability scores (LogME, LEEP, NCE) on cases worked out by hand or by brute force."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from scipy import optimize

from xlt.similarity.transferability import leep, log_evidence, logme, maximise_log_evidence, nce

# ---------------------------------------------------------------------------------------------------------
# NCE
# ---------------------------------------------------------------------------------------------------------


def test_nce_is_zero_when_source_determines_target() -> None:
    # z -> y is a function (two source labels map to one target label): H(Y | Z) = 0
    assert nce(np.array([0, 1, 2, 2, 0, 1]), np.array([1, 0, 0, 0, 1, 0])) == pytest.approx(0.0, abs=1e-12)


def test_nce_is_minus_log_2_for_independent_uniform_binary_target() -> None:
    # every (z, y) cell has P̂ = 1/4, P̂(y | z) = 1/2
    assert nce(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == pytest.approx(-math.log(2))


def test_nce_two_by_two_by_hand() -> None:
    # z = 0: y = 0, 0, 0, 1; z = 1: y = 0, 1, 1, 1 (n = 8)
    # P̂(y, z): (0, 0) = 3/8, (1, 0) = 1/8, (0, 1) = 1/8, (1, 1) = 3/8; P̂(z) = 1/2 each
    # P̂(y | z): 3/4, 1/4, 1/4, 3/4
    # NCE = 2 (3/8 log 3/4 + 1/8 log 1/4) = 3/4 log 3/4 + 1/4 log 1/4 ~= -0.562335
    z = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    expected = 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    assert expected == pytest.approx(-0.5623351446)
    assert nce(z, y) == pytest.approx(expected)


def test_nce_matches_brute_force_on_random_labels() -> None:
    rng = np.random.default_rng(3)
    z, y = rng.integers(0, 4, size=50), rng.integers(0, 3, size=50)
    pairs, sources = Counter(zip(z.tolist(), y.tolist(), strict=True)), Counter(z.tolist())
    expected = sum(c / 50 * math.log(c / sources[zz]) for (zz, _), c in pairs.items())
    assert nce(z, y) == pytest.approx(expected)


def test_nce_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="target labels"):
        nce(np.array([0, 1, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match="1-d"):
        nce(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="discrete"):
        nce(np.array([0.5, 1.0]), np.array([0, 1]))


# ---------------------------------------------------------------------------------------------------------
# LEEP
# ---------------------------------------------------------------------------------------------------------


def test_leep_by_hand() -> None:
    theta = np.array([[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    y = np.array([0, 0, 1])
    # P̂(y, z) = (1/3) Σ_{i: y_i = y} θ_iz:
    #   y = 0: (0.8 + 0.4, 0.2 + 0.6) / 3 = (1.2/3, 0.8/3);  y = 1: (0.1/3, 0.9/3)
    # P̂(z) = (1.3/3, 1.7/3)
    # P̂(y | z):  P̂(0 | 0) = 12/13, P̂(0 | 1) = 8/17, P̂(1 | 0) = 1/13, P̂(1 | 1) = 9/17
    # EEP of each example, Σ_z P̂(y_i | z) θ_iz:
    #   x1 (y = 0): 0.8 * 12/13 + 0.2 * 8/17 ~= 0.832579
    #   x2 (y = 0): 0.4 * 12/13 + 0.6 * 8/17 ~= 0.651584
    #   x3 (y = 1): 0.1 * 1/13  + 0.9 * 9/17 ~= 0.484163
    # LEEP = (log 0.832579 + log 0.651584 + log 0.484163) / 3 ~= -0.445637
    eep = [0.8 * 12 / 13 + 0.2 * 8 / 17, 0.4 * 12 / 13 + 0.6 * 8 / 17, 0.1 / 13 + 0.9 * 9 / 17]
    expected = sum(math.log(e) for e in eep) / 3
    assert expected == pytest.approx(-0.4456367376)
    assert leep(theta, y) == pytest.approx(expected)


def test_leep_matches_brute_force_on_random_probabilities() -> None:
    rng = np.random.default_rng(4)
    theta = rng.dirichlet(np.ones(4), size=20)
    y = rng.integers(0, 3, size=20)
    n, labels, sources = 20, range(3), range(4)
    joint = {(a, b): sum(theta[i, b] for i in range(n) if y[i] == a) / n for a in labels for b in sources}
    marginal = {b: sum(joint[a, b] for a in labels) for b in sources}
    expected = (
        sum(math.log(sum(joint[y[i], b] / marginal[b] * theta[i, b] for b in sources)) for i in range(n)) / n
    )
    assert leep(theta, y) == pytest.approx(expected)


def test_leep_with_one_hot_predictions_equals_nce() -> None:
    # With θ(x_i) = e_{z_i}: P̂(y, z) is the count joint, Σ_z P̂(y_i | z) θ_iz = P̂(y_i | z_i), so
    # LEEP = (1/n) Σ_i log P̂(y_i | z_i) = Σ_{y,z} P̂(y, z) log P̂(y | z) = −H(Y | Z) = NCE.
    rng = np.random.default_rng(5)
    z, y = rng.integers(0, 5, size=40), rng.integers(0, 3, size=40)
    theta = np.eye(5)[z]
    assert leep(theta, y) == pytest.approx(nce(z, y))
    # and the 2 × 2 case of test_nce_two_by_two_by_hand
    z2 = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y2 = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    assert leep(np.eye(2)[z2], y2) == pytest.approx(0.75 * math.log(0.75) + 0.25 * math.log(0.25))


def test_leep_ignores_source_labels_never_predicted() -> None:
    theta = np.array([[0.8, 0.2, 0.0], [0.4, 0.6, 0.0], [0.1, 0.9, 0.0]])
    assert leep(theta, np.array([0, 0, 1])) == pytest.approx(-0.4456367376)


def test_leep_rejects_bad_input() -> None:
    theta = np.array([[0.5, 0.5], [0.3, 0.7]])
    with pytest.raises(ValueError, match="rows but"):
        leep(theta, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"\(n, Z\)"):
        leep(np.array([0.5, 0.5]), np.array([0]))
    with pytest.raises(ValueError, match="1-d"):
        leep(theta, np.array([[0], [1]]))
    with pytest.raises(ValueError, match="sum to 1"):
        leep(np.array([[0.5, 0.4], [0.3, 0.7]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="non-negative"):
        leep(np.array([[1.2, -0.2], [0.3, 0.7]]), np.array([0, 1]))
    # within the ±1e-4 tolerance is accepted
    assert math.isfinite(leep(np.array([[0.5, 0.50005], [0.3, 0.7]]), np.array([0, 1])))


# ---------------------------------------------------------------------------------------------------------
# LogME
# ---------------------------------------------------------------------------------------------------------


def direct_log_evidence(features: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """The evidence formula evaluated literally: explicit A, its log-determinant, and m = β A⁻¹ Fᵀ y."""
    n, d = features.shape
    a = alpha * np.eye(d) + beta * features.T @ features
    m = beta * np.linalg.solve(a, features.T @ y)
    sign, log_det = np.linalg.slogdet(a)
    assert sign > 0
    residual = features @ m - y
    return float(
        n / 2 * np.log(beta)
        + d / 2 * np.log(alpha)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * residual @ residual
        - alpha / 2 * m @ m
        - log_det / 2
    )


@pytest.mark.parametrize(("n", "d"), [(30, 5), (6, 10)])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (0.05, 7.0), (30.0, 0.2)])
def test_log_evidence_matches_the_formula(n: int, d: int, alpha: float, beta: float) -> None:
    rng = np.random.default_rng(n + d)
    features, y = rng.normal(size=(n, d)), rng.normal(size=n)
    assert log_evidence(features, y, alpha, beta) == pytest.approx(
        direct_log_evidence(features, y, alpha, beta), rel=1e-10
    )


def test_logme_fixed_point_is_a_maximum() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(30, 5))
    y = features @ rng.normal(size=5) + 0.5 * rng.normal(size=30)
    fit = maximise_log_evidence(features, y)
    assert fit.iterations < 100
    best = logme(features, y, regression=True) * 30
    assert best == pytest.approx(fit.log_evidence)
    assert best == pytest.approx(direct_log_evidence(features, y, fit.alpha, fit.beta))
    factors = [0.5, 0.8, 1.0, 1.25, 2.0]
    for fa, fb in itertools.product(factors, factors):
        assert best >= direct_log_evidence(features, y, fa * fit.alpha, fb * fit.beta) - 1e-6
    # an independent optimiser over (log α, log β) finds nothing better (beyond the 1e-3 stopping rule)
    result = optimize.minimize(
        lambda p: -direct_log_evidence(features, y, math.exp(p[0]), math.exp(p[1])),
        x0=np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000},
    )
    assert best >= -result.fun - 1e-6
    assert best == pytest.approx(-result.fun, abs=1e-4)


def test_logme_prefers_features_that_determine_the_target() -> None:
    rng = np.random.default_rng(1)
    informative = rng.normal(size=(100, 8))
    y = informative @ rng.normal(size=8) + 0.01 * rng.normal(size=100)
    random = rng.normal(size=(100, 8))
    assert logme(informative, y, regression=True) > logme(random, y, regression=True)
    # the same for classification: labels that are a linear function's sign
    labels = (informative[:, 0] + informative[:, 1] > 0).astype(int)
    assert logme(informative, labels, regression=False) > logme(random, labels, regression=False)


def test_logme_classification_averages_one_hot_columns() -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(size=(40, 6))
    labels = rng.integers(0, 3, size=40)
    per_column = [logme(features, (labels == k).astype(float), regression=True) for k in range(3)]
    assert logme(features, labels, regression=False) == pytest.approx(np.mean(per_column))
    # a multi-output regression target averages its columns too
    one_hot = np.eye(3)[labels]
    assert logme(features, one_hot, regression=True) == pytest.approx(np.mean(per_column))


def test_logme_with_fewer_examples_than_dimensions() -> None:
    rng = np.random.default_rng(6)
    features, y = rng.normal(size=(5, 20)), rng.normal(size=5)
    score = logme(features, y, regression=True)
    assert isinstance(score, float)
    assert math.isfinite(score)
    fit = maximise_log_evidence(features, y)
    assert fit.log_evidence == pytest.approx(direct_log_evidence(features, y, fit.alpha, fit.beta))
    assert math.isfinite(logme(features, np.array([0, 1, 1, 0, 2]), regression=False))


def test_logme_target_outside_the_column_space_takes_the_alpha_limit() -> None:
    # F spans e_1 only and y ⟂ e_1: the evidence increases with α; its limit is at β = n / ||y||²
    features = np.array([[1.0], [0.0], [0.0], [0.0]])
    y = np.array([0.0, 1.0, -2.0, 1.0])
    fit = maximise_log_evidence(features, y)
    assert fit.alpha == math.inf
    assert fit.log_evidence >= direct_log_evidence(features, y, 1e6, fit.beta)
    assert fit.log_evidence == pytest.approx(direct_log_evidence(features, y, 1e9, fit.beta), abs=1e-6)


def test_logme_rejects_bad_input() -> None:
    features = np.ones((4, 2))
    with pytest.raises(ValueError, match="targets"):
        logme(features, np.array([0, 1, 0]), regression=False)
    with pytest.raises(ValueError, match="discrete"):
        logme(features, np.array([0.1, 0.2, 0.3, 0.4]), regression=False)
    with pytest.raises(ValueError, match="all-zero"):
        logme(features, np.zeros(4), regression=True)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        logme(np.ones(4), np.zeros(4), regression=True)
