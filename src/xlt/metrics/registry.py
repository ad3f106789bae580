"""The one list of metrics: what each computes, how the bootstrap resamples it, and what its numbers mean.

Task types, task files (`metric:`), training (English-dev model selection), evaluation and the gains
bootstrap all look metrics up here, so a metric a task may name is one every stage can compute and
bootstrap. Every metric's scalar function takes the predictions and gold references in the form a task kind
produces them (one entry per item). All are higher-is-better, which model selection (the best English dev
score is the highest), gains (treated minus baseline) and robustness drops (clean minus perturbed) rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlt.core.errors import ConfigError, did_you_mean
from xlt.data.schema import TaskType
from xlt.metrics.bootstrap import (
    Bootstrap,
    Decomposed,
    Rowwise,
    answer_em,
    answer_f1,
    average_precisions,
    class_counts,
    entity_counts,
    item_scores,
    label_hits,
    mean_class_f1,
    mined_pair_counts,
    ratio,
    span_f1,
    token_hits,
)
from xlt.metrics.classification import accuracy, macro_f1
from xlt.metrics.correlation import pearson, rowwise_pearson, rowwise_spearman, spearman
from xlt.metrics.qa import qa_f1_em
from xlt.metrics.retrieval import MAP_K, map_at_k, mining_f1
from xlt.metrics.tagging import entity_f1, token_accuracy

ScalarFunction = Callable[[Any, Any], float]


@dataclass(frozen=True)
class MetricSpec:
    """One metric. `task_types` are the types whose predictions it can score, in no particular order; the
    order of the registry decides which metric a task type defaults to (see `metrics_for`)."""

    name: str
    function: ScalarFunction
    bootstrap: Bootstrap
    higher_is_better: bool
    range: tuple[float, float]
    task_types: frozenset[TaskType]
    description: str


def _entity_f1(pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]) -> float:
    return entity_f1(pred_tags, gold_tags)["f1"]


def _squad(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> dict[str, float]:
    ids = [str(i) for i in range(len(predictions))]
    return qa_f1_em(dict(zip(ids, predictions, strict=True)), dict(zip(ids, answers, strict=True)))


def _squad_f1(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Token F1 of one predicted answer per question against that question's gold answers."""
    return _squad(predictions, answers)["f1"]


def _squad_em(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Exact match of one predicted answer per question with any of that question's gold answers."""
    return _squad(predictions, answers)["exact_match"]


def _mean_item_score(predictions: Sequence[float], gold: Sequence[Any]) -> float:
    """The mean of per-item scores: a retrieval item's is 1, 0.5 or 0 for a hit both ways, one way or
    neither (its gold is 1 and unused), so the mean is accuracy@1 averaged over both directions."""
    if not predictions:
        raise ValueError("cannot score empty input")
    return float(np.mean(np.asarray(predictions, dtype=float)))


def _map_at_20(rankings: Sequence[Sequence[str]], relevant: Sequence[Sequence[str]]) -> float:
    """Mean over queries of AP@20: each query's ranked candidate ids against its relevant ids."""
    return map_at_k(rankings, relevant, MAP_K)


_CLASSES = frozenset({TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION})
_SPECS = (
    MetricSpec(
        "spearman",
        spearman,
        Rowwise(rowwise_spearman),
        higher_is_better=True,
        range=(-1.0, 1.0),
        task_types=frozenset({TaskType.PAIR_REGRESSION}),
        description="Spearman's rho of predicted and gold scores, ties at average ranks",
    ),
    MetricSpec(
        "pearson",
        pearson,
        Rowwise(rowwise_pearson),
        higher_is_better=True,
        range=(-1.0, 1.0),
        task_types=frozenset({TaskType.PAIR_REGRESSION}),
        description="Pearson's r of predicted and gold scores",
    ),
    MetricSpec(
        "accuracy",
        accuracy,
        Decomposed(label_hits, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=_CLASSES | {TaskType.MULTIPLE_CHOICE},
        description="fraction of items whose predicted label (or choice) is the gold one",
    ),
    MetricSpec(
        "macro_f1",
        macro_f1,
        Decomposed(class_counts, mean_class_f1),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=_CLASSES,
        description="unweighted mean of per-class F1 over the classes predicted or gold",
    ),
    MetricSpec(
        "upos_accuracy",
        token_accuracy,
        Decomposed(token_hits, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.TOKEN_TAGGING}),
        description="fraction of correct tags over all tokens pooled",
    ),
    MetricSpec(
        "entity_f1",
        _entity_f1,
        Decomposed(entity_counts, span_f1),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.TOKEN_TAGGING}),
        description="micro F1 over exact entity spans of IOB2 tags (conlleval / seqeval)",
    ),
    MetricSpec(
        "squad_f1",
        _squad_f1,
        Decomposed(answer_f1, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.EXTRACTIVE_QA}),
        description="SQuAD token F1 of each answer against its best gold answer, averaged over questions",
    ),
    MetricSpec(
        "squad_em",
        _squad_em,
        Decomposed(answer_em, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.EXTRACTIVE_QA}),
        description="fraction of questions whose normalised answer equals one of their gold answers",
    ),
    MetricSpec(
        "retrieval_accuracy",
        _mean_item_score,
        Decomposed(item_scores, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.RETRIEVAL}),
        description="accuracy@1 of nearest-neighbour search by cosine, averaged over both directions",
    ),
    MetricSpec(
        "map_at_20",
        _map_at_20,
        Decomposed(average_precisions, ratio),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.ANSWER_RETRIEVAL}),
        description="mean over queries of average precision in the 20 best-ranked candidates (LAReQA)",
    ),
    MetricSpec(
        "mining_f1",
        mining_f1,
        Decomposed(mined_pair_counts, span_f1),
        higher_is_better=True,
        range=(0.0, 1.0),
        task_types=frozenset({TaskType.BITEXT_MINING}),
        description="F1 of the sentence pairs mined above the margin threshold against the gold pairs",
    ),
)
METRICS: Mapping[str, MetricSpec] = {spec.name: spec for spec in _SPECS}


def get_metric(name: str) -> MetricSpec:
    if name not in METRICS:
        raise ConfigError(
            f"unknown metric '{name}'{did_you_mean(name, METRICS)}", f"use one of: {', '.join(METRICS)}"
        )
    return METRICS[name]


def metrics_for(task_type: TaskType) -> tuple[str, ...]:
    """The names of the metrics that can score `task_type`, its default first."""
    return tuple(name for name, spec in METRICS.items() if task_type in spec.task_types)
