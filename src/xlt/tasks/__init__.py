"""Typed task metadata and the one registry every task is defined in."""

from xlt.tasks.registry import get_task, list_tasks
from xlt.tasks.spec import TaskSpec

__all__ = ["TaskSpec", "get_task", "list_tasks"]
