"""Everything a study needs, checked before any stage starts, so that a bad input costs seconds, not the
training of the stages before the one that reads it.

`xlt run` calls `preflight` after loading the study and before taking its directory: the plan (tasks,
roles, encoders and local model directories, languages, duplicates), every task of the study as `xlt
validate` checks it, the pinned sha256 of every data file a stage will read, and the study directory. Every
problem found is reported at once, in one line; a built-in task's rows are not read, since its files are the
pinned upstream bytes whose rows the readers are tested on, so their hashes are the check (hashes persist
by size and mtime, so this costs a stat per file after the first run). A user's task file is read row by
row, as its stage would read it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xlt.core.errors import ConfigError, XltError
from xlt.data.files import DataFile
from xlt.models.encoders import encoder_info
from xlt.study.config import StudyConfig
from xlt.study.plan import StudyPlan, build_plan
from xlt.tasks.custom import is_task_file
from xlt.tasks.spec import Split
from xlt.tasks.validate import validate_task

# problems of one task file, and pinned files, shown in the one line (`xlt validate FILE` lists them all)
SHOWN = 3
TRAINING_SPLITS: tuple[Split, ...] = ("train", "dev")


@dataclass
class Preflight:
    """The plan of a study that passed its checks, and what is allowed but likely a mistake."""

    plan: StudyPlan
    warnings: list[str] = field(default_factory=list)


def preflight(config: StudyConfig, data_dir: Path, root: Path) -> Preflight:
    """The study's plan once every check has passed; else one ConfigError naming every problem."""
    problems: list[XltError] = []
    warnings: list[str] = []
    plan: StudyPlan | None = None
    try:
        plan = build_plan(config)
    except XltError as exc:
        problems.append(exc)
    for encoder in config.encoders:  # the plan stops at its first problem; each encoder is checked apart
        try:
            encoder_info(encoder)
        except XltError as exc:
            problems.append(exc)
    problems += _directory_problems(root)
    for name in config.task_names():
        if is_task_file(name):
            task_problems, task_warnings = _task_file_problems(name, data_dir)
            problems += task_problems
            warnings += task_warnings
    if plan is not None:
        problems += _pinned_file_problems(plan, data_dir)
    # the plan and a task's own check meet the same broken task file: say it once
    problems = list({problem.one_line(): problem for problem in problems}.values())
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError(
            f"{len(problems)} problems found before any stage ran: "
            + " | ".join(problem.one_line() for problem in problems),
            "fix each, then run again (nothing was trained)",
        )
    assert plan is not None
    return Preflight(plan, warnings)


def _directory_problems(root: Path) -> list[XltError]:
    """The study directory must be a directory xlt can create and write in."""
    if root.exists() and not root.is_dir():
        return [ConfigError(f"study directory {root} is a file", "give --output a directory path")]
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return [
            ConfigError(
                f"study directory {root} is inside the file {existing}", "give --output a directory path"
            )
        ]
    try:  # a real write, not os.access: permissions are not all (a read-only mount, /proc, root)
        os.rmdir(tempfile.mkdtemp(prefix=".xlt-write-check-", dir=existing))
    except OSError as exc:
        return [
            ConfigError(
                f"study directory {root} cannot be written ({existing}: {exc.strerror})",
                "give --output a directory you can write to, or change its permissions",
            )
        ]
    return []


def _task_file_problems(name: str, data_dir: Path) -> tuple[list[XltError], list[str]]:
    """What `xlt validate` finds in a task file, as problems of this study (the first few of each file)."""
    try:
        report = validate_task(name, data_dir)
    except XltError as exc:
        return [exc], []
    cwd = Path.cwd()
    found = [problem.render(cwd) for problem in report.problems]
    problems: list[XltError] = []
    if found:
        more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
        problems.append(
            ConfigError(
                f"task file {name}: " + " | ".join(found[:SHOWN]) + more,
                f"fix the task file or its data; `xlt validate {name}` lists every problem",
            )
        )
    return problems, [warning.render(cwd) for warning in report.warnings]


def _pinned_file_problems(plan: StudyPlan, data_dir: Path) -> list[XltError]:
    """Every pinned file a stage of a built-in task will read is present and has its upstream bytes."""
    files: dict[str, DataFile] = {}
    for stage in plan.stages:
        if stage.task_file is not None:
            continue  # read row by row above
        task = stage.task_spec
        if stage.training is not None:
            english = task.languages["train"][0]
            for split in TRAINING_SPLITS:
                files |= {f.path: f for f in task.files(split, english)}
        for language in stage.languages:
            files |= {f.path: f for f in task.files("test", language)}
    problems: list[XltError] = []
    for data_file in files.values():
        try:
            data_file.resolve(data_dir)
        except XltError as exc:
            problems.append(exc)
    if len(problems) > SHOWN:  # a wrong data directory: one line, not hundreds
        first = problems[0]
        return [
            ConfigError(
                f"{len(problems)} of the {len(files)} pinned data files the study reads are missing or "
                f"differ from upstream (the first: {first.problem})",
                first.fix,
            )
        ]
    return problems
