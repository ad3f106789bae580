"""Retrieval by nearest neighbours of sentence embeddings: accuracy@1 of bitext retrieval (Tatoeba), mean
average precision at 20 of answer retrieval from a pool (LAReQA), and margin-based bitext mining with the F1
of the mined pairs at a threshold (BUCC).

Similarities are cosines: rows are L2-normalised here. Searches over a large pool go through `top_k` in
blocks of query rows, so memory stays at one block of similarities whatever the pool size.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

MAP_K = 20  # LAReQA / XTREME-R: mAP@20
MARGIN_NEIGHBOURS = 4  # Artetxe and Schwenk 2019 / XTREME: k of the ratio margin
_BLOCK = 1024  # query rows per block of similarities


def unit_rows(matrix: np.ndarray, name: str, dtype: type[np.floating] = np.float64) -> np.ndarray:
    """`matrix` (n, d) as `dtype` with every row scaled to length 1; all-zero rows (they have no direction)
    and non-finite values raise ValueError."""
    matrix = np.asarray(matrix, dtype=dtype)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be an (n, d) array, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} contains nan or inf")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if not (norms > 0).all():
        raise ValueError(f"{name} has all-zero rows, e.g. row {int(np.argmin(norms[:, 0] > 0))}")
    return np.asarray(matrix / norms)


def retrieval_accuracy(source_emb: np.ndarray, target_emb: np.ndarray) -> dict[str, float]:
    """Accuracy@1 of nearest-neighbour search by cosine similarity, both ways (Tatoeba).

    Rows i of the two (n, d) arrays embed a translation pair, so item i's correct match is i. Rows are
    L2-normalised here. Ties go to the lowest index (np.argmax), which matters only for identical
    embeddings such as duplicate sentences. Returns "source_to_target" (each source row queries all target
    rows), "target_to_source" and their "mean". No rows, an all-zero row (it has no direction, and the
    tie rule would silently match it to row 0) or a non-finite value raises ValueError.
    """
    source, target = np.asarray(source_emb, dtype=np.float64), np.asarray(target_emb, dtype=np.float64)
    if source.ndim != 2 or source.shape != target.shape:
        raise ValueError(f"need two (n, d) arrays of one shape, got {source.shape} and {target.shape}")
    if len(source) == 0:
        raise ValueError("cannot score empty input: no sentences")
    similarity = unit_rows(source, "source_emb") @ unit_rows(target, "target_emb").T
    expected = np.arange(len(source))
    forward = float(np.mean(similarity.argmax(axis=1) == expected))
    backward = float(np.mean(similarity.argmax(axis=0) == expected))
    return {"source_to_target": forward, "target_to_source": backward, "mean": (forward + backward) / 2}


def top_k(queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most cosine-similar candidates of every query, most similar first: their indices and
    similarities, both (n_queries, min(k, n_candidates)). Equal similarities among the k are ordered by
    index."""
    if len(candidates) == 0 or k < 1:
        raise ValueError("need at least one candidate and k >= 1")
    q, c = unit_rows(queries, "queries", np.float32), unit_rows(candidates, "candidates", np.float32)
    k = min(k, len(c))
    indices = np.empty((len(q), k), dtype=np.int64)
    similarities = np.empty((len(q), k), dtype=np.float32)
    for start in range(0, len(q), _BLOCK):
        block = q[start : start + _BLOCK] @ c.T
        if k < len(c):
            chosen = np.argpartition(-block, k - 1, axis=1)[:, :k]
        else:
            chosen = np.tile(np.arange(len(c)), (len(block), 1))
        values = np.take_along_axis(block, chosen, axis=1)
        order = np.lexsort((chosen, -values), axis=1)
        indices[start : start + len(block)] = np.take_along_axis(chosen, order, axis=1)
        similarities[start : start + len(block)] = np.take_along_axis(values, order, axis=1)
    return indices, similarities


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int = MAP_K) -> float:
    """AP@k of one ranking: the precision at the rank of each relevant item among the first k, summed and
    divided by min(number relevant, k) (LAReQA's definition, as XTREME-R scores it); an item repeated in
    the ranking counts once. No relevant item raises ValueError (AP is undefined)."""
    wanted = set(relevant)
    if not wanted:
        raise ValueError("average precision needs at least one relevant item")
    hits, total, seen = 0, 0.0, set()
    for rank, item in enumerate(ranked[:k], start=1):
        if item in wanted and item not in seen:
            hits += 1
            total += hits / rank
        seen.add(item)
    return total / min(len(wanted), k)


def map_at_k(rankings: Sequence[Sequence[str]], relevant: Sequence[Collection[str]], k: int = MAP_K) -> float:
    """Mean over queries of AP@k: `rankings[i]` the candidates ranked for query i, `relevant[i]` its right
    ones."""
    if len(rankings) != len(relevant):
        raise ValueError(f"{len(rankings)} rankings but {len(relevant)} relevant sets")
    if not rankings:
        raise ValueError("cannot score empty input: no queries")
    return float(np.mean([average_precision_at_k(r, g, k) for r, g in zip(rankings, relevant, strict=True)]))


@dataclass(frozen=True)
class MinedPairs:
    """Mined (source, target) index pairs with their margin scores, best first; every source and every
    target sentence is in at most one pair."""

    source: np.ndarray
    target: np.ndarray
    score: np.ndarray


def margin_candidates(
    source: np.ndarray, target: np.ndarray, k: int = MARGIN_NEIGHBOURS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each source sentence's best target by ratio margin among its k nearest targets, and each target's
    best source among its k nearest sources (Artetxe and Schwenk 2019):

        margin(x, y) = cos(x, y) / ((mean cos of x to its k nearest targets
                                     + mean cos of y to its k nearest sources) / 2)

    Returns (best target of each source, its margin, best source of each target, its margin)."""
    forward, forward_sim = top_k(source, target, k)
    backward, backward_sim = top_k(target, source, k)
    forward_mean, backward_mean = forward_sim.mean(axis=1), backward_sim.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        forward_margin = forward_sim / ((forward_mean[:, None] + backward_mean[forward]) / 2)
        backward_margin = backward_sim / ((backward_mean[:, None] + forward_mean[backward]) / 2)
    forward_margin = np.nan_to_num(forward_margin, nan=-np.inf)
    backward_margin = np.nan_to_num(backward_margin, nan=-np.inf)
    rows_f, rows_b = np.arange(len(forward)), np.arange(len(backward))
    best_f, best_b = forward_margin.argmax(axis=1), backward_margin.argmax(axis=1)
    return (
        forward[rows_f, best_f],
        forward_margin[rows_f, best_f],
        backward[rows_b, best_b],
        backward_margin[rows_b, best_b],
    )


def mine_bitext(source: np.ndarray, target: np.ndarray, k: int = MARGIN_NEIGHBOURS) -> MinedPairs:
    """Bitext mining as XTREME runs it for BUCC ("max" retrieval, ratio margin, k = 4): the best pair of
    every source sentence and of every target sentence (`margin_candidates`) are pooled and taken greedily
    by descending margin, a pair being kept only while neither of its sentences is in a kept pair; pairs of
    margin <= 0 are dropped. Equal margins are taken forward candidates first, then by position."""
    best_target, forward_margin, best_source, backward_margin = margin_candidates(source, target, k)
    sources = np.concatenate([np.arange(len(source)), best_source])
    targets = np.concatenate([best_target, np.arange(len(target))])
    scores = np.concatenate([forward_margin, backward_margin])
    kept: list[int] = []
    used_source: set[int] = set()
    used_target: set[int] = set()
    for i in np.argsort(-scores, kind="stable"):
        s, t = int(sources[i]), int(targets[i])
        if scores[i] > 0 and s not in used_source and t not in used_target:
            used_source.add(s)
            used_target.add(t)
            kept.append(int(i))
    chosen = np.asarray(kept, dtype=np.int64)
    return MinedPairs(sources[chosen], targets[chosen], scores[chosen])


@dataclass(frozen=True)
class ThresholdChoice:
    """The margin threshold that maximises F1 of the mined pairs against the gold pairs: pairs scoring at
    least `threshold` are kept."""

    threshold: float
    kept: int
    correct: int
    gold: int
    precision: float
    recall: float
    f1: float


def best_threshold(scores: np.ndarray, correct: np.ndarray, n_gold: int) -> ThresholdChoice:
    """The threshold of best F1 over candidate pairs sorted by descending `scores`, `correct[i]` saying
    whether pair i is a gold pair (XTREME's `bucc_optimize`). Only cuts between different scores are tried,
    so pairs of equal score are kept or dropped together; of equally good cuts the highest wins. The
    threshold is the midpoint between the last kept score and the next (the last score when all are kept);
    with no correct pair nothing is kept (F1 0, threshold +inf)."""
    scores, correct = np.asarray(scores, dtype=float), np.asarray(correct, dtype=bool)
    if len(scores) != len(correct):
        raise ValueError(f"{len(scores)} scores but {len(correct)} correctness flags")
    if n_gold < 1:
        raise ValueError("cannot choose a threshold without gold pairs")
    if len(scores) > 1 and np.any(np.diff(scores) > 0):
        raise ValueError("scores must be sorted best first")
    hits = np.cumsum(correct)
    cuts = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))  # last index of each run of a score
    if len(cuts) == 0 or hits[-1] == 0:
        return ThresholdChoice(float("inf"), 0, 0, n_gold, 0.0, 0.0, 0.0)
    f1 = 2 * hits[cuts] / (cuts + 1 + n_gold)
    cut = int(cuts[int(np.argmax(f1))])
    kept, found = cut + 1, int(hits[cut])
    threshold = (scores[cut] + scores[cut + 1]) / 2 if kept < len(scores) else scores[cut]
    precision, recall = found / kept, found / n_gold
    return ThresholdChoice(float(threshold), kept, found, n_gold, precision, recall, float(f1.max()))


def mining_f1(predictions: Sequence[str], gold: Sequence[Collection[str]]) -> float:
    """F1 of mined pairs, item by source sentence: `predictions[i]` the target id mined for source i ('' for
    none) and `gold[i]` its gold target ids (mostly none). F1 = 2 correct / (mined + gold), 0 when there is
    neither."""
    if len(predictions) != len(gold):
        raise ValueError(f"{len(predictions)} predictions but {len(gold)} gold entries")
    if not predictions:
        raise ValueError("cannot score empty input: no source sentences")
    correct = sum(1 for p, g in zip(predictions, gold, strict=True) if p and p in g)
    mined = sum(1 for p in predictions if p)
    total = mined + sum(len(g) for g in gold)
    return 2 * correct / total if total else 0.0
