"""Results computed by code with a known, since fixed bug are left out and rebuilt: a bf16 attack that left
every output unchanged (before 9231f9e the bf16 inference copy skipped the attack's hook) drops out of the
robustness tables, and the next run expires the stage, rebuilds it and records what it replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.console import Console

from xlt.core.io import atomic_write_json, sha256_file
from xlt.robustness.suites import ROBUSTNESS
from xlt.runs.store import EXPIRED, STAGE_RECORD, RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.robustness import ROBUSTNESS_CSV
from xlt.study.runner import run_plan
from xlt.study.stage_files import (
    ALL_RESULTS,
    EVALUATION_FORMAT,
    EVALUATION_VERSION,
    stale_results,
)


def _attack(clean: list[float], perturbed: list[float]) -> dict:
    return {"attack": {"en": {"items": {"clean": clean, "perturbed": perturbed, "gold": [0.0] * len(clean)}}}}


def test_which_results_are_stale() -> None:
    bf16 = {"provenance": {"eval_precision": "bf16"}}
    unchanged = _attack([0.1, 0.5], [0.1, 0.5])
    assert set(stale_results(bf16, unchanged)) == {"attack"}
    assert stale_results(bf16, _attack([0.1, 0.5], [0.1, 0.4])) == {}  # the attack moved something
    assert stale_results({"provenance": {"eval_precision": "fp32"}}, unchanged) == {}  # fp32 had no copy
    fixed = {**bf16, EVALUATION_FORMAT: {"version": EVALUATION_VERSION}}
    assert stale_results(fixed, unchanged) == {}  # evaluated by fixed code: never stale, so never a loop
    smoothed = {**bf16, "training": {"robust": {"method": "rs-noise"}}}
    assert set(stale_results(smoothed, None)) == {ALL_RESULTS}  # its predictions had no noise
    assert stale_results({**smoothed, "provenance": {"eval_precision": "fp32"}}, None) == {}


def test_a_stale_attack_is_left_out_then_rebuilt(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    study = tmp_path / "stale.yaml"
    study.write_text(
        f"name: stale\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\ntargets: [stsb-multi]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}}\n"
        "evaluation: {languages: [en, de], max_examples: 20, bootstrap: 20,\n"
        "             robustness: {suites: [char-noise, attack]}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(study))
    store = RunStore(tmp_path / "runs" / "stale")
    assert not run_plan(plan, store, data_dir, show_progress=False).failed
    stage = plan.targets[0]
    directory = store.stage_dir(stage.stage_id)
    record = store.read_record(stage.stage_id)
    assert record[EVALUATION_FORMAT] == {"version": EVALUATION_VERSION}
    write_results(plan, store)
    assert "attack" in set(pd.read_csv(store.root / ROBUSTNESS_CSV).suite)

    # turn it into a stage the buggy code built: bf16, no format record, the attack a no-op
    suites = json.loads((directory / ROBUSTNESS).read_text())
    for entry in suites["attack"].values():
        entry["items"]["perturbed"] = list(entry["items"]["clean"])
        entry["perturbed"], entry["drop"] = entry["clean"], 0.0
    atomic_write_json(directory / ROBUSTNESS, suites)
    del record[EVALUATION_FORMAT]
    record["provenance"]["eval_precision"] = "bf16"
    record["files"][ROBUSTNESS] = sha256_file(directory / ROBUSTNESS)
    atomic_write_json(directory / STAGE_RECORD, record)
    assert store.is_done(stage.stage_id)  # intact: only its content is known to be wrong

    write_results(plan, store)  # results leave the stale suite out, and keep the others
    assert set(pd.read_csv(store.root / ROBUSTNESS_CSV).suite) == {"char-noise"}

    console = Console(record=True, width=300)
    rebuilt = run_plan(plan, store, data_dir, show_progress=False, console=console)
    assert rebuilt.done == [stage.stage_id] and "expired" in rebuilt.warnings[stage.stage_id]
    assert "its bf16 attack left every output unchanged" in console.export_text()
    after = store.read_record(stage.stage_id)
    assert "bf16 attack left every output unchanged" in after["replaces"]["why"]
    assert after[EVALUATION_FORMAT] == {"version": EVALUATION_VERSION}
    assert not (directory / EXPIRED).exists()
    write_results(plan, store)
    assert "attack" in set(pd.read_csv(store.root / ROBUSTNESS_CSV).suite)
    assert run_plan(plan, store, data_dir, show_progress=False).done == []  # and it stays rebuilt
