"""The single registry of tasks: a name is defined once, and unknown names get a did-you-mean."""

from __future__ import annotations

from xlt.core.errors import ConfigError, did_you_mean
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
    task = _TASKS.get(name)
    if task is None:
        raise ConfigError(
            f"unknown task '{name}'{did_you_mean(name, _TASKS)}",
            "run `xlt tasks` to list the tasks",
        )
    return task


def list_tasks() -> list[TaskSpec]:
    _ensure_builtins()
    return sorted(_TASKS.values(), key=lambda task: task.name)
