"""A study killed in the middle of a stage continues on `xlt run` and ends with the same results; one killed
in the middle of training continues from the stage's last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from tests.test_study import tiny_study
from xlt.runs.store import BUILD_RECORD


def run(
    study: Path, data_dir: Path, output: Path, *overrides: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    settings = [arg for override in overrides for arg in ("--set", override)]
    return subprocess.Popen(
        [sys.executable, "-m", "xlt.cli.main", "run", str(study), "--data-dir", str(data_dir),
         "--output", str(output), "--no-progress", *settings],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip


def scores(output: Path) -> dict[tuple[str, str, int], float]:
    payload = json.loads((output / "results.json").read_text())
    return {(r["intermediate"], r["language"], r["seed"]): r["score"] for r in payload["scores"]}


def test_killed_study_resumes_to_identical_results(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    reference = tmp_path / "uninterrupted"
    done = run(study, data_dir, reference)
    assert done.wait(timeout=600) == 0, done.stderr.read() if done.stderr else ""

    interrupted = tmp_path / "interrupted"
    proc = run(study, data_dir, interrupted)
    deadline = time.monotonic() + 300
    stages = interrupted / "stages"
    # kill -9 while a target stage is being built, after at least one stage has finished
    while time.monotonic() < deadline:
        finished = [p for p in stages.glob("*") if not p.name.startswith(".")] if stages.is_dir() else []
        building = list(stages.glob(".tgt-*.partial")) if stages.is_dir() else []
        if finished and building:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the study finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (interrupted / "results.json").exists()
    survivors = {p.name: p.stat().st_mtime_ns for p in stages.iterdir() if not p.name.startswith(".")}
    assert 0 < len(survivors) < 6

    resumed = run(study, data_dir, interrupted)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read() if resumed.stderr else ""
    assert not list(stages.glob(".*.partial"))
    for name, stamp in survivors.items():
        assert (stages / name).stat().st_mtime_ns == stamp  # finished stages were reused, not redone
    assert scores(interrupted) == scores(reference)


def test_study_killed_in_training_resumes_from_its_checkpoint(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    # 400 intermediate steps (8 batches a pass, 50 passes) with dropout and three dev evaluations
    longer = ("seeds=[1]", "training.intermediate.epochs=50", "training.intermediate.max_steps=400",
              "training.intermediate.evaluations=3")  # fmt: skip
    reference = tmp_path / "uninterrupted"
    done = run(study, data_dir, reference, *longer)  # no checkpoints at all
    assert done.wait(timeout=600) == 0, done.stderr.read() if done.stderr else ""

    interrupted = tmp_path / "interrupted"
    every = {"XLT_CHECKPOINT_STEPS": "50"}
    proc = run(study, data_dir, interrupted, *longer, env=every)
    deadline = time.monotonic() + 300
    checkpoint: Path | None = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(interrupted.glob("stages/.int-*.partial/work/checkpoint.pt"))
        # the stage notes its checkpoint for `xlt status` right after writing it: wait for both
        noted = [
            p
            for p in interrupted.glob(f"stages/.int-*.partial/{BUILD_RECORD}")
            if "checkpoint" in p.read_text()
        ]
        if found and noted:
            checkpoint = found[0]
            break
        time.sleep(0.01)
    assert checkpoint is not None and proc.poll() is None, "training finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    step = torch.load(checkpoint, weights_only=True)["step"]
    assert 50 <= step < 400
    stage_id = checkpoint.parents[1].name[1 : -len(".partial")]
    status = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "status", str(interrupted)], capture_output=True, text=True
    )
    assert "train: checkpoint at step" in " ".join(status.stdout.split())

    resumed = run(study, data_dir, interrupted, *longer, env=every)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read() if resumed.stderr else ""
    log = (interrupted / "logs" / f"{stage_id}.log").read_text()
    assert f"resumed from the checkpoint at step {step} of 400" in log
    assert "step 'prepare' was completed by an earlier run" in log
    assert json.loads((interrupted / "stages" / stage_id / "train.json").read_text())["resumed_from"] == step
    assert not (interrupted / "stages" / stage_id / "work").exists()  # checkpoints leave with the scratch dir
    weights = "encoder.safetensors"
    assert (interrupted / "stages" / stage_id / weights).read_bytes() == (
        reference / "stages" / stage_id / weights
    ).read_bytes()
    assert scores(interrupted) == scores(reference)
