"""Generalized cross-lingual pairs: sentence 1 in language A, sentence 2 in language B (PROTOCOLS.md,
"Robustness"; the "generalized" XNLI / PAWS-X setting of Dong et al. 2021, and likewise for stsb-multi).

The test sets of xnli, pawsx and stsb-multi are translations of the same items in every language, and
their readers give an item the same `id` in every language (its row index in the line-aligned files). A
generalized pair for (A, B) takes item k's sentence1 from A's test set and item k's sentence2 from B's,
matched by that id, with A's label. Labels must agree across languages for every item used.

PAWS-X quirk: where a translator could not translate a sentence, the PAWS-X file holds the placeholder
"NS" and label 0 for that item in that language only (40 test items over de, es, fr, ja, ko, zh). Such an
item is left out of every pair whenever any requested language has the placeholder, so that the same
items appear in every pair and labels agree.

Extractive QA (MLQA's G-XLT setting, Lewis et al. 2020): upstream ships one file per ordered pair (A, B),
the context (and so the answers) in language A and the question in language B, so the pairs are read from
those files rather than built. An (A, B) item must be an item of A's own test set with the same context and
answers, and its question must be B's own question of that item: the clean reference of a pair is the same
questions asked in A. The items of a pair are those MLQA has in both languages (about 160-200 for two
non-English languages, about 500 with English), so pairs differ in their items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from typing import Any

from datasets import Dataset

from xlt.core.errors import ConfigError, DataError
from xlt.core.sampling import subset_items
from xlt.data.files import DataFile
from xlt.data.readers.squad import read_squad_json
from xlt.data.schema import FEATURES
from xlt.tasks import TaskSpec, get_task
from xlt.tasks.spec import pinned_sha256

Row = dict[str, Any]
# language -> item id -> row of that language's test set
Items = dict[str, dict[str, Row]]


@dataclass(frozen=True)
class CrossLanguageFiles:
    """Upstream files of a task's generalized items, one per ordered language pair: `pattern` with
    `{first}` and `{second}` filled in is a pinned path of the data directory, and `read` reads it."""

    pattern: str
    read: Callable[[Path], list[Row]]


# task -> the sentence a translation holds where there is none (see the module docstring)
UNTRANSLATED: Mapping[str, str] = {"pawsx": "NS"}
# tasks whose pairs are upstream files: MLQA's dev files with the context in `first`, the question in `second`
CROSS_LANGUAGE_FILES: Mapping[str, CrossLanguageFiles] = {
    "mlqa": CrossLanguageFiles(
        "mlqa/data/mlqa/MLQA_V1/dev/dev-context-{first}-question-{second}.json", read_squad_json
    ),
}
GENERALIZED_TASKS: tuple[str, ...] = ("xnli", "pawsx", "stsb-multi", *CROSS_LANGUAGE_FILES)


def supported_task(task: str | TaskSpec) -> TaskSpec:
    """The task spec, if generalized pairs are defined for it; a ConfigError listing those tasks if not."""
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    if spec.name not in GENERALIZED_TASKS:
        raise ConfigError(
            f"task '{spec.name}' has no generalized cross-lingual pairs",
            f"use one of: {', '.join(GENERALIZED_TASKS)}",
        )
    return spec


def check_languages(spec: TaskSpec, languages: Sequence[str]) -> tuple[str, ...]:
    """The requested languages, which must be distinct, at least two, and all have test data."""
    if len(set(languages)) != len(languages):
        raise ConfigError(f"languages {list(languages)} repeat a language", "list each language once")
    if len(languages) < 2:
        raise ConfigError(
            f"generalized pairs need at least two languages, got {list(languages)}",
            f"choose from: {', '.join(spec.languages.get('test', ()))}",
        )
    for language in languages:
        spec.check_split("test", language)
    return tuple(languages)


def index_by_id(rows: list[Row], where: str) -> dict[str, Row]:
    """id -> row (in row order); a repeated id is a DataError naming `where`."""
    indexed: dict[str, Row] = {}
    for row in rows:
        if row["id"] in indexed:
            raise DataError(f"{where}: item id {row['id']!r} occurs twice", "restore the upstream file")
        indexed[row["id"]] = row
    return indexed


def load_items(spec: TaskSpec, data_dir: Path, languages: Sequence[str]) -> Items:
    """Every requested language's test set, indexed by item id."""
    return {
        language: index_by_id(spec.load(data_dir, "test", language).to_list(), f"{spec.name} test {language}")
        for language in languages
    }


def shared_ids(task: str, items: Items) -> list[str]:
    """The item ids, in the first language's order; every language must hold exactly the same ids."""
    languages = list(items)
    reference = items[languages[0]]
    for language in languages[1:]:
        if items[language].keys() != reference.keys():
            missing = sorted(set(reference) ^ set(items[language]))[:5]
            raise DataError(
                f"{task}: the test sets of {languages[0]} and {language} do not hold the same items "
                f"(e.g. ids {missing})",
                "restore the upstream files: generalized pairs need aligned translations",
            )
    return list(reference)


def is_untranslated(task: str, row: Row) -> bool:
    """Whether either sentence of the row is the task's no-translation placeholder."""
    placeholder = UNTRANSLATED.get(task)
    return placeholder is not None and placeholder in (row["sentence1"].strip(), row["sentence2"].strip())


def usable_ids(task: str, items: Items, ids: list[str]) -> list[str]:
    """The ids of items translated in every language (see `is_untranslated`)."""
    return [item for item in ids if not any(is_untranslated(task, rows[item]) for rows in items.values())]


def check_labels(task: str, items: Items, ids: list[str]) -> None:
    """A DataError unless every item has the same label in every language."""
    for item in ids:
        labels = {language: rows[item]["label"] for language, rows in items.items()}
        if len(set(labels.values())) > 1:
            raise DataError(
                f"{task}: item {item} has different labels across languages: {labels}",
                "restore the upstream files: the translations of an item must share its label",
            )


def sample_ids(ids: list[str], max_examples: int | None, seed: int) -> list[str]:
    """All ids if `max_examples` is None or at least their number, else `max_examples` of them drawn
    without replacement by `numpy.random.default_rng(seed)`, kept in their original order."""
    if max_examples is not None and max_examples < 1:
        raise ConfigError(f"max_examples must be at least 1, got {max_examples}", "use a positive number")
    return subset_items(list(ids), max_examples, seed)


def pair_rows(items: Items, ids: list[str], first: str, second: str) -> list[Row]:
    """Rows of the (first, second) pair: sentence1 and label from `first`, sentence2 from `second`."""
    return [
        {
            "id": item,
            "sentence1": items[first][item]["sentence1"],
            "sentence2": items[second][item]["sentence2"],
            "label": items[first][item]["label"],
        }
        for item in ids
    ]


def generalized_pairs(
    task: str | TaskSpec,
    data_dir: Path,
    languages: Sequence[str],
    *,
    max_examples: int | None = None,
    seed: int = 0,
) -> dict[tuple[str, str], Dataset]:
    """Generalized cross-lingual test sets for every ordered pair (A, B), A != B, of `languages`.

    The (A, B) dataset has the task's canonical pair columns: `id` is the shared item id, `sentence1` is
    the item's sentence1 in A, `sentence2` its sentence2 in B and `label` its label (checked equal in
    every language). Items are matched by id, never by position. Every pair holds the same items, in the
    order of the first language's test set: all usable items (see the module docstring), or the
    `max_examples` of them drawn with `seed`. For extractive QA (`cross_language_pairs`) the (A, B) set
    has the QA columns, the context and answers in A and the question in B.
    """
    spec = supported_task(task)
    chosen_languages = check_languages(spec, languages)
    items = load_items(spec, data_dir, chosen_languages)
    if spec.name in CROSS_LANGUAGE_FILES:
        return cross_language_pairs(spec, data_dir, items, max_examples=max_examples, seed=seed)
    ids = usable_ids(spec.name, items, shared_ids(spec.name, items))
    check_labels(spec.name, items, ids)
    ids = sample_ids(ids, max_examples, seed)
    features = FEATURES[spec.type]
    return {
        (first, second): Dataset.from_list(pair_rows(items, ids, first, second), features=features)
        for first, second in permutations(chosen_languages, 2)
    }


def cross_language_pairs(
    spec: TaskSpec, data_dir: Path, items: Items, *, max_examples: int | None = None, seed: int = 0
) -> dict[tuple[str, str], Dataset]:
    """Every ordered pair (A, B) of the languages of `items` (each language's own test set by id): the rows
    of the task's upstream file for (A, B), in its order, all of them or `max_examples` drawn with `seed`.
    Each row must be an item of A's test set with its context and answers, asking B's question of it."""
    files = CROSS_LANGUAGE_FILES[spec.name]
    pairs: dict[tuple[str, str], Dataset] = {}
    for first, second in permutations(items, 2):
        path = files.pattern.format(first=first, second=second)
        sha256 = pinned_sha256(path)
        if sha256 is None:
            raise DataError(f"{path} is not a pinned file of the data directory", "restore sources.json")
        where = f"{spec.name} {first}>{second} ({path})"
        rows = index_by_id(files.read(DataFile(path, sha256).resolve(data_dir)), where)
        for item, row in rows.items():
            own, asked = items[first].get(item), items[second].get(item)
            if own is None or (own["context"], own["answers"]) != (row["context"], row["answers"]):
                raise DataError(
                    f"{where}: question {item} is not item {item} of the {first} test set (context and "
                    "answers)",
                    "restore the upstream files: a pair's clean reference is the same item in its context "
                    "language",
                )
            if asked is None or asked["question"] != row["question"]:
                raise DataError(
                    f"{where}: question {item} is not the {second} test set's question of item {item}",
                    "restore the upstream files",
                )
        chosen = sample_ids(list(rows), max_examples, seed)
        pairs[(first, second)] = Dataset.from_list([rows[i] for i in chosen], features=FEATURES[spec.type])
    return pairs
