"""`xlt validate`: check a task before anything runs, reporting every problem at once with its file and line.

A task file is checked for its settings (by loading it), language codes, files, and every row of every
file (columns, labels, scores, tags, choices, answers). A built-in task is checked by loading every split
and language from the data directory, which also verifies the pinned sha256 of each file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlt.core.errors import XltError
from xlt.tasks.custom import CustomTask, Problem, is_task_file, load_task_file
from xlt.tasks.iso639 import language_problem
from xlt.tasks.registry import get_task
from xlt.tasks.spec import Split, TaskSpec


@dataclass
class ValidationReport:
    """The examples found per (split, language) and the problems found on the way."""

    task: str
    counts: dict[tuple[Split, str], int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def validate_task(name: str, data_dir: Path | None) -> ValidationReport:
    """Check a built-in task (its files under `data_dir`) or a task file (its files next to it).

    Settings that keep a task file from loading at all are raised as one ConfigError line."""
    spec = get_task(name)
    if is_task_file(name):
        return _validate_file(load_task_file(Path(name).expanduser()))
    if data_dir is None:
        from xlt.core.settings import resolve_data_dir

        data_dir = resolve_data_dir()
    return _validate_builtin(spec, data_dir)


def _validate_file(task: CustomTask) -> ValidationReport:
    report = ValidationReport(task.config.name)
    checked: set[str] = set()
    # a file shared by several slices (e.g. train and dev) is read, and its problems reported, once
    read: dict[tuple[Path, str], int] = {}
    for split, languages in task.config.files.items():
        for language, entries in languages.items():
            if language not in checked:
                checked.add(language)
                problem = language_problem(language)
                if problem is not None:
                    report.problems.append(Problem(task.path, task.entry_line(split, language), problem))
            count = 0
            for index, entry in enumerate(entries):
                path = task.file_path(entry)
                if not path.is_file():
                    line = task.entry_line(split, language, index)
                    where = f"files.{split}.{language}"
                    report.problems.append(
                        Problem(task.path, line, f"{where}: {entry.path} not found ({path})")
                    )
                    continue
                key = (path, entry.model_dump_json())
                if key not in read:
                    rows, problems = task.read_file(entry)
                    read[key] = len(rows)
                    report.problems.extend(problems)
                count += read[key]
            report.counts[split, language] = count
    return report


def _validate_builtin(spec: TaskSpec, data_dir: Path) -> ValidationReport:
    report = ValidationReport(spec.name)
    for split, languages in spec.languages.items():
        for language in languages:
            problem = language_problem(language)
            if problem is not None:
                report.problems.append(Problem(None, None, f"{spec.name} {split} {language}: {problem}"))
            try:
                report.counts[split, language] = len(spec.load(data_dir, split, language))
            except XltError as exc:
                report.counts[split, language] = 0
                report.problems.append(Problem(None, None, f"{split} {language}: {exc.one_line()}"))
    return report
