"""`xlt validate`: check a task before anything runs, reporting every problem at once with its file and line.

A task file is checked for its settings (by loading it), language codes, files, and every row of every
file (columns, labels, scores, tags, choices, answers). A built-in task is checked by loading every split
and language from the data directory, which also verifies the pinned sha256 of each file; so is a task file
with a `source:`. Language codes of both go through `xlt.tasks.iso639` alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset

from xlt.core.errors import DataError, XltError
from xlt.data.files import DataFile
from xlt.data.schema import POOLED_TYPES, QUERY, TaskType
from xlt.tasks.columns import Row
from xlt.tasks.custom import CustomTask, is_task_file, load_task_file
from xlt.tasks.iso639 import language_problem
from xlt.tasks.registry import get_task
from xlt.tasks.schema import FileEntry
from xlt.tasks.spec import Split, TaskSpec, pinned_sha256
from xlt.tasks.values import Problem


@dataclass
class ValidationReport:
    """The examples found per (split, language) and the problems found on the way."""

    task: str
    counts: dict[tuple[Split, str], int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # what is allowed but likely a mistake: splits that share items
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        splits = {split for split, _ in self.counts}
        languages = {language for _, language in self.counts}
        outcome = "OK" if self.ok else _count(len(self.problems), "problem")
        return (
            f"task {self.task}: {_count(len(splits), 'split')}, {_count(len(languages), 'language')}, "
            f"{_count(sum(self.counts.values()), 'example')}: {outcome}"
        )


def examples(task_type: TaskType, rows: list[Row] | Dataset) -> int:
    """The examples of a slice: its rows, but only the queries of a pooled retrieval slice (its candidate
    pool is what they are searched in, the same for every language of LAReQA)."""
    if task_type not in POOLED_TYPES:
        return len(rows)
    roles = rows["role"] if isinstance(rows, Dataset) else [row["role"] for row in rows]
    return sum(role == QUERY for role in roles)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def validate_task(name: str, data_dir: Path | None) -> ValidationReport:
    """Check a built-in task (its files under `data_dir`) or a task file (its files next to it, or under
    `data_dir` when it has a source).

    Settings that keep a task file from loading at all are raised as one ConfigError line."""
    spec = get_task(name)
    task = load_task_file(Path(name).expanduser()) if is_task_file(name) else None
    if data_dir is None and (task is None or task.config.source is not None):
        from xlt.core.settings import resolve_data_dir

        data_dir = resolve_data_dir()
    if task is not None:
        return _validate_file(task, data_dir)
    assert data_dir is not None
    return _validate_builtin(spec, data_dir)


def _validate_file(task: CustomTask, data_dir: Path | None) -> ValidationReport:
    report = ValidationReport(task.config.name)
    checked: set[str] = set()
    # a file shared by several slices (e.g. train and dev) is read, and its problems reported, once; a
    # split protocol then counts the slice's part of its rows
    read: dict[tuple[tuple[Path, ...], str], list[Row]] = {}
    rows: dict[tuple[Split, str], list[Row]] = {}
    unreadable: set[tuple[tuple[Path, ...], str]] = set()
    for split, languages in task.config.files.items():
        for language, entries in languages.items():
            if language not in checked:
                checked.add(language)
                problem = language_problem(language)
                if problem is not None:
                    report.problems.append(Problem(task.path, task.entry_line(split, language), problem))
            found = len(report.problems)
            unread = False  # a file of the slice has problems, reported where it was first read
            slice_rows: list[Row] = []
            for index, entry in enumerate(entries):
                paths = task.local_paths(entry, data_dir)
                missing = _missing(task, entry, paths, data_dir)
                if missing is not None:
                    line = task.entry_line(split, language, index)
                    report.problems.append(Problem(task.path, line, f"files.{split}.{language}: {missing}"))
                    continue
                key = (tuple(paths), entry.model_dump_json())
                if key not in read:
                    read[key], problems = _read(task, entry, paths)
                    report.problems.extend(problems)
                    if problems:
                        unreadable.add(key)
                unread = unread or key in unreadable
                slice_rows += task.cut(entry, read[key], split)
            report.counts[split, language] = examples(task.config.type, slice_rows)
            rows[split, language] = slice_rows
            if not slice_rows and len(report.problems) == found and not unread:  # no item of this split
                line = task.entry_line(split, language)
                report.problems.append(
                    Problem(
                        task.path, line, f"files.{split}.{language}: no examples; give it a file with items"
                    )
                )
    report.warnings += _shared_items(task, rows)
    return report


# (the split whose items should be unseen, the split it is compared with, why sharing matters)
_SEPARATE: tuple[tuple[Split, Split, str], ...] = (
    ("dev", "train", "model selection would be done on training items"),
    ("test", "dev", "the test score would be on items used for model selection"),
    ("test", "train", "the test score would be on training items"),
)


def _item_key(row: Row) -> str:
    """What makes an item the same item: its inputs, whatever its id or label."""
    return json.dumps({k: v for k, v in row.items() if k not in ("id", "label", "tags", "answers")})


def _shared_items(task: CustomTask, rows: dict[tuple[Split, str], list[Row]]) -> list[Problem]:
    """Items a split shares with another of the same language (e.g. one file given as train and dev)."""
    warnings: list[Problem] = []
    for held_out, other, why in _SEPARATE:
        for (split, language), items in rows.items():
            if split != held_out or not items or (other, language) not in rows:
                continue
            seen = {_item_key(row) for row in rows[other, language]}
            shared = sum(_item_key(row) in seen for row in items)
            if shared:
                warnings.append(
                    Problem(
                        task.path,
                        task.entry_line(held_out, language),
                        f"{held_out} and {other} share {shared} of {len(items)} {language} items: {why}; "
                        f"give {held_out} items of its own",
                    )
                )
    return warnings


def _missing(task: CustomTask, entry: FileEntry, paths: list[Path], data_dir: Path | None) -> str | None:
    """What keeps an entry's files from being read: a file not found, or a pinned file that differs."""
    for written, path in zip(entry.paths, paths, strict=True):
        if task.config.source is not None and data_dir is not None:
            try:
                DataFile(written, pinned_sha256(written)).resolve(data_dir)
            except DataError as exc:
                return exc.problem
        elif not path.is_file():
            return f"{written} not found ({path})"
    return None


def _read(task: CustomTask, entry: FileEntry, paths: list[Path]) -> tuple[list[Row], list[Problem]]:
    """An entry's rows and problems; a named reader stops at its first problem, which is the one."""
    try:
        return task.read_entry(entry, paths)
    except XltError as exc:
        return [], [Problem(None, None, exc.problem)]


def _validate_builtin(spec: TaskSpec, data_dir: Path) -> ValidationReport:
    report = ValidationReport(spec.name)
    for split, languages in spec.languages.items():
        for language in languages:
            problem = language_problem(language)
            if problem is not None:
                report.problems.append(Problem(None, None, f"{spec.name} {split} {language}: {problem}"))
            try:
                report.counts[split, language] = examples(spec.type, spec.load(data_dir, split, language))
            except XltError as exc:
                report.counts[split, language] = 0
                report.problems.append(Problem(None, None, f"{split} {language}: {exc.one_line()}"))
    return report
