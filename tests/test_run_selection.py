"""Choosing what a run builds: finished stages of another study with the same stage id are taken instead of
built again (`--reuse`), and `--only` runs the stages of some tasks, leaving the rest pending."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.test_study import tiny_study
from xlt.cli.main import app
from xlt.runs.store import ADOPTED, RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan


def _three_seeds(tmp_path: Path, encoder: Path) -> Path:
    """The tiny study with a third seed, under another name: seeds 1 and 2 are the same stages."""
    path = tiny_study(tmp_path / "b", encoder)
    text = path.read_text().replace("seeds: [1, 2]", "seeds: [1, 2, 3]").replace("name: tiny", "name: more")
    path.write_text(text)
    return path


def test_a_study_takes_the_finished_stages_of_another(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    (tmp_path / "b").mkdir()
    first_plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    first = RunStore(tmp_path / "runs" / "tiny")
    assert len(run_plan(first_plan, first, data_dir, show_progress=False).done) == 6
    # a damaged stage of the source is not taken: this study builds it
    damaged = next(s for s in first_plan.targets if s.parent is None and s.seed == 2)
    (first.stage_dir(damaged.stage_id) / "predictions.json").write_text("{}")

    plan = build_plan(load_study(_three_seeds(tmp_path, tiny_encoder_dir)))
    store = RunStore(tmp_path / "more")
    outcome = run_plan(plan, store, data_dir, show_progress=False, reuse=[first.root])
    shared = {s.stage_id for s in first_plan.stages} - {damaged.stage_id}
    assert set(outcome.adopted) == shared and set(outcome.reused) == shared
    assert len(outcome.done) == 4 and damaged.stage_id in outcome.done  # seed 3's three, and the damaged one
    for stage_id in shared:
        record = json.loads((store.stage_dir(stage_id) / ADOPTED).read_text())
        assert record["from"] == str(first.stage_dir(stage_id).resolve())
        assert store.is_done(stage_id) and store.log_path(stage_id).is_file()
    intermediate = next(s for s in first_plan.stages if s.parent is None and s.task == "stsb")
    weights = "encoder.safetensors"
    source, taken = first.stage_dir(intermediate.stage_id) / weights, store.stage_dir(intermediate.stage_id)
    assert (taken / weights).stat().st_ino == source.stat().st_ino  # hard-linked, not copied
    # the taken stages' results are the source's
    ours = {(r["stage_id"], r["language"]): r["score"] for r in write_results(plan, store)["scores"]}
    theirs = {(r["stage_id"], r["language"]): r["score"] for r in write_results(first_plan, first)["scores"]}
    assert all(ours[key] == score for key, score in theirs.items() if key[0] in shared)
    # nothing is taken twice, and a second run builds nothing
    again = run_plan(plan, store, data_dir, show_progress=False, reuse=[first.root])
    assert again.adopted == [] and again.done == [] and len(again.reused) == 9


def test_only_runs_the_stages_of_the_named_tasks(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    store = RunStore(tmp_path / "runs" / "tiny")
    intermediates = {s.stage_id for s in plan.stages if s.task == "stsb"}
    outcome = run_plan(plan, store, data_dir, show_progress=False, only=["stsb"])
    assert set(outcome.done) == intermediates and len(outcome.deferred) == 4
    statuses = {s.stage_id: s.state for s in store.status([s.stage_id for s in plan.stages])}
    assert {i for i, state in statuses.items() if state == "pending"} == set(outcome.deferred)
    rest = run_plan(plan, store, data_dir, show_progress=False)
    assert set(rest.done) == set(outcome.deferred) and set(rest.reused) == intermediates


def test_only_takes_the_intermediates_a_target_needs(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    from xlt.study.runner import _select

    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    chosen, left = _select(plan.stages, {"semrel"})
    assert {s.stage_id for s in chosen} == {s.stage_id for s in plan.stages} and left == []


def test_bad_selections_are_refused_before_anything_runs(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    runner = CliRunner()
    base = ["run", str(study), "--data-dir", str(data_dir), "--no-progress"]
    unknown = runner.invoke(app, [*base, "--only", "semrel,xnli"])
    assert unknown.exit_code != 0
    assert "--only names task(s) not in this study: xnli" in str(unknown.exception or unknown.output)
    missing = runner.invoke(app, [*base, "--reuse", str(tmp_path / "nowhere")])
    assert missing.exit_code != 0 and "not a study directory" in str(missing.exception or missing.output)
    assert not (tmp_path / "runs" / "tiny" / "stages").exists()  # refused before any stage started
