"""Correlation metrics of pair-regression scores, and their row-wise forms for the bootstrap.

A correlation is not a sum over items, so a bootstrap cannot resample per-item statistics; instead the
row-wise forms score every resample (one row of an (n_rows, n) array) at once. Degenerate input (fewer than
two items, or a constant side) gives nan rather than an error, both here and row-wise.
"""

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


def rowwise_pearson(predictions: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Pearson's r of each row of two (n_rows, n) arrays at once (used by the bootstrap); nan for a
    constant row."""
    pred = np.array(predictions, dtype=np.float64)
    ref = np.array(gold, dtype=np.float64)
    pred -= pred.mean(axis=1, keepdims=True)
    ref -= ref.mean(axis=1, keepdims=True)
    denom = np.sqrt((pred**2).sum(axis=1) * (ref**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((pred * ref).sum(axis=1) / denom)


def rowwise_spearman(predictions: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman of each row of two (n_rows, n) arrays at once: Pearson's r of the average ranks."""
    return rowwise_pearson(stats.rankdata(predictions, axis=1), stats.rankdata(gold, axis=1))
