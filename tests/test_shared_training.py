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


def test_a_target_trained_by_a_reused_study_is_not_trained_again(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    """Two studies that train the same target model but evaluate it differently (other languages) plan
    different stages; with `--reuse` the second copies the first one's model and only evaluates it."""

    def study(name: str, languages: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            f"name: {name}\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [semrel]\n"
            "training: {target: {max_steps: 3, batch_size: 4, train_limit: 16, dev_limit: 8,\n"
            "                    evaluations: 1}}\n"
            f"evaluation: {{languages: [{languages}], max_examples: 6, tatoeba: {{enabled: false}}}}\n"
            f"output_dir: '{tmp_path / 'runs'}'\n"
        )
        return path

    first, second = (
        build_plan(load_study(study(n, langs))) for n, langs in [("a", "eng, hau"), ("b", "amh")]
    )
    (one,), (two,) = first.targets, second.targets
    assert one.stage_id != two.stage_id and one.training_key() == two.training_key()
    a, b = RunStore(tmp_path / "runs" / "a"), RunStore(tmp_path / "runs" / "b")
    assert not run_plan(first, a, data_dir, show_progress=False).failed
    assert not run_plan(second, b, data_dir, show_progress=False, reuse=[a.root]).failed
    record = json.loads((b.stage_dir(two.stage_id) / "stage.json").read_text())
    assert record["trained_model"] == {
        "key": two.training_key(),
        "reused_from": one.stage_id,
        "study": str(a.root),
    }
    assert cached_sha256_file(b.stage_dir(two.stage_id) / "encoder.safetensors") == cached_sha256_file(
        a.stage_dir(one.stage_id) / "encoder.safetensors"
    )
    predictions = json.loads((b.stage_dir(two.stage_id) / "predictions.json").read_text())
    assert set(predictions) == {"amh"}  # evaluated as its own study says
    assert f"of {a.root} (same training key" in b.log_path(two.stage_id).read_text()
    # without --reuse the same study trains the model itself
    c = RunStore(tmp_path / "runs" / "c")
    assert not run_plan(second, c, data_dir, show_progress=False).failed
    assert (
        "reused_from"
        not in json.loads((c.stage_dir(two.stage_id) / "stage.json").read_text())["trained_model"]
    )
