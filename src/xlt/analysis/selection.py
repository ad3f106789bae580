"""Does choosing intermediate tasks by similarity beat choosing them at random?

One *case* is a target task (optionally with a language or language group): every candidate intermediate
task c has a true gain g_c and a predicted score s_c (a similarity; higher means predicted better). The
predicted order lists the candidates by decreasing s_c.

Ties in the predicted scores are never broken arbitrarily. Candidates with equal scores (exact float
equality) form a *tie group*, and every score below is the exact expectation over the uniformly random
orderings of the candidates inside each tie group, computed in closed form. A predictor that scores all
candidates equally therefore gets exactly the scores of `random_expectation`.

Ties in the true gains need no special treatment for Regret and NDCG, which depend on gain values only; for
the rank of the best candidate, every candidate whose gain equals the maximum counts as "the best" and the
rank is the first position at which any of them appears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd

CASE_COLUMNS = ["estimator", "target", "language"]
INPUT_COLUMNS = [*CASE_COLUMNS, "intermediate", "similarity", "gain"]


@dataclass(frozen=True)
class SelectionScores:
    """Regret@k (in percent), NDCG@k and the 1-based rank of the best candidate, for one case and one k."""

    regret: float
    ndcg: float
    rank_of_best: float


def regret_at_k(true: Mapping[str, float], predicted: Mapping[str, float], k: int) -> float:
    """Expected Regret@k in percent.

    Regret@k = (g* − max_{c in top-k} g_c) / |g*| × 100, where g* is the largest true gain and top-k are the
    first k candidates of the predicted order (k is clipped to the number of candidates n). When g* = 0 the
    denominator |g*| is replaced by 1, so the regret is then the absolute shortfall (× 100) instead of a
    relative one.

    With predicted ties, the top-k holds every tie group entirely above position k plus a uniformly random
    subset of the tie group that straddles position k; the expectation over that subset is exact.
    """
    gains, scores = _aligned(true, predicted)
    k = _clip_k(k, len(gains))
    return _regret(gains, _expected_best_in_top_k(gains, scores, k))


def ndcg_at_k(true: Mapping[str, float], predicted: Mapping[str, float], k: int) -> float:
    """Expected NDCG@k.

    The relevance of candidate c is rel_c = (g_c − min g) / (max g − min g), so the best candidate has
    relevance 1 and the worst 0; when all gains are equal every relevance is 1. DCG@k = Σ_{pos=1..k}
    rel(pos) / log2(pos + 1), with rel(pos) the relevance of the candidate at 1-based position pos of the
    predicted order, and NDCG@k = DCG@k / IDCG@k, where IDCG@k is DCG@k of the order by decreasing true gain
    (NDCG is 1.0 when IDCG@k = 0). k is clipped to n.

    With predicted ties, every candidate of a tie group is equally likely to sit at each position the group
    occupies, so the expected relevance at such a position is the group's mean relevance; since IDCG does
    not depend on the predicted order, E[NDCG@k] = E[DCG@k] / IDCG@k exactly.
    """
    gains, scores = _aligned(true, predicted)
    k = _clip_k(k, len(gains))
    rel = relevance(gains)
    expected_rel = np.empty(len(gains))
    position = 0
    for group in _tie_groups(scores):
        expected_rel[position : position + len(group)] = rel[group].mean()
        position += len(group)
    return _ndcg(expected_rel, rel, k)


def rank_of_best(true: Mapping[str, float], predicted: Mapping[str, float]) -> float:
    """Expected 1-based position, in the predicted order, of the first candidate with the largest true gain.

    If the first tie group that contains a best candidate starts at position p, has size m and contains
    b best candidates, the expected position is p − 1 + (m + 1) / (b + 1) (the expected minimum of b
    positions drawn without replacement from 1..m). With a single best candidate tied with m − 1 others
    this is p + (m − 1) / 2.
    """
    gains, scores = _aligned(true, predicted)
    is_best = gains == gains.max()
    start = 1
    for group in _tie_groups(scores):
        n_best = int(is_best[group].sum())
        if n_best:
            return start - 1 + (len(group) + 1) / (n_best + 1)
        start += len(group)
    raise AssertionError("unreachable: some candidate has the largest gain")


def random_expectation(true: Mapping[str, float], k: int) -> SelectionScores:
    """Exact expected scores under a uniformly random ordering of all candidates (no sampling).

    E[Regret@k] uses the distribution of the best gain in a uniformly random k-subset: with the n gains
    sorted decreasingly g_(1) ≥ … ≥ g_(n) and candidates treated as distinct, the subset's best gain is
    g_(j) with probability C(n − j, k − 1) / C(n, k) (j = the smallest sorted index drawn), which is correct
    with tied gains too. E[NDCG@k] = (Σ_{pos≤k} mean(rel) / log2(pos + 1)) / IDCG@k. E[rank of best] =
    (n + 1) / (b + 1) with b the number of candidates tied for the best gain, i.e. (n + 1) / 2 when the best
    is unique. This equals `selection_scores` with a predictor that scores every candidate equally.
    """
    gains = _gains(true)
    k = _clip_k(k, len(gains))
    rel = relevance(gains)
    n_best = int(np.sum(gains == gains.max()))
    return SelectionScores(
        regret=_regret(gains, expected_max_of_subset(gains, k)),
        ndcg=_ndcg(np.full(len(gains), rel.mean()), rel, k),
        rank_of_best=(len(gains) + 1) / (n_best + 1),
    )


def selection_scores(true: Mapping[str, float], predicted: Mapping[str, float], k: int) -> SelectionScores:
    """Regret@k, NDCG@k and the rank of the best candidate for one case (see the individual functions)."""
    return SelectionScores(
        regret=regret_at_k(true, predicted, k),
        ndcg=ndcg_at_k(true, predicted, k),
        rank_of_best=rank_of_best(true, predicted),
    )


def selection_table(frame: pd.DataFrame, *, ks: Sequence[int] = (1, 3)) -> pd.DataFrame:
    """Selection scores of every estimator on every (target, language) case, next to random choice.

    `frame` is long: one row per (estimator, target, language, intermediate) with columns `similarity`
    (the estimator's score) and `gain` (the true gain); `language` is an opaque key (a language, a group
    name or "macro-avg"). Returns one row per (estimator, target, language) with `n_candidates`,
    `regret@k` and `ndcg@k` for each k in `ks` (k is clipped to n_candidates, the column keeps the requested
    k), `rank_of_best`, and the exact random-choice expectations of the same case in the columns
    `random_regret@k`, `random_ndcg@k` and `random_rank_of_best`. Cases with fewer than 2 candidates are
    skipped. A duplicated (estimator, target, language, intermediate) row or a missing similarity or gain
    raises ValueError.
    """
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"selection_table: missing columns {missing}")
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty sequence of positive integers, got {ks!r}")
    duplicated = frame.duplicated([*CASE_COLUMNS, "intermediate"])
    if duplicated.any():
        raise ValueError(f"duplicated candidates, e.g. {frame.loc[duplicated].iloc[0].to_dict()}")
    rows = []
    for key, case in frame.groupby(CASE_COLUMNS, sort=True, dropna=False):
        if len(case) < 2:
            continue
        true = dict(zip(case["intermediate"], case["gain"].astype(float), strict=True))
        predicted = dict(zip(case["intermediate"], case["similarity"].astype(float), strict=True))
        rows.append({**dict(zip(CASE_COLUMNS, key, strict=True)), **_case_row(true, predicted, ks)})
    columns = [*CASE_COLUMNS, *_score_columns(ks)]
    return pd.DataFrame(rows, columns=columns)


def relevance(gains: np.ndarray) -> np.ndarray:
    """(g − min g) / (max g − min g): 1 for the best, 0 for the worst; all ones when all gains are equal."""
    spread = gains.max() - gains.min()
    return np.ones_like(gains) if spread == 0 else (gains - gains.min()) / spread


def expected_max_of_subset(values: np.ndarray, r: int, floor: float = -np.inf) -> float:
    """E[max(floor, max of a uniformly random r-subset of `values`)], exactly.

    With values sorted decreasingly v_(1) ≥ … ≥ v_(n) and treated as distinct items, the subset's maximum
    is v_(j) with probability C(n − j, r − 1) / C(n, r). For r = 0 the subset is empty and the result is
    `floor`.
    """
    n = len(values)
    if not 0 <= r <= n:
        raise ValueError(f"subset size {r} outside 0..{n}")
    if r == 0:
        return float(floor)
    ordered = np.sort(values)[::-1]
    total = comb(n, r)
    weights = np.array([comb(n - j, r - 1) / total for j in range(1, n + 1)])
    return float(np.sum(weights * np.maximum(ordered, floor)))


def _case_row(
    true: Mapping[str, float], predicted: Mapping[str, float], ks: Sequence[int]
) -> dict[str, float]:
    """The score columns of one case (see `selection_table`)."""
    row: dict[str, float] = {"n_candidates": len(true)}
    for k in ks:
        row[f"regret@{k}"] = regret_at_k(true, predicted, k)
        row[f"ndcg@{k}"] = ndcg_at_k(true, predicted, k)
    row["rank_of_best"] = rank_of_best(true, predicted)
    for k in ks:
        chance = random_expectation(true, k)
        row[f"random_regret@{k}"] = chance.regret
        row[f"random_ndcg@{k}"] = chance.ndcg
    row["random_rank_of_best"] = random_expectation(true, 1).rank_of_best
    return row


def _score_columns(ks: Sequence[int]) -> list[str]:
    observed = [name for k in ks for name in (f"regret@{k}", f"ndcg@{k}")]
    chance = [name for k in ks for name in (f"random_regret@{k}", f"random_ndcg@{k}")]
    return ["n_candidates", *observed, "rank_of_best", *chance, "random_rank_of_best"]


def _gains(true: Mapping[str, float]) -> np.ndarray:
    if not true:
        raise ValueError("no candidates")
    gains = np.array([float(v) for v in true.values()])
    if not np.all(np.isfinite(gains)):
        raise ValueError(f"true gains must be finite: {dict(true)}")
    return gains


def _aligned(true: Mapping[str, float], predicted: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Gains and predicted scores as arrays in the same candidate order; checks keys and finiteness."""
    if set(true) != set(predicted):
        raise ValueError(
            f"true and predicted differ in candidates: only in true {sorted(set(true) - set(predicted))}, "
            f"only in predicted {sorted(set(predicted) - set(true))}"
        )
    gains = _gains(true)
    scores = np.array([float(predicted[c]) for c in true])
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"predicted scores must be finite: {dict(predicted)}")
    return gains, scores


def _clip_k(k: int, n: int) -> int:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return min(k, n)


def _tie_groups(scores: np.ndarray) -> list[np.ndarray]:
    """Indices of the candidates grouped by equal score, groups in decreasing score order."""
    return [np.flatnonzero(scores == value) for value in np.unique(scores)[::-1]]


def _expected_best_in_top_k(gains: np.ndarray, scores: np.ndarray, k: int) -> float:
    """E[max gain among the first k predicted candidates], random within tie groups."""
    fixed_best = -np.inf
    taken = 0
    for group in _tie_groups(scores):
        if taken + len(group) >= k:
            return expected_max_of_subset(gains[group], k - taken, floor=fixed_best)
        fixed_best = max(fixed_best, float(gains[group].max()))
        taken += len(group)
    raise AssertionError("unreachable: k is clipped to the number of candidates")


def _regret(gains: np.ndarray, best_in_top_k: float) -> float:
    best = float(gains.max())
    denominator = abs(best) if best != 0 else 1.0
    return (best - best_in_top_k) / denominator * 100


def _ndcg(expected_rel: np.ndarray, rel: np.ndarray, k: int) -> float:
    """Σ_{pos≤k} expected_rel / log2(pos + 1), over the same sum for the relevances sorted decreasingly."""
    discount = 1 / np.log2(np.arange(2, k + 2))
    ideal = float(np.sum(np.sort(rel)[::-1][:k] * discount))
    return 1.0 if ideal == 0 else float(np.sum(expected_rel[:k] * discount)) / ideal
