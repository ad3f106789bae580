from __future__ import annotations

import itertools
import math
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xlt.analysis.correlation import (
    METHODS,
    correlate,
    correlation_table,
    mixed_effects,
    rowwise_kendall,
    rowwise_pearson,
    rowwise_spearman,
)
from xlt.analysis.selection import (
    SelectionScores,
    expected_max_of_subset,
    ndcg_at_k,
    random_expectation,
    rank_of_best,
    regret_at_k,
    selection_scores,
    selection_table,
)

TRUE = {"A": 0.80, "B": 0.75, "C": 0.70}
LOG3 = math.log2(3)
# relevances A = 1, B = .5, C = 0; ideal DCG@3 = 1 + .5 / log2(3) + 0
IDCG3 = 1 + 0.5 / LOG3


# ---------------------------------------------------------------- selection: hand-computed cases


def test_brief_example_b_then_a_then_c() -> None:
    predicted = {"B": 3.0, "A": 2.0, "C": 1.0}
    assert regret_at_k(TRUE, predicted, 1) == pytest.approx(6.25)  # (.80 - .75) / .80 * 100
    assert regret_at_k(TRUE, predicted, 3) == 0.0
    assert rank_of_best(TRUE, predicted) == 2.0
    assert ndcg_at_k(TRUE, predicted, 1) == pytest.approx(0.5)
    assert ndcg_at_k(TRUE, predicted, 3) == pytest.approx((0.5 + 1 / LOG3) / IDCG3)


def test_perfect_predictor() -> None:
    predicted = {"A": 0.9, "B": 0.5, "C": 0.1}
    for k in (1, 2, 3, 10):
        assert selection_scores(TRUE, predicted, k) == SelectionScores(regret=0.0, ndcg=1.0, rank_of_best=1.0)


def test_reversed_predictor_by_hand() -> None:
    predicted = {"A": 1.0, "B": 2.0, "C": 3.0}
    assert regret_at_k(TRUE, predicted, 1) == pytest.approx(12.5)  # picks C: (.80 - .70) / .80
    assert regret_at_k(TRUE, predicted, 2) == pytest.approx(6.25)  # best of C, B is B
    assert regret_at_k(TRUE, predicted, 3) == 0.0
    assert ndcg_at_k(TRUE, predicted, 1) == 0.0
    assert ndcg_at_k(TRUE, predicted, 3) == pytest.approx((0.5 / LOG3 + 1 / 2) / IDCG3)
    assert rank_of_best(TRUE, predicted) == 3.0


def test_k_larger_than_n_is_clipped() -> None:
    predicted = {"A": 1.0, "B": 2.0, "C": 3.0}
    assert regret_at_k(TRUE, predicted, 99) == regret_at_k(TRUE, predicted, 3)
    assert ndcg_at_k(TRUE, predicted, 99) == ndcg_at_k(TRUE, predicted, 3)
    with pytest.raises(ValueError):
        regret_at_k(TRUE, predicted, 0)


def test_negative_and_zero_best_gain() -> None:
    true = {"A": -0.2, "B": -0.4, "C": -0.5}
    assert regret_at_k(true, {"A": 0.0, "B": 2.0, "C": 1.0}, 1) == pytest.approx(100.0)  # .2 / |-.2|
    assert regret_at_k(true, {"A": 0.0, "B": 1.0, "C": 2.0}, 1) == pytest.approx(150.0)  # .3 / .2
    # best gain 0: divide by 1, so the regret is the absolute shortfall in percentage points
    assert regret_at_k({"A": 0.0, "B": -0.1}, {"A": 0.0, "B": 1.0}, 1) == pytest.approx(10.0)


def test_keys_must_match() -> None:
    with pytest.raises(ValueError, match="differ"):
        regret_at_k(TRUE, {"A": 1.0, "B": 2.0}, 1)
    with pytest.raises(ValueError, match="differ"):
        ndcg_at_k(TRUE, {"A": 1.0, "B": 2.0, "C": 0.0, "D": 1.0}, 1)
    with pytest.raises(ValueError):
        rank_of_best({}, {})


# ---------------------------------------------------------------- selection: ties and random choice


def test_random_expectation_by_hand_n3() -> None:
    chance = random_expectation(TRUE, 1)
    assert chance.regret == pytest.approx((0 + 6.25 + 12.5) / 3)
    assert chance.ndcg == pytest.approx((1 + 0.5 + 0) / 3)  # mean relevance / IDCG@1 = 1
    assert chance.rank_of_best == 2.0
    # k = 2: subsets {A,B}, {A,C}, {B,C} have regrets 0, 0, 6.25
    assert random_expectation(TRUE, 2).regret == pytest.approx(6.25 / 3)
    assert random_expectation(TRUE, 3).ndcg == pytest.approx(0.5 * (1 + 1 / LOG3 + 1 / 2) / IDCG3)
    assert random_expectation(TRUE, 3).regret == 0.0


def test_all_predicted_equal_is_random_expectation() -> None:
    true = {"A": 0.3, "B": 0.1, "C": 0.3, "D": -0.2, "E": 0.0}
    tied = dict.fromkeys(true, 0.5)
    for k in range(1, 6):
        observed, chance = selection_scores(true, tied, k), random_expectation(true, k)
        assert observed.regret == pytest.approx(chance.regret)
        assert observed.ndcg == pytest.approx(chance.ndcg)
        assert observed.rank_of_best == pytest.approx(chance.rank_of_best)


def test_rank_of_best_with_ties() -> None:
    # best A tied with m = 2 others from position p = 2: p + m / 2 = 3
    true = {"X": 0.1, "A": 0.9, "B": 0.2, "C": 0.3, "D": 0.0}
    assert rank_of_best(true, {"X": 5.0, "A": 3.0, "B": 3.0, "C": 3.0, "D": 1.0}) == pytest.approx(3.0)
    # two best candidates in a tie group of four at the top: E[min of 2 positions of 1..4] = 5 / 3
    true_tied = {"A": 0.9, "B": 0.9, "C": 0.1, "D": 0.2, "E": 0.0}
    assert rank_of_best(true_tied, {"A": 1.0, "B": 1.0, "C": 1.0, "D": 1.0, "E": 0.0}) == pytest.approx(5 / 3)
    # true ties for the best: the first position of any of them, regret unaffected
    assert rank_of_best(true_tied, {"A": 0.0, "B": 2.0, "C": 3.0, "D": -1.0, "E": -2.0}) == 2.0
    assert regret_at_k(true_tied, {"A": 0.0, "B": 2.0, "C": 3.0, "D": -1.0, "E": -2.0}, 2) == 0.0


def test_expected_max_of_subset() -> None:
    values = np.array([3.0, 1.0, 2.0])
    assert expected_max_of_subset(values, 1) == pytest.approx(2.0)
    assert expected_max_of_subset(values, 2) == pytest.approx((3 + 3 + 2) / 3)
    assert expected_max_of_subset(values, 3) == 3.0
    assert expected_max_of_subset(values, 0, floor=1.5) == 1.5
    assert expected_max_of_subset(values, 1, floor=1.5) == pytest.approx((3 + 1.5 + 2) / 3)


def _brute_scores(gains: dict[str, float], order: tuple[str, ...], k: int) -> tuple[float, float, float]:
    """Regret@k, NDCG@k and rank of best for one fixed ordering, straight from the definitions."""
    best, worst = max(gains.values()), min(gains.values())
    rel = {c: 1.0 if best == worst else (g - worst) / (best - worst) for c, g in gains.items()}
    k = min(k, len(order))
    regret = (best - max(gains[c] for c in order[:k])) / (abs(best) if best != 0 else 1) * 100
    dcg = sum(rel[c] / math.log2(pos + 2) for pos, c in enumerate(order[:k]))
    ideal = sum(r / math.log2(pos + 2) for pos, r in enumerate(sorted(rel.values(), reverse=True)[:k]))
    rank = next(pos + 1 for pos, c in enumerate(order) if gains[c] == best)
    return regret, dcg / ideal, float(rank)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_brute_force_enumeration_n5_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = ["A", "B", "C", "D", "E"]
    true = dict(zip(names, rng.choice([-0.1, 0.2, 0.4, 0.4, 0.7], size=5).tolist(), strict=True))
    predicted = dict(zip(names, rng.choice([0.0, 1.0, 1.0, 2.0], size=5).tolist(), strict=True))
    orders = list(itertools.permutations(names))
    consistent = [o for o in orders if all(predicted[a] >= predicted[b] for a, b in itertools.pairwise(o))]
    for k in range(1, 6):
        for candidates, got in (
            (consistent, selection_scores(true, predicted, k)),
            (orders, random_expectation(true, k)),
        ):
            brute = np.mean([_brute_scores(true, o, k) for o in candidates], axis=0)
            assert (got.regret, got.ndcg, got.rank_of_best) == pytest.approx(tuple(brute))


# ---------------------------------------------------------------- selection_table


def _long_frame() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(5)
    for estimator, target, language in itertools.product(
        ["dice", "embed"], ["t1", "t2"], ["de", "macro-avg"]
    ):
        for intermediate in ["i1", "i2", "i3", "i4"]:
            rows.append((estimator, target, language, intermediate, rng.normal(), rng.normal()))
    rows.append(("dice", "t3", "de", "i1", 0.5, 0.1))  # a single candidate: skipped
    return pd.DataFrame(
        rows, columns=["estimator", "target", "language", "intermediate", "similarity", "gain"]
    )


def test_selection_table() -> None:
    frame = _long_frame()
    table = selection_table(frame, ks=(1, 3))
    assert len(table) == 8
    assert list(table.columns) == [
        "estimator", "target", "language", "n_candidates", "regret@1", "ndcg@1", "regret@3", "ndcg@3",
        "rank_of_best", "random_regret@1", "random_ndcg@1", "random_regret@3", "random_ndcg@3",
        "random_rank_of_best",
    ]  # fmt: skip
    assert (table["n_candidates"] == 4).all()
    assert (table["random_rank_of_best"] == 2.5).all()
    row = table.iloc[0]
    case = frame[
        (frame.estimator == row.estimator) & (frame.target == row.target) & (frame.language == row.language)
    ]
    true = dict(zip(case.intermediate, case.gain, strict=True))
    predicted = dict(zip(case.intermediate, case.similarity, strict=True))
    assert row["regret@3"] == pytest.approx(regret_at_k(true, predicted, 3))
    assert row["ndcg@1"] == pytest.approx(ndcg_at_k(true, predicted, 1))
    assert row["rank_of_best"] == rank_of_best(true, predicted)
    assert row["random_regret@1"] == pytest.approx(random_expectation(true, 1).regret)
    with pytest.raises(ValueError, match="duplicated"):
        selection_table(pd.concat([frame, frame.iloc[:1]]))


# ---------------------------------------------------------------- correlation


def test_monotone_data_exact_permutation_p_value() -> None:
    x = np.arange(1.0, 6.0)
    results = correlate(x, np.exp(x), resamples=200, permutations=10000, rng=np.random.default_rng(0))
    assert results["spearman"].coefficient == pytest.approx(1.0)
    assert results["kendall"].coefficient == pytest.approx(1.0)
    # 5! = 120 permutations enumerated; only the identity and the reversal reach |rho| = 1
    assert results["spearman"].p_value == pytest.approx(2 / 120)
    assert results["kendall"].p_value == pytest.approx(2 / 120)
    assert results["pearson"].coefficient == pytest.approx(stats.pearsonr(x, np.exp(x)).statistic)
    assert all(r.n == 5 for r in results.values())


def test_exact_p_value_against_enumeration_with_scipy() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=6), rng.integers(0, 3, size=6).astype(float)  # ties in y
    results = correlate(x, y, resamples=100, permutations=720, rng=rng)
    scipy_fn = {"spearman": stats.spearmanr, "kendall": stats.kendalltau, "pearson": stats.pearsonr}
    for method in METHODS:
        observed = abs(scipy_fn[method](x, y).statistic)
        permuted = [abs(scipy_fn[method](x, y[list(p)]).statistic) for p in itertools.permutations(range(6))]
        expected = np.mean(np.array(permuted) >= observed - 1e-12)
        assert results[method].p_value == pytest.approx(expected)


def test_coefficients_match_scipy_on_random_data() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=25), rng.normal(size=25) + 0.3 * np.arange(25)
    results = correlate(x, y, resamples=100, permutations=500, rng=rng)
    assert results["kendall"].coefficient == pytest.approx(stats.kendalltau(x, y).statistic)
    assert results["pearson"].coefficient == pytest.approx(stats.pearsonr(x, y).statistic)
    assert results["spearman"].coefficient == pytest.approx(stats.spearmanr(x, y).statistic)
    # Monte Carlo p-value: (1 + count) / (1 + 500), and close to scipy's asymptotic one here
    assert results["pearson"].p_value >= 1 / 501
    assert results["pearson"].p_value == pytest.approx(stats.pearsonr(x, y).pvalue, abs=0.05)


@pytest.mark.parametrize("n", [12, 250])
def test_rowwise_coefficients_match_scipy_with_ties(n: int) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.integers(0, 5, size=(4, n)).astype(float), rng.normal(size=(4, n))
    b[:, :3] = b[:, :1]  # ties on both sides
    for row_a, row_b, tau, rho, r in zip(
        a, b, rowwise_kendall(a, b), rowwise_spearman(a, b), rowwise_pearson(a, b), strict=True
    ):
        assert tau == pytest.approx(stats.kendalltau(row_a, row_b).statistic)
        assert rho == pytest.approx(stats.spearmanr(row_a, row_b).statistic)
        assert r == pytest.approx(stats.pearsonr(row_a, row_b).statistic)


def test_bootstrap_interval_contains_coefficient() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=40)
    results = correlate(x, x + 0.5 * rng.normal(size=40), resamples=500, permutations=500, rng=rng)
    for result in results.values():
        assert result.ci_low < result.coefficient < result.ci_high
        assert result.ci_low > 0 and result.ci_high <= 1
        assert result.p_value == pytest.approx(1 / 501)


def test_degenerate_inputs_give_nan_without_raising() -> None:
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, y in [([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]), ([1.0, 2.0], [2.0, 1.0]), ([], [])]:
            for result in correlate(x, y, resamples=50, permutations=50, rng=rng).values():
                assert np.isnan([result.coefficient, result.ci_low, result.ci_high, result.p_value]).all()
                assert result.n == len(x)
    # NaN pairs are dropped
    assert correlate([1.0, np.nan, 2.0, 3.0], [1.0, 5.0, 2.0, 4.0], rng=rng)["pearson"].n == 3
    with pytest.raises(ValueError):
        correlate([1.0, 2.0], [1.0], rng=rng)


def test_interval_is_nan_when_most_resamples_are_constant() -> None:
    # a resample is valid only if it draws both pair 0 and pair 3: probability 1 - 2 (3/4)^4 + (1/2)^4 ≈ .43
    results = correlate(
        [0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], resamples=1000, rng=np.random.default_rng(0)
    )
    assert results["pearson"].coefficient == pytest.approx(-1 / 3)
    assert np.isnan(results["pearson"].ci_low) and np.isnan(results["pearson"].ci_high)


def _correlation_frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = [
        (estimator, target, language, rng.normal(), rng.normal())
        for estimator, target, language, _ in itertools.product(
            ["dice", "embed"], ["t1", "t2"], ["de", "fr"], range(5)
        )
    ]
    return pd.DataFrame(rows, columns=["estimator", "target", "language", "similarity", "gain"])


def test_correlation_table_shapes_and_determinism() -> None:
    frame = _correlation_frame()
    options = {"resamples": 50, "permutations": 100}
    pooled = correlation_table(frame, [], **options)
    columns = ["estimator", "method", "coefficient", "ci_low", "ci_high", "p_value", "n", "units"]
    assert list(pooled.columns) == columns
    assert len(pooled) == 2 * 3 and (pooled["n"] == 20).all() and (pooled["units"] == 20).all()
    assert list(pooled["method"][:3]) == list(METHODS)
    by_target = correlation_table(frame, ["target"], **options)
    assert len(by_target) == 2 * 2 * 3 and (by_target["n"] == 10).all()
    by_both = correlation_table(frame, ["target", "language"], **options)
    assert len(by_both) == 2 * 2 * 2 * 3 and (by_both["n"] == 5).all()
    assert list(by_both.columns[:4]) == ["estimator", "target", "language", "method"]
    # a group's result depends on the seed and its own key only
    alone = correlation_table(frame[frame.estimator == "embed"], ["target"], **options)
    pd.testing.assert_frame_equal(alone, by_target[by_target.estimator == "embed"].reset_index(drop=True))


# ---------------------------------------------------------------- rows that come in units


def _units_frame(copies: int, seed: int = 3) -> pd.DataFrame:
    """5 intermediates x 2 targets, each (intermediate, target) pair repeated in `copies` languages with
    the same similarity and gain: pooling the languages adds rows, not information."""
    rng = np.random.default_rng(seed)
    rows = []
    for target in ("t1", "t2"):
        for unit in range(5):
            similarity, gain = rng.normal(), rng.normal()
            rows += [("e", target, f"i{unit}", f"l{k}", similarity, gain) for k in range(copies)]
    return pd.DataFrame(
        rows, columns=["estimator", "target", "intermediate", "language", "similarity", "gain"]
    )


def test_pooled_languages_are_tested_over_whole_intermediates() -> None:
    """Copying every pair into 10 languages leaves the unit test's coefficient and exact p-value what they
    are with one language, while the row-wise test, taking 100 rows for 100 independent pairs, finds a
    'significant' correlation in the same noise."""
    from xlt.analysis.correlation import Units

    options = {"resamples": 200, "permutations": 20_000}  # 5!^2 = 14400: exact enumeration
    one = correlation_table(_units_frame(1), [], units=Units(), **options).set_index("method")
    ten = correlation_table(_units_frame(10), [], units=Units(), **options).set_index("method")
    naive = correlation_table(_units_frame(10), [], resamples=200, permutations=2000).set_index("method")
    for method in ("spearman", "pearson"):  # unchanged by copying every pair (kendall's tau-b is not)
        assert ten.coefficient[method] == pytest.approx(one.coefficient[method])
        assert ten.p_value[method] == pytest.approx(one.p_value[method])
        assert ten.units[method] == 10 and ten.n[method] == 100
    assert one.p_value["spearman"] > 0.2 and naive.p_value["spearman"] < 0.01
    # the interval resamples intermediates, so it is as wide as with one language, not 10x narrower
    assert ten.ci_high["spearman"] - ten.ci_low["spearman"] > 0.5


def test_pooling_targets_compares_intermediates_within_each_target() -> None:
    """Two targets whose similarities and gains differ only in level (another metric, another estimator
    scale), with no relation inside either: the rows pooled as they are correlate almost perfectly; within
    each target there is nothing."""
    from xlt.analysis.correlation import Units

    rng = np.random.default_rng(5)
    rows = []
    for target, level in (("xnli", 0.0), ("semrel", 1.0)):
        for unit in range(6):
            rows.append(
                ("e", target, f"i{unit}", "macro-avg", level + 0.1 * rng.normal(), level + 0.1 * rng.normal())
            )
    frame = pd.DataFrame(
        rows, columns=["estimator", "target", "intermediate", "language", "similarity", "gain"]
    )
    options = {"resamples": 200, "permutations": 2000}
    naive = correlation_table(frame, [], **options).set_index("method")
    within = correlation_table(frame, [], units=Units(), **options).set_index("method")
    assert naive.coefficient["spearman"] > 0.6 and naive.p_value["spearman"] < 0.05
    assert abs(within.coefficient["spearman"]) < 0.5 and within.p_value["spearman"] > 0.1
    assert within.units["spearman"] == 12


def test_a_language_some_intermediate_lacks_is_left_out_of_its_target() -> None:
    from xlt.analysis.correlation import Units, unit_layout

    frame = _units_frame(3)
    frame = frame[~((frame.target == "t1") & (frame.intermediate == "i0") & (frame.language == "l2"))]
    x, _, layout = unit_layout(frame, Units())
    assert layout.units == (5, 5) and layout.widths == (2, 3) and len(x) == 5 * 2 + 5 * 3
    # every permutation keeps each row's language: units are swapped whole within their target
    orders, exact = layout.permutations(10, np.random.default_rng(0), 100)
    assert not exact
    for order in np.concatenate(list(orders)):
        assert set(order[:10]) == set(range(10)) and set(order[10:]) == set(range(10, 25))
        assert all(order[i] % 2 == i % 2 for i in range(10))  # t1: 2 languages per intermediate
        assert all((order[i] - 10) % 3 == (i - 10) % 3 for i in range(10, 25))  # t2: 3


# ---------------------------------------------------------------- mixed effects


def test_mixed_effects_without_statsmodels(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ["statsmodels", "statsmodels.formula", "statsmodels.formula.api"]:
        monkeypatch.setitem(sys.modules, module, None)  # makes `import statsmodels...` raise ImportError
    frame = _correlation_frame()
    assert mixed_effects(frame[frame.estimator == "dice"]) is None


def test_mixed_effects_sanity_fit() -> None:
    pytest.importorskip("statsmodels")
    rng = np.random.default_rng(4)
    targets, languages = [f"t{i}" for i in range(6)], [f"l{i}" for i in range(5)]
    t_effect, l_effect = (
        dict(zip(targets, rng.normal(size=6), strict=True)),
        dict(zip(languages, rng.normal(size=5), strict=True)),
    )
    rows = []
    for target, language, _ in itertools.product(targets, languages, range(4)):
        similarity = rng.normal()
        gain = 2.0 * similarity + t_effect[target] + l_effect[language] + 0.3 * rng.normal()
        rows.append((target, language, similarity, gain))
    frame = pd.DataFrame(rows, columns=["target", "language", "similarity", "gain"])
    result = mixed_effects(frame)
    assert result is not None
    assert result["slope"] == pytest.approx(2.0, abs=0.2)
    assert result["stderr"] > 0 and result["p_value"] < 1e-6 and result["n"] == len(frame)
    assert mixed_effects(frame.assign(language="de")) is None  # one language level


def test_mixed_effects_gives_each_intermediate_pair_its_own_intercept() -> None:
    """4 intermediates x 3 targets with one similarity per pair, copied into 8 languages with gains that
    share the pair's effect: without the pair's intercept the 96 rows count as independent and a slope
    that is pure noise looks certain; with it, the slope rests on the 12 pairs."""
    pytest.importorskip("statsmodels")
    rng = np.random.default_rng(7)
    rows = []
    for target, intermediate in itertools.product(["t0", "t1", "t2"], ["a", "b", "c", "d"]):
        similarity, effect = rng.normal(), rng.normal()
        for language in range(8):
            rows.append((target, intermediate, f"l{language}", similarity, effect + 0.05 * rng.normal()))
    frame = pd.DataFrame(rows, columns=["target", "intermediate", "language", "similarity", "gain"])
    naive = mixed_effects(frame.drop(columns="intermediate"))
    paired = mixed_effects(frame)
    assert naive is not None and paired is not None
    assert paired["grouping"] in ("target+language+pair", "pair")
    assert naive["p_value"] < 0.05 < paired["p_value"]  # 0.0099 and 0.96 here
