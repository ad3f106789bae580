"""What a stage was built with: the commit of the code, library versions, device, threads and precision.

A stage records these when it is built, and every result row takes them from the stage that produced it,
so a study finished across several commits or machines says which rows came from where. Stages built
before this record existed carry `UNRECORDED`, never the commit of the process that happens to read them.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import torch

from xlt import __version__
from xlt.core.settings import git_commit

UNRECORDED = "unrecorded"
# the fields a result row takes from its stage's provenance, in column order
ROW_FIELDS = (
    "xlt_version",
    "git_commit",
    "torch_version",
    "transformers_version",
    "datasets_version",
    "python_version",
    "device",
    "train_precision",
    "eval_precision",
)
# may differ between the processes that build one stage without changing its result
UNCHECKED_ON_RESUME = ("threads",)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return UNRECORDED


@lru_cache(maxsize=1)
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> str:
    """The device stages run on, with its name: e.g. "cpu: Intel(R) Xeon(R) ..." or "cuda: NVIDIA A100"."""
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {_cpu_model()}"


def environment() -> dict[str, Any]:
    """The code and machine of this process (git commit ends in -dirty for uncommitted changes); the study
    layer adds the precision training and evaluation resolve to (`xlt.study.execute.stage_provenance`)."""
    return {
        "git_commit": git_commit(),
        "xlt_version": __version__,
        "torch_version": torch.__version__,
        "transformers_version": _package_version("transformers"),
        "datasets_version": _package_version("datasets"),
        "python_version": platform.python_version(),
        "device": device(),
        "threads": torch.get_num_threads(),
    }


def same_build(recorded: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether a partly built stage may be continued here: same code, libraries, device and precision."""
    return {k: v for k, v in recorded.items() if k not in UNCHECKED_ON_RESUME} == {
        k: v for k, v in current.items() if k not in UNCHECKED_ON_RESUME
    }


def row_fields(recorded: dict[str, Any] | None) -> dict[str, Any]:
    """The provenance columns of a result row; every field is `UNRECORDED` for a stage without a record."""
    if recorded is None:
        return dict.fromkeys(ROW_FIELDS, UNRECORDED)
    return {name: recorded.get(name, UNRECORDED) for name in ROW_FIELDS}
