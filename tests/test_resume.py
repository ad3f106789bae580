"""A study killed in the middle of a stage continues on `xlt run` and ends with the same results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.test_study import tiny_study


def run(study: Path, data_dir: Path, output: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "xlt.cli.main", "run", str(study), "--data-dir", str(data_dir),
         "--output", str(output), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
