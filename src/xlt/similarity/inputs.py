"""The unlabeled inputs of a task as plain texts: what embedding-based similarities compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.core.sampling import subset_rows
from xlt.data.schema import POOLED_TYPES, QUERY, TaskType
from xlt.tasks import TaskSpec
from xlt.tasks.spec import Split


def example_text(task_type: TaskType, row: dict[str, Any]) -> str:
    """One example's input as one text (labels are never part of it)."""
    if task_type in (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION):
        return f"{row['sentence1']} {row['sentence2']}"
    if task_type == TaskType.SINGLE_CLASSIFICATION:
        return str(row["text"])
    if task_type == TaskType.MULTIPLE_CHOICE:
        return " ".join([row["premise"], *row["choices"]])
    if task_type == TaskType.TOKEN_TAGGING:
        return " ".join(row["tokens"])
    if task_type == TaskType.EXTRACTIVE_QA:
        return f"{row['question']} {row['context']}"
    if task_type in POOLED_TYPES:
        return str(row["text"])  # a query (see `task_texts`): a question, a source sentence
    return str(row["source"])  # retrieval: the non-English side (the English side for English itself)


ENGLISH = ("en", "eng")


def split_for(task: TaskSpec, language: str | None) -> tuple[Split, str]:
    """English training inputs by default (a task without training data: its English test inputs, or the
    first language's, whose English side `task_texts` then reads); a language's test inputs for the
    language-aware variant."""
    if language is None:
        if "train" in task.languages:
            return "train", task.languages["train"][0]
        english = [lang for lang in task.languages["test"] if lang in ENGLISH]
        return "test", english[0] if english else task.languages["test"][0]
    return "test", language


def _english_side(task: TaskSpec, language: str | None) -> bool:
    """Whether the English inputs of the task are the English side of a bitext (Tatoeba: no training data
    and no English test set, each non-English sentence paired with its English translation)."""
    _, lang = split_for(task, language)
    return language is None and task.type == TaskType.RETRIEVAL and lang not in ENGLISH


def task_texts(
    task: TaskSpec, data_dir: Path, *, language: str | None = None, sample: int = 500, seed: int = 0
) -> list[str]:
    """A fixed random sample (without replacement) of the task's input texts; all of them if fewer. The
    inputs of a pooled retrieval task are its queries (a slice's pool mixes languages)."""
    split, lang = split_for(task, language)
    rows = task.load(data_dir, split, lang)
    if task.type in POOLED_TYPES:
        rows = rows.select([i for i, role in enumerate(rows["role"]) if role == QUERY])
    if _english_side(task, language):
        return [str(row["target"]) for row in subset_rows(rows, sample, seed)]
    return [example_text(task.type, row) for row in subset_rows(rows, sample, seed)]


def texts_key(task: TaskSpec, *, language: str | None, sample: int, seed: int) -> dict[str, Any]:
    """What determines `task_texts` (for content-addressed caches)."""
    split, lang = split_for(task, language)
    key = {"task": task.name, "files": task.file_hashes(split, lang), "sample": sample, "seed": seed}
    return {**key, "side": "english"} if _english_side(task, language) else key
