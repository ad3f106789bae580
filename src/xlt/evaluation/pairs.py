"""Zero-shot evaluation of sentence-pair similarity, per language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlt.evaluation.metrics import METRICS
from xlt.models.lexical import dice_scores
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec


@dataclass
class LanguagePredictions:
    language: str
    ids: list[str]
    gold: np.ndarray
    pred: np.ndarray
    score: float

    @property
    def n(self) -> int:
        return len(self.ids)


def score_pairs(
    encoder: SentenceEncoder | None,
    sentences1: list[str],
    sentences2: list[str],
    *,
    batch_size: int = 64,
    precision: Precision = "auto",
) -> np.ndarray:
    """Cosine similarity of each pair (each distinct sentence embedded once); Dice when `encoder` is None."""
    if encoder is None:
        return np.asarray(dice_scores(sentences1, sentences2), dtype=np.float64)
    unique = list(dict.fromkeys([*sentences1, *sentences2]))
    index = {s: i for i, s in enumerate(unique)}
    emb = encoder.encode(unique, batch_size=batch_size, precision=precision)
    first = emb[[index[s] for s in sentences1]]
    second = emb[[index[s] for s in sentences2]]
    return np.asarray((first * second).sum(axis=1), dtype=np.float64)


def subsample(n: int, limit: int | None) -> np.ndarray:
    """A fixed random subset (same for every language of equal size), in file order."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def evaluate_pairs(
    encoder: SentenceEncoder | None,
    task: TaskSpec,
    data_dir: Path,
    language: str,
    *,
    max_examples: int | None = None,
    batch_size: int = 64,
    precision: Precision = "auto",
) -> LanguagePredictions:
    data = task.load(data_dir, "test", language)
    keep = subsample(len(data), max_examples)
    data = data.select(keep.tolist())
    pred = score_pairs(
        encoder, data["sentence1"], data["sentence2"], batch_size=batch_size, precision=precision
    )
    gold = np.asarray(data["label"], dtype=np.float64)
    return LanguagePredictions(language, list(data["id"]), gold, pred, METRICS[task.metric](pred, gold))
