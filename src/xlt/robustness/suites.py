"""Robustness evaluation suites of a trained target model: clean score, perturbed score and drop.

- `char-noise`, `diacritics`, `word-drop`, `word-swap`: the language's test items with their inputs
  perturbed (pairs: both sentences; multiple choice: premise and choices; QA: the question only, so that
  answer offsets stay valid; tagging: character noise and diacritics per token, word order untouched).
- `attack` (classification targets): accuracy under a PGD attack on the input embeddings within an L2
  radius per example ("robust accuracy"), against clean accuracy on the same items.
- `ood`: the test set of another task of the same type in the same language (STS-B's news, captions and
  forums against SemRel's domains by default), against the target's own test set.
- `generalized`: XNLI / PAWS-X / stsb-multi items with sentence 1 in language A and sentence 2 in
  language B, for every ordered pair of the stage's languages; clean is the same items in A alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset

from xlt.core.sampling import subset_rows
from xlt.data.schema import TaskType
from xlt.robustness.config import DEFAULT_OOD, RobustnessConfig
from xlt.robustness.generalized import GENERALIZED_TASKS, generalized_pairs
from xlt.robustness.perturb import char_noise, strip_diacritics, word_drop, word_swap
from xlt.tasks import TaskSpec, get_task
from xlt.tasks.iso639 import canonical
from xlt.training.kinds.base import TaskKind
from xlt.training.kinds.classification import Classification

ROBUSTNESS = "robustness.json"


TextFn = Callable[[str, np.random.Generator], str]


def _text_fn(suite: str, rate: float) -> TextFn:
    if suite == "char-noise":
        return lambda text, rng: char_noise(text, rate, rng)
    if suite == "diacritics":
        return lambda text, rng: strip_diacritics(text)
    if suite == "word-drop":
        return lambda text, rng: word_drop(text, rate, rng)
    return lambda text, rng: word_swap(text, rate, rng)


def perturb_dataset(data: Dataset, task_type: TaskType, suite: str, rate: float, seed: int) -> Dataset | None:
    """The items with perturbed inputs; None where the suite does not apply (word order of tagging)."""
    fn = _text_fn(suite, rate)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for row in data:
        new = dict(row)
        if task_type in (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION):
            new["sentence1"], new["sentence2"] = fn(row["sentence1"], rng), fn(row["sentence2"], rng)
        elif task_type == TaskType.SINGLE_CLASSIFICATION:
            new["text"] = fn(row["text"], rng)
        elif task_type == TaskType.MULTIPLE_CHOICE:
            new["premise"] = fn(row["premise"], rng)
            new["choices"] = [fn(c, rng) for c in row["choices"]]
        elif task_type == TaskType.EXTRACTIVE_QA:
            new["question"] = fn(row["question"], rng)
        elif task_type == TaskType.TOKEN_TAGGING:
            if suite in ("word-drop", "word-swap"):
                return None
            new["tokens"] = [fn(token, rng) or token for token in row["tokens"]]
        else:
            return None
        rows.append(new)
    return Dataset.from_list(rows, features=data.features)


def _score(kind: TaskKind, data: Dataset, language: str, precision: Any) -> float:
    with kind.encoder.speaking(language):
        return float(kind.score(data, kind.predict(data, precision=precision)))


def run_suites(
    config: RobustnessConfig,
    kind: TaskKind,
    task: TaskSpec,
    data_dir: Path,
    languages: tuple[str, ...],
    max_examples: int | None,
    precision: Any = "auto",
) -> dict[str, dict[str, dict[str, Any]]]:
    """suite -> language (or "A>B") -> {clean, perturbed, drop, n, metric}."""
    limit = config.max_examples or max_examples
    results: dict[str, dict[str, dict[str, Any]]] = {}
    clean_cache: dict[str, tuple[Dataset, float]] = {}

    def clean(language: str) -> tuple[Dataset, float]:
        if language not in clean_cache:
            data = task.load(data_dir, "test", language)
            data = subset_rows(data, limit)
            clean_cache[language] = (data, _score(kind, data, language, precision))
        return clean_cache[language]

    for suite in config.suites:
        entries: dict[str, dict[str, Any]] = {}
        if suite == "attack":
            if not isinstance(kind, Classification):
                continue
            for language in languages:
                data, _ = clean(language)
                with kind.encoder.speaking(language):
                    accuracy, robust = attack_accuracy(kind, data, config)
                entries[language] = _entry(accuracy, robust, len(data), "accuracy")
        elif suite == "ood":
            other_name = config.ood.get(task.name, DEFAULT_OOD.get(task.name))
            other = get_task(other_name) if other_name else None
            if other is None or other.type != task.type:
                continue
            codes = {canonical(code): code for code in other.languages["test"]}
            for language in languages:
                code = codes.get(canonical(language))
                if code is None:
                    continue
                _, clean_score = clean(language)
                ood = other.load(data_dir, "test", code)
                ood = subset_rows(ood, limit)
                perturbed = _score(kind, ood, language, precision)
                entries[language] = _entry(clean_score, perturbed, len(ood), task.metric)
        elif suite == "generalized":
            if task.name not in GENERALIZED_TASKS or len(languages) < 2:
                continue
            pairs = generalized_pairs(task, data_dir, list(languages), max_examples=limit, seed=config.seed)
            for (first, second), mixed in pairs.items():
                monolingual = _same_language(task, data_dir, first, list(mixed["id"]))  # the same items
                clean_score = _score(kind, monolingual, first, precision)
                perturbed = _score(kind, mixed, first, precision)
                entries[f"{first}>{second}"] = _entry(clean_score, perturbed, len(mixed), task.metric)
        else:
            for language in languages:
                data, clean_score = clean(language)
                changed = perturb_dataset(data, task.type, suite, config.rate, config.seed)
                if changed is None:
                    continue
                entries[language] = _entry(
                    clean_score, _score(kind, changed, language, precision), len(data), task.metric
                )
        if entries:
            results[suite] = entries
    return results


def _same_language(task: TaskSpec, data_dir: Path, language: str, ids: list[str]) -> Dataset:
    data = task.load(data_dir, "test", language)
    position = {str(i): k for k, i in enumerate(data["id"])}
    return data.select([position[i] for i in ids])


def _entry(clean: float, perturbed: float, n: int, metric: str) -> dict[str, Any]:
    return {"clean": clean, "perturbed": perturbed, "drop": clean - perturbed, "n": n, "metric": metric}


def attack_accuracy(kind: Classification, data: Dataset, config: RobustnessConfig) -> tuple[float, float]:
    """(clean accuracy, accuracy under a PGD attack of the input embeddings), fp32, per batch of 32."""
    from xlt.training.robust import _ascend, _Delta, perturbed_embeddings

    was_training = kind.model.training
    kind.model.eval()
    labels = np.asarray(data["label"])
    clean_hits = robust_hits = 0
    for start in range(0, len(data), 32):
        indices = list(range(start, min(start + 32, len(data))))
        with torch.no_grad():
            logits, _ = kind._outputs(data, indices)
        clean_hits += int((logits.argmax(dim=1).cpu().numpy() == labels[indices]).sum())
        delta = _Delta()
        with perturbed_embeddings(kind.encoder, delta):
            for _ in range(config.attack_steps):
                loss, _ = kind.loss(data, indices)
                assert delta.value is not None
                (grad,) = torch.autograd.grad(loss, delta.value)
                delta.value = _ascend(
                    delta.value.detach(), grad, config.attack_step_size, config.attack_radius
                )
                delta.value.requires_grad_(True)
            with torch.no_grad():
                logits, _ = kind._outputs(data, indices)
        robust_hits += int((logits.argmax(dim=1).cpu().numpy() == labels[indices]).sum())
    kind.model.train(was_training)
    return clean_hits / max(len(data), 1), robust_hits / max(len(data), 1)
