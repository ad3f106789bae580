"""The canonical columns of each task type, and how a generic data file addresses them: by header name or
JSON key, or by 0-based position in headerless and CoNLL files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from xlt.data.schema import TaskType

# `lines`: line-aligned plain text files (the TweetEval/UMSAB layout: train_text.txt beside
# train_labels.txt), the file and its partners being the columns, line N of each one row
Format = Literal["csv", "tsv", "jsonl", "conll", "lines"]
InputFormat = Literal["single", "pair", "token", "span", "choice"]
LabelType = Literal["regression", "classes", "spans", "tags"]
Column = str | int
ColumnMap = dict[str, Column | list[Column]]
Row = dict[str, Any]

FORMAT_BY_SUFFIX: Mapping[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".conll": "conll",
    ".txt": "conll",
}
# the canonical columns a file must provide, in the order headerless files give them by default
REQUIRED_COLUMNS: Mapping[TaskType, tuple[str, ...]] = {
    TaskType.PAIR_REGRESSION: ("sentence1", "sentence2", "label"),
    TaskType.PAIR_CLASSIFICATION: ("sentence1", "sentence2", "label"),
    TaskType.SINGLE_CLASSIFICATION: ("text", "label"),
    TaskType.MULTIPLE_CHOICE: ("premise", "choices", "label"),
    TaskType.TOKEN_TAGGING: ("tokens", "tags"),
    TaskType.EXTRACTIVE_QA: ("context", "question", "answer_text", "answer_start"),
    TaskType.RETRIEVAL: ("source", "target"),
    # read by named readers only (a pool spans several files; see TaskFile._file_problems)
    TaskType.ANSWER_RETRIEVAL: ("role", "language", "text", "relevant"),
    TaskType.BITEXT_MINING: ("role", "language", "text", "relevant"),
}
OPTIONAL_COLUMNS: Mapping[TaskType, tuple[str, ...]] = {
    task_type: ("id", "question") if task_type == TaskType.MULTIPLE_CHOICE else ("id",)
    for task_type in TaskType
}
TAGS_DEFAULT_POSITIONS: Mapping[str, int] = {"tokens": 0, "tags": -1}


def column_kind_problems(task_type: TaskType, columns: ColumnMap, fmt: Format, has_header: bool) -> list[str]:
    """Columns must be what the format can address: names in JSONL, positions in CoNLL and headerless
    files, either in files with a header."""
    problems: list[str] = []
    for key, column in columns.items():
        parts = column if isinstance(column, list) else [column]
        if fmt == "jsonl" and any(isinstance(part, int) for part in parts):
            problems.append(f"columns.{key}: a jsonl record is addressed by key, not by position")
        elif fmt == "conll" and (key not in TAGS_DEFAULT_POSITIONS or any(isinstance(p, str) for p in parts)):
            problems.append(f"columns.{key}: a conll file has only tokens and tags, given by position")
        elif fmt in ("csv", "tsv") and not has_header and any(isinstance(part, str) for part in parts):
            problems.append(f"columns.{key}: a file without header has no column names, use a position")
        elif fmt == "lines" and any(isinstance(part, str) for part in parts):
            problems.append(
                f"columns.{key}: line-aligned files are columns by position (0 the file, 1 its first partner)"
            )
        if key == "choices" and fmt in ("csv", "tsv") and not isinstance(column, list):
            problems.append("columns.choices: give the list of columns that hold the choices")
    if fmt == "conll":
        positions = {columns.get(key, default) for key, default in TAGS_DEFAULT_POSITIONS.items()}
        if len(positions) == 1:
            problems.append("columns: tokens and tags must be different positions")
    if task_type == TaskType.MULTIPLE_CHOICE and fmt in ("csv", "tsv") and "choices" not in columns:
        problems.append("columns.choices: give the list of columns that hold the choices")
    return problems
