"""The metric registry: every metric's bootstrap form reproduces its scalar function, scores stay in the
declared range with the best score for perfect predictions, every task type has a metric, and an unknown
name is an error that lists the known ones."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from xlt.core.errors import ConfigError
from xlt.data.schema import TaskType
from xlt.metrics import METRICS, MetricSpec, get_metric, metrics_for
from xlt.metrics.correlation import pearson, rowwise_pearson
from xlt.tasks.schema import METRICS_BY_TYPE

N_ITEMS = 40
TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
WORDS = ("Paris", "the city", "France", "a river", "in 1900", "Seine")


def random_items(task_type: TaskType, rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    """Random predictions and gold references of one task type, in the form its task kind gives them."""
    n = N_ITEMS
    if task_type == TaskType.PAIR_REGRESSION:
        return list(rng.random(n)), list(rng.random(n))
    if task_type in (TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION):
        return [int(v) for v in rng.integers(0, 3, n)], [int(v) for v in rng.integers(0, 3, n)]
    if task_type == TaskType.MULTIPLE_CHOICE:
        return [int(v) for v in rng.integers(0, 4, n)], [int(v) for v in rng.integers(0, 4, n)]
    if task_type == TaskType.TOKEN_TAGGING:
        lengths = rng.integers(1, 8, n)
        return (
            [[str(t) for t in rng.choice(TAGS, size=k)] for k in lengths],
            [[str(t) for t in rng.choice(TAGS, size=k)] for k in lengths],
        )
    if task_type == TaskType.EXTRACTIVE_QA:
        predictions = [" ".join(rng.choice(WORDS, size=rng.integers(1, 3))) for _ in range(n)]
        return predictions, [[str(w) for w in rng.choice(WORDS, size=rng.integers(1, 3))] for _ in range(n)]
    if task_type == TaskType.RETRIEVAL:
        return [float(v) for v in rng.choice([0.0, 0.5, 1.0], size=n)], [1] * n
    if task_type == TaskType.ANSWER_RETRIEVAL:  # rankings of a pool of 30, 1 to 25 relevant each
        pool = [f"c{i}" for i in range(30)]
        return (
            [[str(c) for c in rng.permutation(pool)[:20]] for _ in range(n)],
            [[str(c) for c in rng.choice(pool, size=rng.integers(1, 26), replace=False)] for _ in range(n)],
        )
    if task_type == TaskType.BITEXT_MINING:  # a mined target or none; no gold partner or one
        targets = ["", "t0", "t1", "t2"]
        return [str(t) for t in rng.choice(targets, size=n)], [
            [str(t)] if t else [] for t in rng.choice(targets, size=n)
        ]
    raise AssertionError(f"no random items for {task_type}")


def perfect_items(task_type: TaskType, gold: list[Any]) -> list[Any]:
    """Predictions that are exactly right."""
    if task_type == TaskType.EXTRACTIVE_QA:
        return [answers[0] for answers in gold]
    if task_type == TaskType.RETRIEVAL:
        return [1.0] * len(gold)
    if task_type == TaskType.ANSWER_RETRIEVAL:
        return [list(relevant) + ["not relevant"] * 20 for relevant in gold]
    if task_type == TaskType.BITEXT_MINING:
        return [partners[0] if partners else "" for partners in gold]
    return list(gold)


CASES = [(spec, task_type) for spec in METRICS.values() for task_type in sorted(spec.task_types)]
IDS = [f"{spec.name}-{task_type.value}" for spec, task_type in CASES]


@pytest.mark.parametrize(("spec", "task_type"), CASES, ids=IDS)
def test_bootstrap_form_reproduces_the_scalar_function(spec: MetricSpec, task_type: TaskType) -> None:
    rng = np.random.default_rng(sorted(METRICS).index(spec.name))
    pred, gold = random_items(task_type, rng)
    items = np.vstack([np.arange(N_ITEMS), rng.integers(0, N_ITEMS, size=(5, N_ITEMS))])
    whole, replicates = spec.bootstrap.resampled(pred, gold, items)
    assert whole == pytest.approx(spec.function(pred, gold))
    expected = [spec.function([pred[i] for i in row], [gold[i] for i in row]) for row in items]
    assert replicates == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize(("spec", "task_type"), CASES, ids=IDS)
def test_scores_lie_in_range_and_perfect_predictions_score_best(
    spec: MetricSpec, task_type: TaskType
) -> None:
    low, high = spec.range
    assert low < high
    rng = np.random.default_rng(0)
    for _ in range(5):
        pred, gold = random_items(task_type, rng)
        assert low <= spec.function(pred, gold) <= high
    best = high if spec.higher_is_better else low
    assert spec.function(perfect_items(task_type, gold), gold) == pytest.approx(best)


def test_every_task_type_has_a_metric_and_task_files_offer_the_registry_s() -> None:
    for task_type in TaskType:
        assert metrics_for(task_type), task_type
        assert METRICS_BY_TYPE[task_type] == metrics_for(task_type)
    # the first is each type's default
    assert metrics_for(TaskType.PAIR_REGRESSION) == ("spearman", "pearson")
    assert metrics_for(TaskType.TOKEN_TAGGING) == ("upos_accuracy", "entity_f1")
    assert metrics_for(TaskType.EXTRACTIVE_QA) == ("squad_f1", "squad_em")  # PROTOCOLS: F1 and EM
    assert all(spec.description and spec.name == name for name, spec in METRICS.items())


def test_squad_metrics_take_the_best_of_several_gold_answers() -> None:
    """TyDiQA-GoldP dev has up to two gold answers per question: a question scores its best match."""
    gold = [["the Eiffel Tower", "Paris"], ["1889"], ["Gustave Eiffel", "Eiffel"]]
    pred = ["Paris", "in 1889", "Alexandre Gustave Eiffel"]
    # F1: 1 (Paris), 2/3 (in 1889 vs 1889), 4/5 (3 tokens vs gustave eiffel: P 2/3, R 1) -> mean 37/45
    assert get_metric("squad_f1").function(pred, gold) == pytest.approx((1 + 2 / 3 + 4 / 5) / 3)
    assert get_metric("squad_em").function(pred, gold) == pytest.approx(1 / 3)
    whole, _ = get_metric("squad_em").bootstrap.resampled(pred, gold, np.array([[0, 0, 1]]))
    assert whole == pytest.approx(1 / 3)


def test_every_metric_is_higher_is_better() -> None:
    """Model selection keeps the highest English dev score, gains are treated minus baseline and robustness
    drops clean minus perturbed: a lower-is-better metric would need all three to read its direction."""
    assert all(spec.higher_is_better for spec in METRICS.values())


def test_unknown_metric_names_the_known_ones() -> None:
    assert get_metric("pearson").name == "pearson"
    with pytest.raises(
        ConfigError, match=re.escape("unknown metric 'pearsn' (did you mean 'pearson'?)")
    ) as error:
        get_metric("pearsn")
    assert error.value.fix == f"use one of: {', '.join(METRICS)}"


def test_rowwise_pearson_is_pearson_of_each_row() -> None:
    rng = np.random.default_rng(4)
    pred, gold = rng.normal(size=(6, 25)), rng.normal(size=(6, 25))
    pred[0] = 2 * gold[0] + 1  # r = 1 exactly
    pred[1] = 0.5  # a constant row has no correlation
    expected = [pearson(p, g) for p, g in zip(pred, gold, strict=True)]
    assert rowwise_pearson(pred, gold) == pytest.approx(expected, nan_ok=True)
    assert rowwise_pearson(pred, gold)[0] == pytest.approx(1.0) and np.isnan(rowwise_pearson(pred, gold)[1])
