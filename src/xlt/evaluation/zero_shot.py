"""Zero-shot evaluation of one trained model on the languages of a target task."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from xlt.core.sampling import subset_rows
from xlt.data.schema import POOLED_TYPES, TaskType
from xlt.evaluation.batching import predict_sets
from xlt.evaluation.pooled import EmbeddingCache, evaluate_pooled
from xlt.metrics import get_metric
from xlt.metrics.retrieval import retrieval_accuracy
from xlt.models.pairs import score_pairs
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec
from xlt.training.kinds.base import TaskKind

# PROTOCOLS scores extractive QA by F1 and exact match: the one a task does not select goes in `extra`
REPORTED_BESIDE: dict[TaskType, tuple[str, ...]] = {TaskType.EXTRACTIVE_QA: ("squad_f1", "squad_em")}


@dataclass
class LanguageResult:
    language: str
    ids: list[str]
    gold: list[Any]
    pred: list[Any]
    score: float
    extra: dict[str, float]

    @property
    def n(self) -> int:
        return len(self.ids)


def evaluate_languages(
    task: TaskSpec,
    data_dir: Path,
    languages: Sequence[str],
    *,
    kind: TaskKind | None = None,
    encoder: SentenceEncoder | None = None,
    max_examples: int | None = None,
    batch_size: int = 64,
    precision: Precision = "auto",
) -> Iterator[LanguageResult]:
    """`evaluate_language` for each of `languages` in turn. A trained model predicts every language's
    items in one pass batched by length across languages (`xlt.evaluation.batching`); a pooled retrieval
    task embeds each candidate list once for all of them (LAReQA searches every question language in the
    same pool)."""
    if kind is not None and task.type not in POOLED_TYPES and task.type != TaskType.RETRIEVAL:
        sets = {
            lang: (subset_rows(task.load(data_dir, "test", lang), max_examples), lang) for lang in languages
        }
        predictions = predict_sets(kind, sets, batch_size=batch_size, precision=precision)
        for language, (data, _) in sets.items():
            yield _scored(task, kind, language, data, predictions[language])
        return
    cache = EmbeddingCache(encoder, batch_size, precision) if encoder is not None else None
    for language in languages:
        yield _evaluate(task, data_dir, language, kind, encoder, cache, max_examples, batch_size, precision)


def evaluate_language(
    task: TaskSpec,
    data_dir: Path,
    language: str,
    *,
    kind: TaskKind | None = None,
    encoder: SentenceEncoder | None = None,
    max_examples: int | None = None,
    batch_size: int = 64,
    precision: Precision = "auto",
) -> LanguageResult:
    """Score `task`'s test data in `language` with a trained task model (`kind`), or with an encoder as it
    stands (retrieval; pair regression by cosine), or with the lexical Dice baseline when neither is given
    (pair regression)."""
    cache = EmbeddingCache(encoder, batch_size, precision) if encoder is not None else None
    return _evaluate(task, data_dir, language, kind, encoder, cache, max_examples, batch_size, precision)


def _evaluate(
    task: TaskSpec,
    data_dir: Path,
    language: str,
    kind: TaskKind | None,
    encoder: SentenceEncoder | None,
    cache: EmbeddingCache | None,
    max_examples: int | None,
    batch_size: int,
    precision: Precision,
) -> LanguageResult:
    if task.type in POOLED_TYPES:
        if cache is None:
            raise ValueError(f"{task.type.value} needs an encoder")
        # its queries are the items; `evaluate_pooled` draws them, the pool stays whole
        pooled = evaluate_pooled(task.type, task.load(data_dir, "test", language), cache, max_examples)
        return LanguageResult(language, pooled.ids, pooled.gold, pooled.pred, pooled.score, pooled.extra)
    data = task.load(data_dir, "test", language)
    data = subset_rows(data, max_examples)  # the same subset for every language of equal size
    ids = [str(i) for i in data["id"]]
    if task.type == TaskType.RETRIEVAL:
        if encoder is None:
            raise ValueError("retrieval needs an encoder")
        source = encoder.encode(data["source"], batch_size=batch_size, precision=precision, language=language)
        target = encoder.encode(data["target"], batch_size=batch_size, precision=precision)
        both = retrieval_accuracy(source, target)
        hits = _retrieval_hits(source, target)
        return LanguageResult(language, ids, [1] * len(ids), hits, both["mean"], both)
    if kind is None:
        if task.type != TaskType.PAIR_REGRESSION:
            raise ValueError(f"{task.type.value} tasks need a trained model")
        # the encoder as it stands (cosine of the pooled embeddings), or the lexical Dice baseline
        scores = score_pairs(
            encoder, data["sentence1"], data["sentence2"], batch_size=batch_size, precision=precision,
            language=language,
        )  # fmt: skip
        pred = [float(v) for v in scores]
        gold = [float(v) for v in data["label"]]
        return LanguageResult(language, ids, gold, pred, get_metric(task.metric).function(pred, gold), {})
    # the language selects its projection where the encoder has an alignment module
    pred = kind.predict(data, batch_size=batch_size, precision=precision, language=language)
    return _scored(task, kind, language, data, pred)


def _scored(task: TaskSpec, kind: TaskKind, language: str, data: Dataset, pred: list[Any]) -> LanguageResult:
    """The result of a trained model's predictions on `data` (the test items of `language`)."""
    gold = kind.gold(data)
    extra = {
        name: get_metric(name).function(pred, gold)
        for name in REPORTED_BESIDE.get(task.type, ())
        if name != task.metric
    }
    ids = [str(i) for i in data["id"]]
    return LanguageResult(language, ids, gold, pred, kind.score(data, pred), extra)


def _retrieval_hits(source: np.ndarray, target: np.ndarray) -> list[Any]:
    """Per item: 1 if its translation is the nearest neighbour in both directions' mean sense (0, .5, 1)."""
    similarity = source @ target.T
    forward = similarity.argmax(axis=1) == np.arange(len(source))
    backward = similarity.argmax(axis=0) == np.arange(len(source))
    return [float(v) for v in (forward.astype(float) + backward.astype(float)) / 2]
