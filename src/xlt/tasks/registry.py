"""The single registry of tasks: a name is defined once, and unknown names get a did-you-mean. The built-in
tasks are the YAML files shipped in `xlt/tasks/definitions/`, read on first use; a path to a task file
(.yaml/.yml) is accepted wherever a name is, and loads a task of the user's own."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from xlt.core.errors import ConfigError, did_you_mean
from xlt.tasks.custom import is_task_file, load_builtin_tasks, load_task_file
from xlt.tasks.spec import TaskSpec


@lru_cache(maxsize=1)
def _builtins() -> dict[str, TaskSpec]:
    # a built-in task is named after its file, so no name is defined twice
    return {task.name: task for task in load_builtin_tasks()}


def get_task(name: str) -> TaskSpec:
    builtins = _builtins()
    if is_task_file(name):
        task = load_task_file(Path(name).expanduser()).spec
        if task.name in builtins:
            # results are keyed by task name, so a task file must not pass for a built-in task
            raise ConfigError(
                f"task file {name} names its task '{task.name}', which is a built-in task",
                "give the task another name",
            )
        return task
    registered = builtins.get(name)
    if registered is None:
        raise ConfigError(
            f"unknown task '{name}'{did_you_mean(name, builtins)}",
            "run `xlt tasks` to list the tasks, or give the path of a task file (.yaml)",
        )
    return registered


def list_tasks() -> list[TaskSpec]:
    return sorted(_builtins().values(), key=lambda task: task.name)
