"""A study killed (kill -9) at each named point of its life resumes to the results of an uninterrupted run,
with no partial file left: at startup (recording the study), in training, in evaluation, and while the
results are written (before and after their commit point).

The kill is deterministic: a small driver replaces one xlt function with one that kills the process on its
n-th call (before it runs, or after it returns), then runs the console script as usual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_study import tiny_study

DRIVER = """\
import importlib, os, signal, sys

module, name, nth, when, *argv = sys.argv[1:]
target = importlib.import_module(module)
original = getattr(target, name)
calls = 0

def killing(*args, **kwargs):
    global calls
    calls += 1
    if calls == int(nth) and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    if calls == int(nth) and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(target, name, killing)
from xlt.cli.main import main

sys.argv = ["xlt", *argv]
main()
"""

# point -> (module, function, n-th call, before/after). Every stage calls steps.train and steps.evaluate (the
# intermediate stage first); study.json is written once at startup and once with the results, each through
# commit_files, which calls recover_files before staging and after its journal is written.
POINTS = {
    "startup": ("xlt.study.records", "record_study", 1, "before"),
    "training": ("xlt.study.steps", "train", 1, "before"),  # the first stage: a baseline target
    "evaluation": ("xlt.study.steps", "evaluate", 1, "before"),
    "results, staged": ("xlt.study.records", "write_study_record", 2, "before"),  # the last file staged
    "results, committed": ("xlt.core.io", "recover_files", 5, "before"),  # journal written, no rename done
}
# what each kill leaves behind, so that the test knows it stopped where it says
LEFT = {
    "startup": lambda out: not (out / "study.json").exists(),
    "training": lambda out: bool(list(out.glob("stages/.tgt-*.partial"))),
    "evaluation": lambda out: any(
        "train" in json.loads(p.read_text())["steps"] for p in out.glob("stages/.tgt-*.partial/build.json")
    ),
    "results, staged": lambda out: (
        (out / ".results.csv.new").exists() and not (out / ".commit.json").exists()
    ),
    "results, committed": lambda out: (out / ".commit.json").exists() and not (out / "results.csv").exists(),
}


def run(study: Path, data_dir: Path, output: Path, *driver: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", DRIVER, *driver] if driver else [sys.executable, "-m", "xlt.cli.main"]
    return subprocess.run(
        [*command, "run", str(study), "--data-dir", str(data_dir), "--output", str(output), "--no-progress",
         "--set", "seeds=[1]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def outcome(output: Path) -> dict[str, object]:
    payload = json.loads((output / "results.json").read_text())
    scores = {(r["intermediate"], r["language"], r["seed"]): r["score"] for r in payload["scores"]}
    gains = (output / "gains.csv").read_text().splitlines()
    # study.json and the results are of one run (the config hash differs between runs: it holds the path)
    assert json.loads((output / "study.json").read_text())["config_hash"] == payload["config_hash"]
    return {"scores": scores, "gains": gains}


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path, data_dir: Path
) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("reference")
    output = tmp / "out"
    done = run(tiny_study(tmp, tiny_encoder_dir), data_dir, output)
    assert done.returncode == 0, done.stderr
    return outcome(output)


@pytest.mark.parametrize("point", list(POINTS))
def test_killed_at_a_named_point_resumes_to_identical_results(
    point: str, reference: dict[str, object], tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    output = tmp_path / "out"
    module, name, nth, when = POINTS[point]
    killed = run(study, data_dir, output, module, name, str(nth), when)
    assert killed.returncode == -9, killed.stderr  # SIGKILL
    assert LEFT[point](output)
    if output.is_dir():
        # all or nothing: no results file without the others
        present = {n for n in ("results.csv", "results.json", "gains.csv") if (output / n).exists()}
        assert present in (set(), {"results.csv", "results.json", "gains.csv"}), present
    resumed = run(study, data_dir, output)
    assert resumed.returncode == 0, resumed.stderr
    assert outcome(output) == reference
    leftovers = [p.name for p in output.rglob("*") if p.name.endswith((".partial", ".new", ".tmp"))]
    assert leftovers == [] and not (output / ".commit.json").exists()
