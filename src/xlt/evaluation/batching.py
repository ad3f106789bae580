"""Predictions for several test sets in one pass: the sets of every language of a target (and a robustness
suite's perturbed sets) are concatenated and batched by length across languages, so batches are fuller and
padded less than when each language's few hundred items are batched alone (XNLI, 15 x 200 items on
me5-small: 1.2-1.3x faster, `benchmarks/README.md`). Where the language changes the model (an encoder with
per-language projections after pooling), each set goes through alone with its language.

Items are predicted independently of their batch-mates (padding is masked), so joint and per-language
predictions agree up to the numerical noise of different batch shapes.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

from datasets import Dataset, concatenate_datasets

from xlt.models.precision import Precision
from xlt.training.kinds.base import TaskKind

K = TypeVar("K", bound=Hashable)


def language_free(kind: Any) -> bool:
    """Whether `kind` (or the model a smoothed kind wraps) predicts the same whatever the language."""
    base = getattr(kind, "kind", kind)
    return getattr(base.encoder, "post_pooling", None) is None


def split_back(values: Sequence[Any], sizes: Sequence[int]) -> list[list[Any]]:
    """`values` of concatenated sets cut back into the sets, of `sizes` items each, in order."""
    parts, start = [], 0
    for size in sizes:
        parts.append(list(values[start : start + size]))
        start += size
    return parts


def predict_sets(
    kind: TaskKind,
    sets: Mapping[K, tuple[Dataset, str | None]],
    *,
    batch_size: int = 64,
    precision: Precision = "auto",
) -> dict[K, list[Any]]:
    """key -> predictions for each (data, language) of `sets`, in the order of its data."""

    def alone(data: Dataset, language: str | None) -> list[Any]:
        if len(data) == 0:
            return []
        return kind.predict(data, batch_size=batch_size, precision=precision, language=language)

    if not language_free(kind):
        return {key: alone(data, language) for key, (data, language) in sets.items()}
    # sets can be concatenated only where their columns agree (an out-of-domain task may differ)
    groups: list[list[K]] = []
    for key, (data, _) in sets.items():
        if len(data) == 0:
            continue
        group = next((g for g in groups if sets[g[0]][0].features == data.features), None)
        if group is None:
            groups.append([key])
        else:
            group.append(key)
    predictions: dict[K, list[Any]] = {key: [] for key in sets}
    for group in groups:
        if len(group) == 1:
            data, language = sets[group[0]]
            predictions[group[0]] = alone(data, language)
            continue
        joint = concatenate_datasets([sets[key][0] for key in group])
        flat = kind.predict(joint, batch_size=batch_size, precision=precision, language=None)
        parts = split_back(flat, [len(sets[key][0]) for key in group])
        predictions |= dict(zip(group, parts, strict=True))
    return predictions
