"""Metrics as pure functions of predictions and gold labels."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


def spearman(predictions: ArrayLike, gold: ArrayLike) -> float:
    """Spearman's rho with average ranks for ties (as the SemRel and STS organisers compute it)."""
    pred, ref = np.asarray(predictions, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if pred.shape != ref.shape or pred.ndim != 1:
        raise ValueError(f"spearman needs two 1-d arrays of one length, got {pred.shape} and {ref.shape}")
    if len(pred) < 2 or np.all(pred == pred[0]) or np.all(ref == ref[0]):
        return float("nan")
    return float(stats.spearmanr(pred, ref).statistic)


def pearson(predictions: ArrayLike, gold: ArrayLike) -> float:
    pred, ref = np.asarray(predictions, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if len(pred) < 2 or np.all(pred == pred[0]) or np.all(ref == ref[0]):
        return float("nan")
    return float(stats.pearsonr(pred, ref).statistic)


def rowwise_spearman(predictions: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman of each row of two (n_rows, n) arrays at once (used by the bootstrap)."""
    pred = stats.rankdata(predictions, axis=1)
    ref = stats.rankdata(gold, axis=1)
    pred -= pred.mean(axis=1, keepdims=True)
    ref -= ref.mean(axis=1, keepdims=True)
    denom = np.sqrt((pred**2).sum(axis=1) * (ref**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((pred * ref).sum(axis=1) / denom)


METRICS = {"spearman": spearman, "pearson": pearson}
