"""The one way xlt draws a fixed random subset: evaluation limits, similarity samples, Tatoeba splits.

Every caller draws with `numpy.random.default_rng(seed).choice(n, size, replace=False)` and keeps file
order, so that a subset depends only on (n, size, seed) and a cached result keyed by those stays valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from xlt.core.errors import ConfigError

if TYPE_CHECKING:
    from datasets import Dataset

T = TypeVar("T")


def subset_indices(n: int, size: int | None, seed: int | Sequence[int] = 0) -> np.ndarray:
    """`size` of range(n), drawn without replacement and sorted; all of them if `size` is None or >= n."""
    if size is not None and size < 1:
        raise ConfigError(f"a sample size must be at least 1, got {size}", "use a positive number")
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def subset_rows(rows: Dataset, size: int | None, seed: int | Sequence[int] = 0) -> Dataset:
    """The rows of `subset_indices(len(rows), size, seed)`; `rows` itself when nothing is left out."""
    if size is None or size >= len(rows):
        return rows
    return rows.select(subset_indices(len(rows), size, seed).tolist())


def subset_items(items: list[T], size: int | None, seed: int | Sequence[int] = 0) -> list[T]:
    """The items at `subset_indices(len(items), size, seed)`, in their original order."""
    return [items[int(i)] for i in subset_indices(len(items), size, seed)]
