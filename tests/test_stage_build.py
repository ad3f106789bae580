"""Stage builds: what an interrupted build continues from, what a finished stage records, and how result
rows and reuse treat stages built elsewhere or before provenance was recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_study import tiny_study
from xlt.runs.provenance import ROW_FIELDS, UNRECORDED
from xlt.runs.store import BUILD_RECORD, WORK_DIR, RunStore
from xlt.study.config import load_study
from xlt.study.execute import build_provenance
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan

SPEC = {"format": 2, "kind": "intermediate", "seed": 1}


def interrupted(store: RunStore, spec: dict[str, Any], provenance: dict[str, Any], step: str) -> list[str]:
    """Build until `step` is complete, then stop as a Ctrl-C would; the steps the build had found done."""
    with pytest.raises(KeyboardInterrupt), store.building("s", spec, provenance) as build:
        found = list(build.steps)
        (build.work / "checkpoint.pt").write_text("state")
        build.complete(step, 1.5)
        raise KeyboardInterrupt
    return found


def test_interrupted_build_continues_only_with_same_spec_and_environment(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    here = build_provenance("auto", None)
    assert interrupted(store, SPEC, here, "prepare") == []
    assert (store.scratch_dir("s") / WORK_DIR / "checkpoint.pt").is_file()
    assert "steps done: prepare" in store.status(["s"])[0].detail
    # another thread count changes nothing a build computes
    assert interrupted(store, SPEC, {**here, "threads": 99}, "train") == ["prepare"]
    # a build of another spec under the same name (ids are spec hashes, so only by a bug) is never continued
    with store.building("s", {**SPEC, "seed": 2}, here) as build:
        assert build.steps == {} and build.discarded == "its spec differs"
    assert store.is_done("s")
    record = store.read_record("s")
    assert record["provenance"] == here and record["steps"] == {} and record["seed"] == 2
    assert not (store.stage_dir("s") / BUILD_RECORD).exists()


def test_build_of_other_code_restarts_and_a_finished_stage_records_its_steps(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    here = build_provenance("auto", "fp32")
    interrupted(store, SPEC, {**here, "git_commit": "0" * 40}, "prepare")
    with store.building("s", SPEC, here) as build:
        assert build.steps == {} and "other code" in build.discarded
        build.complete("prepare", 0.25)
        build.complete("train", 2.0)
    record = store.read_record("s")
    assert record["steps"] == {"prepare": 0.25, "train": 2.0} and record["seed"] == 1
    assert record["provenance"]["eval_precision"] == "fp32" and record["provenance"]["torch_version"]
    assert not (store.stage_dir("s") / WORK_DIR).exists() and not store.scratch_dir("s").exists()
    assert store.provenance("s") == here


def test_failed_build_starts_afresh(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    here = build_provenance(None, "bf16")
    with pytest.raises(ValueError), store.building("s", SPEC, here) as build:
        build.complete("prepare", 1.0)
        raise ValueError("broken data")
    assert not store.scratch_dir("s").exists()
    assert store.failure("s") is not None and "broken data" in str(store.failure("s"))


def test_rows_take_provenance_from_their_stage_and_reuse_reports_other_precision(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir), ["seeds=[1]"]))
    store = RunStore(tmp_path / "runs" / "tiny")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    old, elsewhere = plan.targets
    # a stage built before provenance was recorded, and one built where `auto` resolved otherwise
    path = store.stage_dir(old.stage_id) / "stage.json"
    record = json.loads(path.read_text())
    del record["provenance"]
    path.write_text(json.dumps(record))
    path = store.stage_dir(elsewhere.stage_id) / "stage.json"
    record = json.loads(path.read_text())
    other = "fp32" if record["provenance"]["eval_precision"] == "bf16" else "bf16"
    record["provenance"].update(git_commit="f" * 40, eval_precision=other)
    path.write_text(json.dumps(record))

    rows = write_results(plan, store)["scores"]
    by_stage = {row["stage_id"]: row for row in rows}
    assert all(by_stage[old.stage_id][field] == UNRECORDED for field in ROW_FIELDS)
    assert by_stage[elsewhere.stage_id]["git_commit"] == "f" * 40
    assert by_stage[elsewhere.stage_id]["eval_precision"] == other

    again = run_plan(plan, store, data_dir, show_progress=False)
    assert len(again.reused) == 3 and not again.done
    assert list(again.warnings) == [elsewhere.stage_id]
    assert f"eval_precision {other}" in again.warnings[elsewhere.stage_id]


def test_malformed_checkpoint_interval_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from xlt.core.errors import ConfigError
    from xlt.study.steps import checkpoint_interval

    monkeypatch.delenv("XLT_CHECKPOINT_STEPS", raising=False)
    monkeypatch.delenv("XLT_CHECKPOINT_MINUTES", raising=False)
    assert checkpoint_interval() == (None, 600.0)
    monkeypatch.setenv("XLT_CHECKPOINT_STEPS", "25")
    assert checkpoint_interval() == (25, None)
    monkeypatch.setenv("XLT_CHECKPOINT_MINUTES", "0.5")
    assert checkpoint_interval() == (25, 30.0)
    monkeypatch.setenv("XLT_CHECKPOINT_STEPS", "0")
    with pytest.raises(ConfigError, match="XLT_CHECKPOINT_STEPS='0' is not a positive number"):
        checkpoint_interval()


def robust_aligned_study(tmp_path: Path, encoder: Path) -> Path:
    """A cross-encoder (a trained head, continuous predictions) with an alignment and a robustness suite:
    every step applies, and any weight not restored would show in the predictions."""
    study = tmp_path / "steps.yaml"
    study.write_text(
        f"name: steps\nencoders: ['{encoder}']\nseeds: [1]\ntargets: [stsb-multi]\nalignments: [procrustes]\n"
        "training: {target: {max_steps: 4, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1,\n"
        "                    pair_encoder: cross, max_length: 12}}\n"
        "evaluation: {languages: [en, de], max_examples: 24, bootstrap: 50,\n"
        "  robustness: {suites: [char-noise], rate: 0.3}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    return study


def stage_outputs(store: RunStore, stage_id: str) -> dict[str, Any]:
    directory = store.stage_dir(stage_id)
    return {
        name: json.loads((directory / name).read_text()) for name in ("predictions.json", "robustness.json")
    }


@pytest.mark.parametrize("stop_before", ["align", "evaluate", "robustness"])
def test_stage_stopped_between_steps_continues_to_the_same_outputs(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, stop_before: str
) -> None:
    import xlt.study.steps as steps_module

    plan = build_plan(load_study(robust_aligned_study(tmp_path, tiny_encoder_dir)))
    (stage,) = plan.targets
    expected = RunStore(tmp_path / "runs" / "steps")
    assert not run_plan(plan, expected, data_dir, show_progress=False).failed

    store = RunStore(tmp_path / "stopped")

    def stop(work: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(steps_module, stop_before, stop)
        with pytest.raises(KeyboardInterrupt):
            run_plan(plan, store, data_dir, show_progress=False)
    assert not store.is_done(stage.stage_id) and store.scratch_dir(stage.stage_id).is_dir()
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    log = store.log_path(stage.stage_id).read_text()
    assert "step 'train' was completed by an earlier run" in log
    assert stage_outputs(store, stage.stage_id) == stage_outputs(expected, stage.stage_id)
