"""A study kept without its trained weights (in git, where only results belong) keeps its results: nothing is
rebuilt for them, and a stage whose weights a pending stage needs is retrained first, with identical
results and a record of what it replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console

from tests.test_study import tiny_study
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan
from xlt.study.similarity import trained_stages


def _scores(payload: dict) -> dict[tuple[str, str, int], float]:
    return {(r["intermediate"], r["language"], r["seed"]): r["score"] for r in payload["scores"]}


def test_a_study_without_its_weights_keeps_its_results_and_retrains_only_what_is_needed(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir)))
    store = RunStore(tmp_path / "runs" / "tiny")
    assert len(run_plan(plan, store, data_dir, show_progress=False).done) == 6
    reference = _scores(write_results(plan, store))

    kept = RunStore(tmp_path / "kept")  # what a clone holds: everything but the weights
    shutil.copytree(store.root, kept.root, ignore=shutil.ignore_patterns("*.safetensors"))
    assert not list(kept.root.rglob("*.safetensors"))
    stamps = {p.name: p.stat().st_mtime_ns for p in kept.stages_dir.iterdir()}
    again = run_plan(plan, kept, data_dir, show_progress=False)
    assert again.done == [] and len(again.reused) == 6 and not again.weights_rebuilt
    assert {p.name: p.stat().st_mtime_ns for p in kept.stages_dir.iterdir()} == stamps
    assert _scores(write_results(plan, kept)) == reference
    statuses = kept.status([s.stage_id for s in plan.stages])
    assert all(s.state == "done" for s in statuses)
    assert any("weights not kept" in s.detail for s in statuses)
    from typer.testing import CliRunner

    from xlt.cli.main import app

    shown = CliRunner().invoke(app, ["status", str(kept.root)], env={"COLUMNS": "400"})
    assert shown.exit_code == 0 and "weights not kept" in shown.output
    # trained-model similarities need weights: a weightless stage is not offered to them
    assert trained_stages(plan, kept).models == {}

    # a target that had not finished: its intermediate is retrained first, the same model again
    target = next(s for s in plan.targets if s.parent is not None)
    parent = target.parent
    assert parent is not None
    before = kept.read_record(parent.stage_id)
    shutil.rmtree(kept.stage_dir(target.stage_id))
    console = Console(record=True, width=200)
    resumed = run_plan(plan, kept, data_dir, show_progress=False, console=console)
    assert resumed.weights_rebuilt == [parent.stage_id]
    assert resumed.done == [parent.stage_id, target.stage_id]
    assert parent.stage_id not in resumed.reused
    assert "its weights were not kept; retraining it" in console.export_text()
    after = kept.read_record(parent.stage_id)
    assert after["replaces"]["best_dev"] == before["convergence"]["best_dev"]
    assert after["convergence"]["best_dev"] == before["convergence"]["best_dev"]
    weights = [name for name in before["files"] if name.endswith(".safetensors")]
    assert weights and all(after["files"][n] == before["files"][n] for n in weights)  # bit for bit
    assert not kept.missing_weights(parent.stage_id)
    assert _scores(write_results(plan, kept)) == reference
    json.dumps(after)  # the record stays plain JSON

    # with `--reuse` of a study that holds the same stage with its weights (but not the pending target),
    # that stage is taken instead of retrained
    donor, clone = RunStore(tmp_path / "donor"), RunStore(tmp_path / "clone")
    shutil.copytree(store.root, donor.root)
    shutil.copytree(store.root, clone.root, ignore=shutil.ignore_patterns("*.safetensors"))
    for study in (donor, clone):
        shutil.rmtree(study.stage_dir(target.stage_id))
    console = Console(record=True, width=300)
    taken = run_plan(plan, clone, data_dir, show_progress=False, console=console, reuse=[donor.root])
    assert not taken.weights_rebuilt and parent.stage_id in taken.reused
    assert taken.done == [target.stage_id]
    assert "took the same stage with its weights" in console.export_text()
    assert not clone.missing_weights(parent.stage_id) and clone.damage(parent.stage_id) is None
    origin = json.loads((clone.stage_dir(parent.stage_id) / "adopted.json").read_text())
    assert origin["from"] == str(donor.stage_dir(parent.stage_id).resolve())
    assert origin["replaces"]["best_dev"] == before["convergence"]["best_dev"]
    assert not [p for p in clone.stages_dir.iterdir() if p.name.startswith(".")]  # no leftovers
    assert _scores(write_results(plan, clone)) == reference


def test_pending_stages_run_depth_first(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    """Baselines first, then each intermediate followed by its targets, so a study stopped between stages
    leaves no intermediate whose weights several pending targets still need."""
    from xlt.study.runner import _depth_first

    config = tiny_study(tmp_path, tiny_encoder_dir)
    three = config.read_text().replace("intermediates: [stsb]", "intermediates: [stsb, mrpc, sst2]")
    config.write_text(three)
    plan = build_plan(load_study(config))
    ordered = _depth_first(plan.stages, plan.stages)
    assert sorted(s.stage_id for s in ordered) == sorted(s.stage_id for s in plan.stages)
    position = {stage.stage_id: i for i, stage in enumerate(ordered)}
    for stage in plan.targets:
        if stage.parent is not None:
            assert position[stage.stage_id] == position[stage.parent.stage_id] + 1
    baselines = [position[s.stage_id] for s in plan.targets if s.parent is None]
    assert sorted(baselines) == list(range(len(baselines)))  # every baseline before any intermediate
    # one intermediate chain at a time, all its seeds before the next chain
    chains = [(s.chain, s.seed) for s in ordered if s.kind == "intermediate"]
    assert len({seed for _, seed in chains}) > 1 and len({chain for chain, _ in chains}) > 1
    firsts = [chain for i, (chain, _) in enumerate(chains) if i == 0 or chains[i - 1][0] != chain]
    assert len(firsts) == len(set(firsts)), chains
    for i in range(1, len(chains)):
        if chains[i][0] == chains[i - 1][0]:
            assert chains[i][1] > chains[i - 1][1]
    # a study stopped after the first seed of the second chain finishes that chain before the next one
    second = [s for s in ordered if s.kind == "intermediate"][2]
    assert second.seed == 1 and second.chain != chains[0][0]
    done = {second.stage_id} | {s.stage_id for s in ordered[: position[second.stage_id]]}
    done |= {s.stage_id for s in ordered if s.parent is not None and s.parent.stage_id in done}
    resumed = _depth_first([s for s in plan.stages if s.stage_id not in done], plan.stages)
    following = [(s.chain, s.seed) for s in resumed if s.kind == "intermediate"]
    assert following[0] == (second.chain, 2), following


def test_a_stage_record_is_parsed_once_and_reread_when_it_is_replaced(tmp_path: Path) -> None:
    from xlt.core.io import atomic_write_json

    store = RunStore(tmp_path)
    record = store.stage_dir("s1") / "stage.json"
    record.parent.mkdir(parents=True)
    atomic_write_json(record, {"steps": {"train": 1.0}})
    first = store.read_record("s1")
    assert store.read_record("s1") is first  # the same version of the file: not parsed again
    atomic_write_json(record, {"steps": {"train": 2.0}})  # a rebuild replaces the record
    assert store.read_record("s1") == {"steps": {"train": 2.0}}
    assert RunStore(tmp_path).read_record("s1") == {"steps": {"train": 2.0}}
