"""Do similarity scores correlate with the gains of intermediate training?

`correlate` gives Spearman's rho, Kendall's tau-b and Pearson's r between similarities and gains, each
with a percentile-bootstrap confidence interval and a two-sided permutation p-value; `correlation_table`
does so per estimator and group; `mixed_effects` fits gain ~ similarity with random intercepts for the
target task and the language when the optional dependency statsmodels is installed.
"""

from __future__ import annotations

import importlib
import itertools
import math
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from xlt.analysis.gains import percentile_interval

METHODS = ("spearman", "kendall", "pearson")
RESULT_COLUMNS = ["coefficient", "ci_low", "ci_high", "p_value", "n"]
# Permutation and bootstrap statistics are computed on blocks of at most this many matrix elements.
BLOCK_ELEMENTS = 2_000_000
# Above this many pairs Kendall's tau on resampled rows uses scipy row by row (O(n log n)) instead of the
# vectorised O(n²) pairwise-sign formula.
KENDALL_PAIRWISE_MAX_N = 200
TOLERANCE = 1e-12

Rowwise = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CorrelationResult:
    """A correlation coefficient with its bootstrap interval, permutation p-value and number of pairs."""

    coefficient: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


class MixedEffectsResult(TypedDict):
    """Fixed slope of gain on similarity in a linear mixed model, and the random-effects grouping used."""

    slope: float
    stderr: float
    p_value: float
    n: int
    grouping: str


def correlate(
    similarity: npt.ArrayLike,
    gain: npt.ArrayLike,
    *,
    resamples: int = 1000,
    permutations: int = 10000,
    confidence: float = 0.95,
    rng: np.random.Generator,
) -> dict[str, CorrelationResult]:
    """Spearman, Kendall (tau-b) and Pearson correlation of paired `similarity` and `gain` values.

    Pairs with a NaN on either side are dropped and `n` counts the remaining pairs; infinite values raise
    ValueError. The coefficient is scipy.stats' (spearmanr, kendalltau with variant "b", pearsonr).

    Confidence interval: percentile bootstrap at level `confidence` over the n pairs drawn with replacement
    (`resamples` times, the same draws for all three methods). Resamples in which either side is constant
    are skipped; if fewer than half of the resamples remain the interval is (nan, nan).

    p-value: two-sided permutation test of the coefficient, permuting `gain` against `similarity`. When n! ≤
    `permutations`, all n! permutations are enumerated and p = #{|r_perm| ≥ |r_obs| − 1e-12} / n! (the
    identity included), which is exact; otherwise `permutations` uniformly random permutations are drawn
    and p = (1 + #{|r_perm| ≥ |r_obs| − 1e-12}) / (1 + permutations). With permutations = 0, p is nan.

    With n < 3 or a constant side, every field but `n` is nan (nothing is raised).
    """
    x, y = _paired(similarity, gain)
    n = len(x)
    if resamples < 0 or permutations < 0 or not 0 < confidence < 1:
        raise ValueError(
            f"need resamples ≥ 0, permutations ≥ 0, 0 < confidence < 1: got "
            f"{resamples}, {permutations}, {confidence}"
        )
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        nan = float("nan")
        return {method: CorrelationResult(nan, nan, nan, nan, n) for method in METHODS}
    observed = scipy_coefficients(x, y)
    replicates = _bootstrap(x, y, resamples, rng)
    p_values = _permutation_p_values(x, y, permutations, rng)
    results = {}
    for method in METHODS:
        valid = replicates[method]
        low, high = (
            percentile_interval(valid, confidence) if 2 * len(valid) >= resamples > 0 else (np.nan, np.nan)
        )
        results[method] = CorrelationResult(observed[method], low, high, p_values[method], n)
    return results


@dataclass(frozen=True)
class Units:
    """Columns saying that a table's rows are not independent pairs: each `unit` (an intermediate task)
    gives one row per `within` value (a language) in each `stratum` (a target). The similarity of an
    estimator that ignores the language is the same in every row of a unit, and the gains of one
    intermediate move together across languages, so the units, not the rows, are what the null hypothesis
    makes exchangeable: the permutation test permutes whole units within their stratum (the same
    permutation for every language) and the bootstrap draws whole units, and the MDE counts units. Both
    sides are centred within each (stratum, within) cell first, so pooling targets (or languages) compares
    intermediates within a target, never one target's level with another's."""

    unit: str = "intermediate"
    stratum: str = "target"
    within: str = "language"


@dataclass(frozen=True)
class Layout:
    """Rows ordered stratum by stratum, unit by unit, `within` value by value: stratum s holds `units[s]`
    units of `widths[s]` rows each from position `offsets[s]`."""

    offsets: tuple[int, ...]
    units: tuple[int, ...]
    widths: tuple[int, ...]

    @property
    def count(self) -> int:
        return sum(self.units)

    def _rows(self, chosen: list[np.ndarray]) -> np.ndarray:
        """Row positions (draws x rows) of the chosen units of each stratum (draws x units[s] each)."""
        parts = [
            offset + picked[:, :, None] * width + np.arange(width)
            for offset, width, picked in zip(self.offsets, self.widths, chosen, strict=True)
        ]
        return np.concatenate([part.reshape(len(part), -1) for part in parts], axis=1)

    def resample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """`size` cluster-bootstrap draws: in each stratum, as many units as it has, with replacement."""
        return self._rows([rng.integers(0, units, size=(size, units)) for units in self.units])

    def permutations(
        self, permutations: int, rng: np.random.Generator, block: int
    ) -> tuple[Iterator[np.ndarray], bool]:
        """Blocks of row orders that permute units within strata, and whether they are all of them (when
        their number, the product of units! over strata, is at most `permutations`)."""
        every = math.prod(math.factorial(units) for units in self.units)
        if every <= permutations:
            orders = [list(itertools.permutations(range(units))) for units in self.units]
            combos = list(itertools.product(*orders))
            chosen = [np.array([combo[s] for combo in combos], dtype=np.intp) for s in range(len(self.units))]
            rows = self._rows(chosen)
            return iter(np.array_split(rows, max(1, math.ceil(len(rows) / block)))), True

        def drawn() -> Iterator[np.ndarray]:
            for size in _blocks(permutations, block):
                chosen = [rng.permuted(np.tile(np.arange(units), (size, 1)), axis=1) for units in self.units]
                yield self._rows(chosen)

        return drawn(), False


def unit_layout(frame: pd.DataFrame, units: Units) -> tuple[np.ndarray, np.ndarray, Layout]:
    """(similarity, gain, layout) of `frame` in unit order, each centred on its (stratum, within) mean (a
    target's and a language's offsets removed). A stratum keeps the `within` values that every one of its
    units has (with both values), so that permuting units maps each row onto a row of the same language; a
    stratum with a single unit contributes nothing to a permutation or a bootstrap and is left out."""
    xs, ys, offsets, counts, widths = [], [], [], [], []
    position = 0
    data = frame.dropna(subset=["similarity", "gain"])
    for _, stratum in data.groupby(units.stratum, sort=True):
        similarity = stratum.pivot_table(
            index=units.unit, columns=units.within, values="similarity", aggfunc="mean"
        )
        gain = stratum.pivot_table(index=units.unit, columns=units.within, values="gain", aggfunc="mean")
        gain = gain.reindex(index=similarity.index, columns=similarity.columns)
        complete = similarity.notna().all(axis=0) & gain.notna().all(axis=0)
        similarity, gain = similarity.loc[:, complete], gain.loc[:, complete]
        if len(similarity) < 2 or similarity.shape[1] == 0:
            continue
        # centred within each (stratum, within) cell: a target whose similarities and gains are both
        # higher than another's (another metric, another estimator scale) is no evidence that the more
        # similar intermediate gains more
        xs.append((similarity - similarity.mean(axis=0)).to_numpy(float).ravel())
        ys.append((gain - gain.mean(axis=0)).to_numpy(float).ravel())
        offsets.append(position)
        counts.append(len(similarity))
        widths.append(similarity.shape[1])
        position += similarity.size
    if not xs:
        return np.empty(0), np.empty(0), Layout((), (), ())
    return np.concatenate(xs), np.concatenate(ys), Layout(tuple(offsets), tuple(counts), tuple(widths))


def correlate_units(
    frame: pd.DataFrame,
    units: Units,
    *,
    resamples: int = 1000,
    permutations: int = 10000,
    confidence: float = 0.95,
    rng: np.random.Generator,
) -> dict[str, tuple[CorrelationResult, int]]:
    """`correlate` of a table whose rows come in units (see `Units`): the coefficients over every row,
    the interval from a bootstrap of whole units within strata, the p-value from permuting whole units
    within strata; each with the number of units (what the MDE counts). Fewer than 3 units, or a constant
    side: every field but the counts is nan."""
    x, y, layout = unit_layout(frame, units)
    n, count = len(x), layout.count
    nan = float("nan")
    if count < 3 or n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {method: (CorrelationResult(nan, nan, nan, nan, n), count) for method in METHODS}
    observed = scipy_coefficients(x, y)
    replicates = _bootstrap(x, y, resamples, rng, layout)
    p_values = _permutation_p_values(x, y, permutations, rng, layout)
    results = {}
    for method in METHODS:
        valid = replicates[method]
        low, high = percentile_interval(valid, confidence) if 2 * len(valid) >= resamples > 0 else (nan, nan)
        results[method] = (CorrelationResult(observed[method], low, high, p_values[method], n), count)
    return results


def correlation_table(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    resamples: int = 1000,
    permutations: int = 10000,
    confidence: float = 0.95,
    seed: int = 0,
    units: Units | None = None,
) -> pd.DataFrame:
    """`correlate` per estimator and group of `by` columns (`by=[]` pools everything of one estimator).

    `frame` has columns `estimator`, `similarity`, `gain` and the `by` columns. Returns one row per
    (estimator, *by group, method) with columns estimator, *by, method, coefficient, ci_low, ci_high,
    p_value, n, units, methods in the order spearman, kendall, pearson; `units` is n unless `units` says
    the rows come in units (`correlate_units`: interval and p-value over whole units), when it counts
    them. Each group's random generator is seeded with (seed, CRC-32 of the group key), so a group's
    result does not depend on the other groups.
    """
    keys = ["estimator", *(c for c in by if c != "estimator")]
    missing = [c for c in [*keys, "similarity", "gain"] if c not in frame.columns]
    if missing:
        raise ValueError(f"correlation_table: missing columns {missing}")
    rows: list[dict[str, Any]] = []
    for key, group in frame.groupby(keys, sort=True, dropna=False):
        rng = np.random.default_rng([seed, _key_hash(key)])
        labels = dict(zip(keys, key, strict=True))
        if units is not None:
            clustered = correlate_units(
                group, units, resamples=resamples, permutations=permutations, confidence=confidence, rng=rng
            )
            rows.extend(
                {**labels, "method": method, **asdict(result), "units": count}
                for method, (result, count) in clustered.items()
            )
            continue
        results = correlate(
            group["similarity"].to_numpy(float),
            group["gain"].to_numpy(float),
            resamples=resamples,
            permutations=permutations,
            confidence=confidence,
            rng=rng,
        )
        rows.extend(
            {**labels, "method": method, **asdict(result), "units": result.n}
            for method, result in results.items()
        )
    return pd.DataFrame(rows, columns=[*keys, "method", *RESULT_COLUMNS, "units"])


def mixed_effects(frame: pd.DataFrame) -> MixedEffectsResult | None:
    """Slope of gain on similarity with random intercepts for target task and language (statsmodels).

    Model: gain = β0 + β1·similarity + u_target + v_language + ε, with crossed independent random
    intercepts u ~ N(0, σ_t²), v ~ N(0, σ_l²), fitted by REML with statsmodels' MixedLM as variance
    components within a single group (the way statsmodels expresses crossed random effects); `grouping`
    is then "target+language". With an `intermediate` column, a third intercept w_pair for each
    (target, intermediate) pair is added ("target+language+pair"), since a pair's rows share one
    similarity. If that fit fails or does not converge, a model with a random intercept for the target
    (the pair, with an `intermediate` column) only is tried, and `grouping` says which. Returns the
    fixed slope β1, its standard error, its Wald p-value and the number of rows used (rows with a missing
    value are dropped).

    Returns None when statsmodels is not installed, when target or language has fewer than 2 levels, or
    when no fit converges. `frame` needs columns similarity, gain, target and language and should hold a
    single estimator (a column `estimator` with several values raises ValueError).
    """
    missing = [c for c in ["similarity", "gain", "target", "language"] if c not in frame.columns]
    if missing:
        raise ValueError(f"mixed_effects: missing columns {missing}")
    if "estimator" in frame.columns and frame["estimator"].nunique() > 1:
        raise ValueError("mixed_effects: fit one estimator at a time")
    try:
        formula_api = importlib.import_module("statsmodels.formula.api")
    except ImportError:
        return None
    paired = "intermediate" in frame.columns
    columns = ["similarity", "gain", "target", "language", *(["intermediate"] if paired else [])]
    data = frame[columns].dropna()
    if data["target"].nunique() < 2 or data["language"].nunique() < 2:
        return None
    data = data.assign(
        similarity=data["similarity"].astype(float),
        gain=data["gain"].astype(float),
        target=data["target"].astype(str),
        language=data["language"].astype(str),
        single_group=0,
    )
    components = {"target": "0 + C(target)", "language": "0 + C(language)"}
    fallback: tuple[str, dict[str, Any]] = ("target", {"groups": "target"})
    if paired:
        # one (target, intermediate) pair gives a row per language with one similarity (for an estimator
        # that ignores the language): without its own intercept the rows would count as independent
        data = data.assign(pair=data["target"] + "|" + data["intermediate"].astype(str))
        components["pair"] = "0 + C(pair)"
        fallback = ("pair", {"groups": "pair"})
    crossed: dict[str, Any] = {"groups": "single_group", "re_formula": "0", "vc_formula": components}
    for grouping, options in (("+".join(components), crossed), fallback):
        fit = _fit_mixed(formula_api, data, options)
        if fit is not None:
            slope, stderr, p_value = fit
            return MixedEffectsResult(
                slope=slope, stderr=stderr, p_value=p_value, n=len(data), grouping=grouping
            )
    return None


def scipy_coefficients(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The three coefficients from scipy.stats (x and y non-constant, same length ≥ 2)."""
    return {
        "spearman": float(stats.spearmanr(x, y).statistic),
        "kendall": float(stats.kendalltau(x, y).statistic),
        "pearson": float(stats.pearsonr(x, y).statistic),
    }


def rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson's r between a[i] and b[i] for every row i (rows must be non-constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return np.asarray(np.sum(a * b, axis=1) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1)))


def rowwise_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho per row: Pearson's r of the average ranks (ties get the mean of their ranks)."""
    if len(a) == 0:
        return np.empty(0)
    return rowwise_pearson(stats.rankdata(a, axis=1), stats.rankdata(b, axis=1))


def rowwise_kendall(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b per row: Σ_{i<j} s_a s_b / sqrt(Σ|s_a| · Σ|s_b|), s = sign of the pair difference.

    The pairwise form costs O(n²) per row; for n above KENDALL_PAIRWISE_MAX_N scipy's O(n log n)
    kendalltau is called row by row instead.
    """
    n = a.shape[1]
    if n > KENDALL_PAIRWISE_MAX_N:
        return np.array([stats.kendalltau(ra, rb).statistic for ra, rb in zip(a, b, strict=True)])
    first, second = np.triu_indices(n, k=1)
    sign_a = np.sign(a[:, first] - a[:, second])
    sign_b = np.sign(b[:, first] - b[:, second])
    concordance = np.sum(sign_a * sign_b, axis=1)
    return np.asarray(concordance / np.sqrt(np.sum(np.abs(sign_a), axis=1) * np.sum(np.abs(sign_b), axis=1)))


ROWWISE: dict[str, Rowwise] = {
    "spearman": rowwise_spearman,
    "kendall": rowwise_kendall,
    "pearson": rowwise_pearson,
}


def _paired(similarity: npt.ArrayLike, gain: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as float vectors, pairs with a NaN dropped."""
    x = np.asarray(similarity, dtype=float).ravel()
    y = np.asarray(gain, dtype=float).ravel()
    if len(x) != len(y):
        raise ValueError(f"similarity and gain differ in length: {len(x)} vs {len(y)}")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("similarity and gain must not be infinite")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def _block_rows(n: int) -> int:
    """Rows per block so that a block of pairwise differences stays within BLOCK_ELEMENTS."""
    width = n * (n - 1) // 2 if n <= KENDALL_PAIRWISE_MAX_N else n
    return max(1, BLOCK_ELEMENTS // max(width, n, 1))


def _blocks(total: int, size: int) -> Iterator[int]:
    """Sizes of consecutive blocks of at most `size` that add up to `total`."""
    for start in range(0, total, size):
        yield min(size, total - start)


def _bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
    layout: Layout | None = None,
) -> dict[str, np.ndarray]:
    """Coefficients on `resamples` pair resamples (whole units within their strata when a `layout` says
    the rows come in units), resamples with a constant side left out."""
    n = len(x)
    replicates: dict[str, list[np.ndarray]] = {method: [] for method in METHODS}
    for size in _blocks(resamples, _block_rows(n)):
        rows = rng.integers(0, n, size=(size, n)) if layout is None else layout.resample(size, rng)
        xs, ys = x[rows], y[rows]
        valid = (np.ptp(xs, axis=1) > 0) & (np.ptp(ys, axis=1) > 0)
        for method in METHODS:
            replicates[method].append(ROWWISE[method](xs[valid], ys[valid]))
    return {
        method: np.concatenate(values) if values else np.empty(0) for method, values in replicates.items()
    }


def _permutation_orders(
    n: int, permutations: int, rng: np.random.Generator
) -> tuple[Iterator[np.ndarray], bool]:
    """Blocks of permutations of 0..n-1 (rows) and whether they enumerate all n! permutations."""
    exact = n <= 20 and math.factorial(n) <= permutations
    block = _block_rows(n)
    if exact:
        every = np.array(list(itertools.permutations(range(n))), dtype=np.intp)
        return iter(np.array_split(every, max(1, math.ceil(len(every) / block)))), True
    identity = np.arange(n)
    drawn = (rng.permuted(np.tile(identity, (size, 1)), axis=1) for size in _blocks(permutations, block))
    return drawn, False


def _permutation_p_values(
    x: np.ndarray,
    y: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
    layout: Layout | None = None,
) -> dict[str, float]:
    """Two-sided permutation p-value of each coefficient (see `correlate`; with a `layout`, whole units
    are permuted within their strata)."""
    if permutations == 0:
        return dict.fromkeys(METHODS, float("nan"))
    observed = {method: float(ROWWISE[method](x[None, :], y[None, :])[0]) for method in METHODS}
    rank_x, rank_y = stats.rankdata(x), stats.rankdata(y)
    counts = dict.fromkeys(METHODS, 0)
    total = 0
    if layout is None:
        orders, exact = _permutation_orders(len(x), permutations, rng)
    else:
        orders, exact = layout.permutations(permutations, rng, _block_rows(len(x)))
    for order in orders:
        total += len(order)
        permuted = {
            "pearson": (x, y[order]),
            "spearman": (rank_x, rank_y[order]),
            "kendall": (x, y[order]),
        }
        for method in METHODS:
            fixed, moved = permuted[method]
            coefficients = ROWWISE["pearson" if method == "spearman" else method](
                np.broadcast_to(fixed, moved.shape), moved
            )
            counts[method] += int(np.sum(np.abs(coefficients) >= abs(observed[method]) - TOLERANCE))
    if exact:
        return {method: counts[method] / total for method in METHODS}
    return {method: (1 + counts[method]) / (1 + total) for method in METHODS}


def _key_hash(key: tuple[Any, ...] | Any) -> int:
    """A stable 32-bit hash of a group key (independent of Python's per-process string hashing)."""
    parts = key if isinstance(key, tuple) else (key,)
    return zlib.crc32("\x1f".join(str(part) for part in parts).encode())


def _fit_mixed(
    formula_api: Any, data: pd.DataFrame, options: dict[str, Any]
) -> tuple[float, float, float] | None:
    """Slope, standard error and p-value of gain ~ similarity fitted by REML with the given grouping.

    None if the fit raises a numerical error, does not converge or gives a non-finite value.
    """
    # statsmodels computes the standard errors lazily: a singular covariance warns when they are read, so
    # they are read here, where a non-finite one is reported as no fit rather than printed to the user
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = formula_api.mixedlm("gain ~ similarity", data, **options).fit(reml=True)
            if not getattr(fitted, "converged", False):
                return None
            values = (
                float(fitted.fe_params["similarity"]),
                float(fitted.bse_fe["similarity"]),
                float(fitted.pvalues["similarity"]),
            )
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None
    return values if all(np.isfinite(values)) else None
