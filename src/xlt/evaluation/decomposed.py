"""Metrics written as sums of per-item statistics, so that a bootstrap can resample items cheaply.

`item_stats(pred, gold)` gives an (n, k) array; a score is `reduce(stats[subset].sum(axis=0))`. Each
reduction gives the same number as the metric in `metrics.py` on the full set (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt.evaluation.metrics import iob2_spans, qa_f1_em


@dataclass(frozen=True)
class Decomposed:
    item_stats: Callable[[list[Any], list[Any]], np.ndarray]
    reduce: Callable[[np.ndarray], np.ndarray]


def _ratio(sums: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(sums[..., 0] / sums[..., 1])


def _correct(pred: list[Any], gold: list[Any]) -> np.ndarray:
    hits = np.array([p == g for p, g in zip(pred, gold, strict=True)], dtype=float)
    return np.stack([hits, np.ones_like(hits)], axis=1)


def _retrieval(pred: list[Any], gold: list[Any]) -> np.ndarray:
    hits = np.asarray(pred, dtype=float)
    return np.stack([hits, np.ones_like(hits)], axis=1)


def _token_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    return np.array(
        [[sum(a == b for a, b in zip(p, g, strict=True)), len(g)] for p, g in zip(pred, gold, strict=True)],
        dtype=float,
    )


def _entity_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    rows = []
    for p, g in zip(pred, gold, strict=True):
        pred_spans, gold_spans = iob2_spans(p), iob2_spans(g)
        rows.append([len(pred_spans & gold_spans), len(pred_spans), len(gold_spans)])
    return np.array(rows, dtype=float).reshape(-1, 3)


def _entity_f1(sums: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * sums[..., 0] / (sums[..., 1] + sums[..., 2])
    return np.asarray(np.nan_to_num(f1, nan=0.0))


def _class_counts(pred: list[Any], gold: list[Any]) -> np.ndarray:
    """Per item and class: [true positive, predicted, gold] indicators, classes in sorted order."""
    classes = sorted(set(pred) | set(gold))
    p, g = np.asarray(pred), np.asarray(gold)
    columns = []
    for c in classes:
        columns += [(p == c) & (g == c), p == c, g == c]
    return np.stack(columns, axis=1).astype(float)


def _macro_f1(sums: np.ndarray) -> np.ndarray:
    tp, predicted, actual = sums[..., 0::3], sums[..., 1::3], sums[..., 2::3]
    present = (predicted + actual) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(present, 2 * tp / np.where(present, predicted + actual, 1), 0.0)
    return np.asarray(f1.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1))


def _qa_f1(pred: list[Any], gold: list[Any]) -> np.ndarray:
    scores = [qa_f1_em({"q": p}, {"q": list(g)})["f1"] for p, g in zip(pred, gold, strict=True)]
    return np.stack([np.asarray(scores, dtype=float), np.ones(len(scores))], axis=1)


DECOMPOSED: dict[str, Decomposed] = {
    "accuracy": Decomposed(_correct, _ratio),
    "retrieval_accuracy": Decomposed(_retrieval, _ratio),
    "upos_accuracy": Decomposed(_token_counts, _ratio),
    "entity_f1": Decomposed(_entity_counts, _entity_f1),
    "macro_f1": Decomposed(_class_counts, _macro_f1),
    "squad_f1": Decomposed(_qa_f1, _ratio),
}
