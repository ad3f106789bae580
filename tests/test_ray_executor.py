"""The Ray executor builds the same stages as the local one, with identical results."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from tests.test_study import tiny_study
from xlt.core.errors import ConfigError
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan
from xlt.study.stage_files import PREDICTIONS


def predictions(store: RunStore) -> dict[str, object]:
    return {
        path.parent.name: json.loads(path.read_text())
        for path in sorted(store.stages_dir.glob(f"*/{PREDICTIONS}"))
    }


def test_ray_and_local_executors_give_identical_results(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir, tatoeba="{languages: [afr], max_examples: 20}")
    plan = build_plan(load_study(study))
    local, distributed = RunStore(tmp_path / "local"), RunStore(tmp_path / "ray")
    # a Ray task with 1 CPU runs torch on 1 thread; the local run must too, or float sums differ in the
    # last bit (a different reduction order), which is not what this test is about. XLT_THREADS fixes the
    # count in this process and in the local Ray workers, which inherit the environment.
    monkeypatch.setenv("XLT_THREADS", "1")
    first = run_plan(plan, local, data_dir, show_progress=False)
    # 6 transfer stages, 2 Tatoeba checks of the stsb-trained encoders and one of the base encoder
    assert len(first.done) == 9 and not first.failed

    on_ray = run_plan(plan, distributed, data_dir, show_progress=False, executor="ray")
    assert sorted(on_ray.done) == sorted(first.done) and not on_ray.failed and not on_ray.skipped
    assert predictions(distributed) == predictions(local)
    assert [r["score"] for r in write_results(plan, distributed)["scores"]] == [
        r["score"] for r in write_results(plan, local)["scores"]
    ]
    for stage in plan.stages:  # every stage has its own log file, written by its worker
        assert "stage " + stage.stage_id in (distributed.logs_dir / f"{stage.stage_id}.log").read_text()

    again = run_plan(plan, distributed, data_dir, show_progress=False, executor="ray")
    assert again.done == [] and len(again.reused) == 9


def test_unreachable_ray_cluster_is_a_one_line_error(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    with pytest.raises(ConfigError, match=r"cannot start or reach the Ray cluster at 127\.0\.0\.1:9"):
        run_plan(
            plan, RunStore(tmp_path / "r"), data_dir, show_progress=False, executor="ray",
            ray_address="127.0.0.1:9",
        )  # fmt: skip


def test_workers_get_the_runs_settings(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers on other machines do not inherit the driver's environment: the data directory and
    `--compile` travel in Ray's runtime_env."""
    seen: dict[str, object] = {}

    def init(**kwargs: object) -> None:
        seen.update(kwargs)
        raise ValueError("stop here")

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=init)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setenv("XLT_COMPILE", "1")
    monkeypatch.setenv("XLT_DATA_DIR", str(data_dir))
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    with pytest.raises(ConfigError, match="stop here"):
        run_plan(plan, RunStore(tmp_path / "r"), data_dir, show_progress=False, executor="ray")
    env_vars = seen["runtime_env"]["env_vars"]  # type: ignore[index]
    assert env_vars["XLT_COMPILE"] == "1" and env_vars["XLT_DATA_DIR"] == str(data_dir)
