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


def split_for(task: TaskSpec, language: str | None) -> tuple[Split, str]:
    """English training inputs by default; a language's test inputs for the language-aware variant."""
    if language is None:
        if "train" in task.languages:
            return "train", task.languages["train"][0]
        return "test", task.languages["test"][0]
    return "test", language


def task_texts(
    task: TaskSpec, data_dir: Path, *, language: str | None = None, sample: int = 500, seed: int = 0
) -> list[str]:
    """A fixed random sample (without replacement) of the task's input texts; all of them if fewer. The
    inputs of a pooled retrieval task are its queries (a slice's pool mixes languages)."""
    split, lang = split_for(task, language)
    rows = task.load(data_dir, split, lang)
    if task.type in POOLED_TYPES:
        rows = rows.select([i for i, role in enumerate(rows["role"]) if role == QUERY])
    return [example_text(task.type, row) for row in subset_rows(rows, sample, seed)]


def texts_key(task: TaskSpec, *, language: str | None, sample: int, seed: int) -> dict[str, Any]:
    """What determines `task_texts` (for content-addressed caches)."""
    split, lang = split_for(task, language)
    return {"task": task.name, "files": task.file_hashes(split, lang), "sample": sample, "seed": seed}
