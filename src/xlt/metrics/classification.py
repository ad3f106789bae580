"""Accuracy and macro F1 of predicted labels (classification and multiple choice)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def _labels_1d(values: ArrayLike, name: str) -> list[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {array.shape}")
    return list(array.tolist())


def _paired_labels(predictions: ArrayLike, gold: ArrayLike) -> tuple[list[Any], list[Any]]:
    pred, ref = _labels_1d(predictions, "predictions"), _labels_1d(gold, "gold")
    if len(pred) != len(ref):
        raise ValueError(f"predictions and gold differ in length: {len(pred)} != {len(ref)}")
    if not ref:
        raise ValueError("cannot score empty input")
    return pred, ref


def accuracy(predictions: ArrayLike, gold: ArrayLike) -> float:
    """Fraction of items whose predicted label equals the gold label (XNLI, PAWS-X, XCOPA).

    Labels are compared as Python values, so ints and strings both work; empty input raises ValueError.
    """
    pred, ref = _paired_labels(predictions, gold)
    return sum(p == g for p, g in zip(pred, ref, strict=True)) / len(ref)


def macro_f1(predictions: ArrayLike, gold: ArrayLike, labels: Sequence[Hashable] | None = None) -> float:
    """Unweighted mean of per-class F1 (UMSAB sentiment), so rare classes weigh as much as frequent ones.

    Classes are the union of gold and predicted labels, or `labels` if given (items with other labels then
    still count as errors, as in sklearn). A class with neither gold nor predicted items is skipped (sklearn
    would count it as F1 = 0); a class with precision + recall = 0 has F1 = 0. Per class,
    F1 = 2 tp / (n_predicted + n_gold), which equals 2PR / (P + R). Empty input, or `labels` none of which
    occurs, raises ValueError.
    """
    pred, ref = _paired_labels(predictions, gold)
    n_pred, n_gold = Counter(pred), Counter(ref)
    true_pos = Counter(g for p, g in zip(pred, ref, strict=True) if p == g)
    classes = list(dict.fromkeys(labels)) if labels is not None else list(dict.fromkeys([*ref, *pred]))
    scores = [2 * true_pos[c] / (n_pred[c] + n_gold[c]) for c in classes if n_pred[c] + n_gold[c] > 0]
    if not scores:
        raise ValueError("none of the given labels occurs in predictions or gold")
    return float(np.mean(scores))
