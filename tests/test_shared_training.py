"""Target stages that train the same model train it once: xquad, mlqa and tydiqa all train on TyDiQA-GoldP
English, so with equal settings the later stages take the first one's weights, dev curve and verdict, and
evaluate them on their own test sets. Different settings (or another parent or seed) train anew."""

from __future__ import annotations

import json
from pathlib import Path

from xlt.core.io import cached_sha256_file
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.runner import run_plan


def test_qa_targets_share_one_training(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    study = tmp_path / "qa.yaml"
    study.write_text(
        f"name: qa\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\n"
        "targets: [xquad, mlqa, {task: tydiqa, training: {learning_rate: 1.0e-3}}]\n"
        "training: {target: {max_steps: 2, batch_size: 4, train_limit: 16, dev_limit: 8, evaluations: 1,\n"
        "                    max_length: 96}}\n"
        "evaluation: {languages: [en, de, ar], max_examples: 6}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(study))
    by_task = {stage.task: stage for stage in plan.targets}
    assert by_task["xquad"].training_key() == by_task["mlqa"].training_key()
    assert by_task["tydiqa"].training_key() != by_task["xquad"].training_key()  # its own learning rate
    store = RunStore(tmp_path / "runs" / "qa")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed

    def record(task: str) -> dict:
        return json.loads((store.stage_dir(by_task[task].stage_id) / "stage.json").read_text())

    xquad, mlqa, tydiqa = record("xquad"), record("mlqa"), record("tydiqa")
    assert xquad["trained_model"] == {"key": by_task["xquad"].training_key()}
    assert mlqa["trained_model"]["reused_from"] == by_task["xquad"].stage_id
    assert "reused_from" not in tydiqa["trained_model"]
    assert mlqa["convergence"] == xquad["convergence"]
    weights = [
        cached_sha256_file(store.stage_dir(by_task[t].stage_id) / "encoder.safetensors") for t in by_task
    ]
    assert weights[0] == weights[1] != weights[2]
    # each evaluated on its own test sets
    for task, stage in by_task.items():
        predictions = json.loads((store.stage_dir(stage.stage_id) / "predictions.json").read_text())
        files = [path for entry in predictions.values() for path in entry["files"]]
        assert files and all(task in path or (task == "xquad" and "xquad" in path) for path in files)
    log = store.log_path(by_task["mlqa"].stage_id).read_text()
    assert "reused its weights" in log and "step 20" not in log
