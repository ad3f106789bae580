"""The two forms in which a metric is recomputed on bootstrap resamples of its items.

`Decomposed`: the metric is a function of sums of per-item statistics, so a resample only re-adds rows:
`item_stats(pred, gold)` gives an (n, k) array and a score is `reduce(stats[subset].sum(axis=0))`.
`Rowwise`: the metric (a correlation) is not such a sum, so it is computed on every resample at once, one
resample per row. Either way, the form on all items gives the same number as the metric's scalar function
(tested for every registered metric).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt.metrics.qa import qa_f1_em
from xlt.metrics.retrieval import MAP_K, average_precision_at_k
from xlt.metrics.tagging import iob2_spans


@dataclass(frozen=True)
class Decomposed:
    item_stats: Callable[[list[Any], list[Any]], np.ndarray]
    reduce: Callable[[np.ndarray], np.ndarray]

    def resampled(self, pred: list[Any], gold: list[Any], items: np.ndarray) -> tuple[float, np.ndarray]:
        """The score on all items and on each resample (each row of `items` holds item indices)."""
        stats = self.item_stats(pred, gold)
        return float(self.reduce(stats.sum(axis=0))), self.reduce(stats[items].sum(axis=1))


@dataclass(frozen=True)
class Rowwise:
    function: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def resampled(self, pred: list[Any], gold: list[Any], items: np.ndarray) -> tuple[float, np.ndarray]:
        """The score on all items and on each resample (each row of `items` holds item indices)."""
        p, g = np.asarray(pred, dtype=float), np.asarray(gold, dtype=float)
        return float(self.function(p[None, :], g[None, :])[0]), self.function(p[items], g[items])


Bootstrap = Decomposed | Rowwise


def ratio(sums: np.ndarray) -> np.ndarray:
    """First statistic over second: hits over items, correct tokens over tokens."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(sums[..., 0] / sums[..., 1])


def label_hits(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per item: [predicted label == gold label, 1]."""
    hits = np.array([p == g for p, g in zip(pred, gold, strict=True)], dtype=float)
    return np.stack([hits, np.ones_like(hits)], axis=1)


def item_scores(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per item: [its score, 1], for predictions that are already per-item scores (retrieval hits)."""
    hits = np.asarray(pred, dtype=float)
    return np.stack([hits, np.ones_like(hits)], axis=1)


def token_hits(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per sentence: [correct tags, tokens]."""
    return np.array(
        [[sum(a == b for a, b in zip(p, g, strict=True)), len(g)] for p, g in zip(pred, gold, strict=True)],
        dtype=float,
    )


def entity_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per sentence: [correct entity spans, predicted spans, gold spans]."""
    rows = []
    for p, g in zip(pred, gold, strict=True):
        pred_spans, gold_spans = iob2_spans(p), iob2_spans(g)
        rows.append([len(pred_spans & gold_spans), len(pred_spans), len(gold_spans)])
    return np.array(rows, dtype=float).reshape(-1, 3)


def span_f1(sums: np.ndarray) -> np.ndarray:
    """Micro F1 = 2 correct / (predicted + gold), 0 when there are no spans at all (as seqeval)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * sums[..., 0] / (sums[..., 1] + sums[..., 2])
    return np.asarray(np.nan_to_num(f1, nan=0.0))


def class_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per item and class: [true positive, predicted, gold] indicators, classes in sorted order."""
    classes = sorted(set(pred) | set(gold))
    p, g = np.asarray(pred), np.asarray(gold)
    columns = []
    for c in classes:
        columns += [(p == c) & (g == c), p == c, g == c]
    return np.stack(columns, axis=1).astype(float)


def mean_class_f1(sums: np.ndarray) -> np.ndarray:
    """Mean F1 over the classes that occur (predicted or gold) in the resample."""
    tp, predicted, actual = sums[..., 0::3], sums[..., 1::3], sums[..., 2::3]
    present = (predicted + actual) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(present, 2 * tp / np.where(present, predicted + actual, 1), 0.0)
    return np.asarray(f1.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1))


def _answer_scores(pred: list[Any], gold: list[Any], score: str) -> np.ndarray:
    scores = [qa_f1_em({"q": p}, {"q": list(g)})[score] for p, g in zip(pred, gold, strict=True)]
    return np.stack([np.asarray(scores, dtype=float), np.ones(len(scores))], axis=1)


def answer_f1(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per question: [its SQuAD token F1 against the best of its gold answers, 1]."""
    return _answer_scores(pred, gold, "f1")


def answer_em(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per question: [1 if it matches one of its gold answers after normalisation else 0, 1]."""
    return _answer_scores(pred, gold, "exact_match")


def average_precisions(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per query: [its AP@20 (its ranked candidate ids against its relevant ids), 1]."""
    scores = [average_precision_at_k(p, g, MAP_K) for p, g in zip(pred, gold, strict=True)]
    return np.stack([np.asarray(scores, dtype=float), np.ones(len(scores))], axis=1).reshape(-1, 2)


def mined_pair_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per source sentence: [its mined pair is gold, it has a mined pair, its gold pairs]. A resample of
    source sentences re-adds these, so the fixed threshold's F1 is recomputed on it (`span_f1`)."""
    return np.array(
        [[float(bool(p) and p in g), float(bool(p)), float(len(g))] for p, g in zip(pred, gold, strict=True)],
        dtype=float,
    ).reshape(-1, 3)
