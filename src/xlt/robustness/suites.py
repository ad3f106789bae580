"""Robustness evaluation suites of a trained target model: clean score, perturbed score and drop.

- `char-noise`, `diacritics`, `word-drop`, `word-swap`: the language's test items with their inputs
  perturbed (pairs: both sentences; multiple choice: premise and choices; QA: the question only, so that
  answer offsets stay valid; tagging: character noise and diacritics per token, word order untouched).
- `attack` (classification and pair-regression targets, `xlt.robustness.attack`): accuracy under a PGD
  attack on the input embeddings within an L2 radius per input ("robust accuracy"), or Spearman under an
  attack that pushes each pair's similarity away from its gold score, against the clean score on the same
  items; a smoothed (rs-noise) model is attacked through its noise and scored by its vote.
- `ood`: the test set of another task of the same type in the same language (STS-B's news, captions and
  forums against SemRel's domains by default), against the target's own test set.
- `generalized`: XNLI / PAWS-X / stsb-multi items with sentence 1 in language A and sentence 2 in
  language B, for every ordered pair of the stage's languages; clean is the same items in A alone. MLQA
  (extractive QA): the context in A and the question in B (row "A>B"); clean is the same questions in A.

Every entry keeps its per-item predictions and gold labels (`items`), so that the results can put a
bootstrap interval on the drop: paired over items for every suite but `ood`, whose two sets differ.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from datasets import Dataset, concatenate_datasets

from xlt.core.sampling import subset_rows
from xlt.data.schema import TaskType
from xlt.evaluation.batching import language_free, predict_sets, split_back
from xlt.metrics import get_metric
from xlt.models.precision import Precision
from xlt.robustness.attack import attack_predictions, similarity_attack
from xlt.robustness.config import DEFAULT_OOD, RobustnessConfig
from xlt.robustness.generalized import GENERALIZED_TASKS, generalized_pairs
from xlt.robustness.perturb import char_noise, strip_diacritics, word_drop, word_swap
from xlt.tasks import TaskSpec, get_task
from xlt.tasks.iso639 import canonical
from xlt.training.kinds.base import TaskKind
from xlt.training.kinds.classification import Classification, CrossPairRegression
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.robust import SmoothedKind

ROBUSTNESS = "robustness.json"
# the attack suite scores accuracy whatever the target's own metric (e.g. macro F1)
ATTACK_METRIC = get_metric("accuracy")
log = logging.getLogger(__name__)


TextFn = Callable[[str, np.random.Generator], str]
NOT_APPLICABLE = {
    "attack": "classification and pair-regression targets only",
    "ood": "no out-of-domain task of its type in its languages; map one in evaluation.robustness.ood",
    "generalized": f"{', '.join(sorted(GENERALIZED_TASKS))} only, with two or more languages",
    "word-drop": "tagging keeps one word per tag",
    "word-swap": "tagging keeps one word per tag",
}


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


@dataclass(frozen=True)
class Scored:
    """A score with the per-item predictions and gold labels it was computed from."""

    score: float
    pred: list[Any]
    gold: list[Any]


def _scored(kind: TaskKind, data: Dataset, pred: list[Any]) -> Scored:
    return Scored(float(kind.score(data, pred)), list(pred), list(kind.gold(data)))


# language -> its clean test predictions made before the suites (predictions.json of the evaluate step):
# the entries' `ids` and `pred` are used
Known = Mapping[str, Mapping[str, Any]]


def run_suites(
    config: RobustnessConfig,
    kind: TaskKind,
    task: TaskSpec,
    data_dir: Path,
    languages: tuple[str, ...],
    max_examples: int | None,
    precision: Precision = "auto",
    known: Known | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """suite -> language (or "A>B") -> {clean, perturbed, drop, n, metric, paired, items}; a suite that
    does not apply to the target has no key (and a log line saying why).

    Clean predictions are made once: taken from `known` where it holds the same items, and shared by
    every suite. Each suite predicts the sets of all languages in one pass (`predict_sets`)."""
    limit = config.max_examples or max_examples
    results: dict[str, dict[str, dict[str, Any]]] = {}
    clean_data_cache: dict[str, Dataset] = {}
    clean_scores: dict[str, Scored] = {}

    def scored(sets: Mapping[Any, tuple[Dataset, str]]) -> dict[Any, Scored]:
        predictions = predict_sets(kind, sets, precision=precision)
        return {key: _scored(kind, data, predictions[key]) for key, (data, _) in sets.items()}

    def clean_data() -> dict[str, Dataset]:
        for language in languages:
            if language not in clean_data_cache:
                clean_data_cache[language] = subset_rows(task.load(data_dir, "test", language), limit)
        return {language: clean_data_cache[language] for language in languages}

    def clean_all() -> dict[str, tuple[Dataset, Scored]]:
        data = clean_data()
        missing: dict[str, tuple[Dataset, str]] = {}
        for language in languages:
            if language not in clean_scores:
                reused = _reuse(kind, known, language, data[language])
                if reused is not None:
                    clean_scores[language] = reused
                else:
                    missing[language] = (data[language], language)
        clean_scores.update(scored(missing))
        return {language: (data[language], clean_scores[language]) for language in languages}

    def entries_of(suite: str) -> dict[str, dict[str, Any]]:
        """The suite's rows; none where it does not apply to this target."""
        entries: dict[str, dict[str, Any]] = {}
        if suite == "attack":
            base = kind.kind if isinstance(kind, SmoothedKind) else kind
            if isinstance(base, Classification):
                attacked = _attack_all(kind, clean_data(), lambda d, lang, strata: attack_predictions(
                    cast(Any, kind), d, config, precision, lang))  # fmt: skip
                for language, (data, (before, after)) in attacked.items():
                    gold = base.gold(data)
                    entries[language] = _entry(
                        _accuracy(before, gold), _accuracy(after, gold), ATTACK_METRIC.name
                    )
            elif isinstance(base, PairRegression | CrossPairRegression):
                metric = get_metric(task.metric)
                attacked = _attack_all(kind, clean_data(), lambda d, lang, strata: similarity_attack(
                    cast(Any, kind), d, config, precision, lang, strata=strata))  # fmt: skip
                for language, (data, similarities) in attacked.items():
                    gold = base.gold(data)
                    pair = [Scored(metric.function(p, gold), p, gold) for p in similarities]
                    entries[language] = _entry(pair[0], pair[1], metric.name)
        elif suite == "ood":
            other_name = config.ood.get(task.name, DEFAULT_OOD.get(task.name))
            other = get_task(other_name) if other_name else None
            if other is None or other.type != task.type:
                return entries
            codes = {canonical(code): code for code in other.languages["test"]}
            present = [language for language in languages if canonical(language) in codes]
            if not present:
                return entries
            own = clean_all()
            ood = scored({
                lang: (subset_rows(other.load(data_dir, "test", codes[canonical(lang)]), limit), lang)
                for lang in present
            })  # fmt: skip
            for language in present:
                entries[language] = _entry(own[language][1], ood[language], task.metric, paired=False)
        elif suite == "generalized":
            if task.name not in GENERALIZED_TASKS or len(languages) < 2:
                return entries
            pairs = generalized_pairs(task, data_dir, list(languages), max_examples=limit, seed=config.seed)
            # every pair of A holds the same items of A: scored once per (A, items)
            same_items = {(first, tuple(str(i) for i in mixed["id"])) for (first, _), mixed in pairs.items()}
            clean_sets = {key: _same_language(task, data_dir, key[0], list(key[1])) for key in same_items}
            monolingual: dict[tuple[str, tuple[str, ...]], Scored] = {}
            to_predict: dict[Any, tuple[Dataset, str]] = {}
            for key, data in clean_sets.items():
                reused = _reuse(kind, known, key[0], data)
                if reused is not None:
                    monolingual[key] = reused
                else:
                    to_predict[key] = (data, key[0])
            to_predict |= {pair: (mixed, pair[0]) for pair, mixed in pairs.items()}
            predicted = scored(to_predict)
            monolingual |= {key: predicted[key] for key in clean_sets if key not in monolingual}
            for (first, second), mixed in pairs.items():
                items = (first, tuple(str(i) for i in mixed["id"]))
                entries[f"{first}>{second}"] = _entry(
                    monolingual[items], predicted[(first, second)], task.metric
                )
        else:
            reference = clean_all()
            changed = {
                language: perturb_dataset(data, task.type, suite, config.rate, config.seed)
                for language, (data, _) in reference.items()
            }
            perturbed = scored({lang: (data, lang) for lang, data in changed.items() if data is not None})
            for language, value in perturbed.items():
                entries[language] = _entry(reference[language][1], value, task.metric)
        return entries

    for suite in config.suites:
        started = time.perf_counter()
        entries = entries_of(suite)
        if not entries:
            log.info("suite %s: no rows for %s (%s)", suite, task.name, NOT_APPLICABLE.get(suite, "no items"))
        else:
            results[suite] = entries
            for row, entry in entries.items():
                log.info("%s %s: clean %.4f perturbed %.4f", suite, row, entry["clean"], entry["perturbed"])
            drops = [entry["drop"] for entry in entries.values()]
            log.info(
                "suite %s: %d rows, mean drop %.4f, %.1f s",
                suite, len(entries), float(np.mean(drops)), time.perf_counter() - started,
            )  # fmt: skip
    return results


def _reuse(kind: TaskKind, known: Known | None, language: str, data: Dataset) -> Scored | None:
    """`data` (items of `language`'s test set) scored from their known clean predictions; None unless
    every item is known."""
    entry = known.get(language) if known is not None else None
    if entry is None:
        return None
    by_id = dict(zip((str(i) for i in entry["ids"]), entry["pred"], strict=True))
    ids = [str(i) for i in data["id"]]
    if any(i not in by_id for i in ids):
        return None
    return _scored(kind, data, [by_id[i] for i in ids])


Attacked = tuple[list[Any], list[Any]]


def _attack_all(
    kind: TaskKind,
    clean: Mapping[str, Dataset],
    attack: Callable[[Dataset, str | None, list[int] | None], Attacked],
) -> dict[str, tuple[Dataset, Attacked]]:
    """language -> (its items, (clean, attacked) predictions): one attack over every language's items,
    batched by length across them (each item's perturbation is its own, so batch-mates do not matter),
    unless the language changes the model; `strata` numbers each item's language (an STS attack
    standardises gold scores within a language)."""
    sets = {language: data for language, data in clean.items() if len(data) > 0}
    if not language_free(kind) or len(sets) < 2:
        return {language: (data, attack(data, language, None)) for language, data in sets.items()}
    joint = concatenate_datasets(list(sets.values()))
    strata = [k for k, data in enumerate(sets.values()) for _ in range(len(data))]
    before, after = attack(joint, None, strata)
    sizes = [len(data) for data in sets.values()]
    parts = zip(sets.items(), split_back(before, sizes), split_back(after, sizes), strict=True)
    return {language: (data, (clean, attacked)) for (language, data), clean, attacked in parts}


def _same_language(task: TaskSpec, data_dir: Path, language: str, ids: list[str]) -> Dataset:
    data = task.load(data_dir, "test", language)
    position = {str(i): k for k, i in enumerate(data["id"])}
    return data.select([position[i] for i in ids])


def _accuracy(pred: list[int], gold: list[int]) -> Scored:
    return Scored(ATTACK_METRIC.function(pred, gold) if gold else 0.0, pred, gold)


def _entry(clean: Scored, perturbed: Scored, metric: str, *, paired: bool = True) -> dict[str, Any]:
    """One row of `robustness.json`; `items` holds what a bootstrap of the drop needs (paired: the same
    items, in the same order, scored clean and perturbed)."""
    items: dict[str, Any] = {"clean": clean.pred, "perturbed": perturbed.pred, "gold": clean.gold}
    if paired:
        assert clean.gold == perturbed.gold, "paired suites score the same items"
    else:
        items["gold_perturbed"] = perturbed.gold
    return {
        "clean": clean.score, "perturbed": perturbed.score, "drop": clean.score - perturbed.score,
        "n": len(perturbed.gold), "metric": metric, "paired": paired, "items": items,
    }  # fmt: skip
