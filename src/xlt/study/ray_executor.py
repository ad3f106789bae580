"""Stages as Ray tasks: each intermediate stage is one task, and each target task waits for its
intermediate. Every task builds its stage directory exactly as the local executor does, so the study
directory must be on storage all Ray nodes share (it holds the trained encoders that targets load).

Ray is optional: `pip install 'xlt[ray]'`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xlt.core.errors import ConfigError
from xlt.runs.store import RunStore
from xlt.study.execute import run_stage
from xlt.study.plan import Stage, StudyPlan

# settings of the driver that workers on other machines need too (data and cache locations, `xlt
# --compile`, hub access); local workers inherit the whole environment
FORWARDED_ENV = ("XLT_DATA_DIR", "XLT_CACHE_DIR", "XLT_COMPILE", "HF_HOME", "HF_HUB_OFFLINE", "HF_ENDPOINT")


def _ray_stage(
    stage: Stage, root: str, data_dir: str, parent: tuple[str, str] | None, donors: tuple[str, ...]
) -> tuple[str, str]:
    """Runs inside a Ray worker. `parent` is the (state, detail) of the intermediate task, if any;
    `donors` the roots of the studies whose trained targets the stage may take."""
    if parent is not None and parent[0] != "done":
        return (
            "skipped",
            f"its intermediate stage {stage.parent.stage_id if stage.parent else ''} did not finish",
        )
    return run_stage(
        stage, RunStore(Path(root)), Path(data_dir), donors=[RunStore(Path(path)) for path in donors]
    )


def _check_reachable(address: str) -> None:
    """Ray retries an unreachable head node for minutes; a plain TCP connect says at once."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot start or reach the Ray cluster at {address}: {exc.strerror or exc}",
            "check --ray-address (e.g. ray://host:10001 or auto), or leave it out for a local cluster",
        ) from None


def run_on_ray(
    stages: list[Stage],
    plan: StudyPlan,
    store: RunStore,
    data_dir: Path,
    finished: Callable[[Stage, str, str], None],
    *,
    address: str | None = None,
    donors: Sequence[RunStore] = (),
) -> None:
    """Submit `stages` (in plan order, intermediates first) and report each as it completes; `donors`
    as in `run_stage`."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--executor ray needs the ray package, which is not installed",
            "pip install 'xlt[ray]' (or use the default local executor)",
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        if address is not None:
            _check_reachable(address)
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        try:
            ray.init(
                address=address,
                runtime_env={"env_vars": env} if env else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"cannot start or reach the Ray cluster{f' at {address}' if address else ''}: {exc}",
                "check --ray-address (e.g. ray://host:10001 or auto), or leave it out for a local cluster",
            ) from None
    try:
        remote = ray.remote(_ray_stage)
        donor_roots = tuple(str(donor.root.resolve()) for donor in donors)
        refs: dict[str, Any] = {}
        by_ref: dict[Any, Stage] = {}
        resources = plan.config.resources
        for stage in stages:
            need = resources.intermediate if stage.kind == "intermediate" else resources.target
            parent = refs.get(stage.parent.stage_id) if stage.parent is not None else None
            ref = remote.options(
                num_cpus=need.cpus, num_gpus=need.gpus, max_retries=0, name=stage.stage_id
            ).remote(stage, str(store.root.resolve()), str(data_dir.resolve()), parent, donor_roots)
            refs[stage.stage_id] = ref
            by_ref[ref] = stage
        pending = list(by_ref)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    state, detail = ray.get(ref)
                except Exception as exc:  # a worker that died (out of memory, node lost)
                    state, detail = "failed", f"Ray task failed: {type(exc).__name__}: {exc}"
                finished(by_ref[ref], state, detail)
    finally:
        if started_here:
            ray.shutdown()
