"""The single registry of tasks: a name is defined once, and unknown names get a did-you-mean. A path to a
task file (.yaml/.yml) is accepted wherever a name is, and loads a task of the user's own."""

from __future__ import annotations

from pathlib import Path

from xlt.core.errors import ConfigError, did_you_mean
from xlt.tasks.custom import is_task_file, load_task_file
from xlt.tasks.spec import TaskSpec

_TASKS: dict[str, TaskSpec] = {}


def register(task: TaskSpec) -> TaskSpec:
    if task.name in _TASKS:
        raise ValueError(f"task '{task.name}' is registered twice")
    _TASKS[task.name] = task
    return task


def _ensure_builtins() -> None:
    from xlt.tasks import builtin, catalogue  # noqa: F401  (register on import)


def get_task(name: str) -> TaskSpec:
    _ensure_builtins()
    if is_task_file(name):
        task = load_task_file(Path(name).expanduser()).spec
        if task.name in _TASKS:
            # results are keyed by task name, so a task file must not pass for a built-in task
            raise ConfigError(
                f"task file {name} names its task '{task.name}', which is a built-in task",
                "give the task another name",
            )
        return task
    registered = _TASKS.get(name)
    if registered is None:
        raise ConfigError(
            f"unknown task '{name}'{did_you_mean(name, _TASKS)}",
            "run `xlt tasks` to list the tasks, or give the path of a task file (.yaml)",
        )
    return registered


def list_tasks() -> list[TaskSpec]:
    _ensure_builtins()
    return sorted(_TASKS.values(), key=lambda task: task.name)
