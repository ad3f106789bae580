"""RS-DA training data: each example plus K copies whose English words are replaced by uniform draws from
themselves and their counter-fitted neighbours (randomized smoothing with data augmentation)."""

from __future__ import annotations

from typing import Any

import numpy as np
from datasets import Dataset

from xlt.data.schema import TaskType
from xlt.robustness.neighbours import Neighbours
from xlt.robustness.perturb import substitute_word, synonym_substitute


def _augment_row(
    task_type: TaskType, row: dict[str, Any], neighbours: Neighbours, rng: np.random.Generator
) -> dict[str, Any]:
    copy = dict(row)
    if task_type in (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION):
        copy["sentence1"] = synonym_substitute(row["sentence1"], neighbours, rng)
        copy["sentence2"] = synonym_substitute(row["sentence2"], neighbours, rng)
    elif task_type == TaskType.SINGLE_CLASSIFICATION:
        copy["text"] = synonym_substitute(row["text"], neighbours, rng)
    elif task_type == TaskType.MULTIPLE_CHOICE:
        copy["premise"] = synonym_substitute(row["premise"], neighbours, rng)
        copy["choices"] = [synonym_substitute(c, neighbours, rng) for c in row["choices"]]
    elif task_type == TaskType.TOKEN_TAGGING:  # one word per token: the tags stay aligned
        copy["tokens"] = [substitute_word(token, neighbours, rng) for token in row["tokens"]]
    elif task_type == TaskType.EXTRACTIVE_QA:  # the context keeps its answer offsets
        copy["question"] = synonym_substitute(row["question"], neighbours, rng)
    return copy


def augment_dataset(
    data: Dataset, task_type: TaskType, neighbours: Neighbours, copies: int, seed: int
) -> Dataset:
    """The original rows followed by `copies` augmented copies of each (ids suffixed with #k)."""
    rng = np.random.default_rng(seed)
    rows = list(data)
    augmented = list(rows)
    for k in range(1, copies + 1):
        for row in rows:
            copy = _augment_row(task_type, row, neighbours, rng)
            copy["id"] = f"{row['id']}#{k}"
            augmented.append(copy)
    return Dataset.from_list(augmented, features=data.features)
