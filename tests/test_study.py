"""A whole study on a tiny random encoder over real SemRel slices: plan, run, reuse, resume, failures, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan

runner = CliRunner()


def tiny_study(tmp_path: Path, encoder: Path, tatoeba: str = "{enabled: false}", **extra: str) -> Path:
    lines = [
        "name: tiny",
        f"encoders: ['{encoder}']",
        "seeds: [1, 2]",
        "targets:",
        "  - task: semrel",
        "    intermediates: [stsb]",
        "training:",
        "  intermediate: {max_steps: 4, batch_size: 8, train_limit: 64, dev_limit: 32, evaluations: 1}",
        "  target: {max_steps: 4, batch_size: 8, train_limit: 64, dev_limit: 32, evaluations: 1}",
        f"evaluation: {{languages: [eng, hau, amh], max_examples: 40, bootstrap: 200, tatoeba: {tatoeba}}}",
        f"output_dir: '{tmp_path / 'runs'}'",
    ]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    path = tmp_path / "tiny.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_study_runs_writes_results_and_reuses_finished_stages(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    config = load_study(tiny_study(tmp_path, tiny_encoder_dir))
    plan = build_plan(config)
    store = RunStore(tmp_path / "runs" / "tiny")
    first = run_plan(plan, store, data_dir, show_progress=False)
    assert len(first.done) == 6 and not first.failed
    payload = write_results(plan, store)
    scores, gains = payload["scores"], payload["gains"]
    assert len(scores) == 4 * 3  # 2 seeds x (baseline, +stsb) x 3 languages
    row = scores[0]
    for key in (
        "encoder_weights",
        "stage_chain",
        "config_hash",
        "xlt_version",
        "git_commit",
        "data_files",
        "seed",
    ):
        assert row[key] not in (None, "")
    groups = {g["language"]: g["members"] for g in gains if g["seeds"] == 2 and g["intermediate"] == "stsb"}
    assert groups == {
        "eng": "eng",
        "hau": "hau",
        "amh": "amh",
        "macro-avg": "eng hau amh",
        "non-English": "hau amh",
        "African": "hau amh",
        "low-resource": "hau amh",  # CC-100: Hausa 0.3 GiB, Amharic 0.8 GiB; no high-resource language
    }
    by_language = {g["language"]: g for g in gains}
    african = by_language["African"]
    assert african["gain"] == pytest.approx((by_language["hau"]["gain"] + by_language["amh"]["gain"]) / 2)
    for gain in gains:
        assert gain["ci_low"] <= gain["ci_high"]
        assert gain["gain"] == pytest.approx(gain["with_intermediate"] - gain["baseline"], abs=1e-9)
    results = json.loads((store.root / "results.json").read_text())
    assert results["config_hash"] == config.hash()
    assert (store.root / "results.csv").read_text().count("\n") == 13

    before = {p: p.stat().st_mtime_ns for p in store.stages_dir.rglob("*") if p.is_file()}
    second = run_plan(plan, store, data_dir, show_progress=False)
    assert second.done == [] and len(second.reused) == 6
    assert before == {p: p.stat().st_mtime_ns for p in store.stages_dir.rglob("*") if p.is_file()}


def test_every_intermediate_trained_encoder_is_scored_on_tatoeba(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir, tatoeba="{languages: [afr, swh], max_examples: 20}")
    plan = build_plan(load_study(study))
    store = RunStore(tmp_path / "runs" / "tiny")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    # 6 transfer stages + the base encoder's check once (it does not depend on the seed) + 2 seeds x stsb
    assert len(outcome.done) == 9 and not outcome.failed
    payload = write_results(plan, store)
    tatoeba = [r for r in payload["scores"] if r["target"] == "tatoeba"]
    assert sorted({(r["intermediate"], r["seed"], r["language"]) for r in tatoeba}) == sorted(
        [("none", 1, lang) for lang in ("afr", "swh")]
        + [("stsb", s, lang) for s in (1, 2) for lang in ("afr", "swh")]
    )
    gains = [g for g in payload["gains"] if g["target"] == "tatoeba"]
    assert {g["intermediate"] for g in gains} == {"stsb"}
    assert {g["language"] for g in gains} >= {"afr", "swh"}
    assert {g["seeds"] for g in gains} == {2}  # both seeds compared with the one base evaluation
    # the report hands the findings page every gain, Tatoeba's too: the X-STILTs retrieval claim reads them
    import xlt.report.build as build
    from xlt.report.build import build_report
    from xlt.report.published import CLAIMS

    # the per-language table reads each language's script from its data: Tatoeba's rows only when the
    # ranker (which needs similarity.csv) reads them, never for the languages section alone
    tabled: list[set[str]] = []
    language_table = build.language_table

    def spy(scores, gains, *args):  # type: ignore[no-untyped-def]
        tabled.append(set(scores.target) | set(gains.target))
        return language_table(scores, gains, *args)

    monkeypatch.setattr(build, "language_table", spy)
    report = build_report(store.root, data_dir, permutations=20)
    assert "tatoeba" in set(report.gains.target)
    assert tabled and not any("tatoeba" in targets for targets in tabled)
    assert CLAIMS[1].check([("tiny", store.root, report.gains)]).verdict != "not measured"
    # the Tatoeba checks are (intermediate, target) pairs like any other: their similarity is estimated
    # and correlated with their gains (a study whose only gains are Tatoeba's still answers the question)
    from xlt.similarity.registry import get_estimators
    from xlt.study.similarity import save_similarity, study_pairs, study_similarity

    assert ("stsb", "tatoeba") in {(i.name, t.name) for i, t in study_pairs(plan)}
    estimators = get_estimators(["taxonomy", "random", "semb-lang"])
    frame = study_similarity(plan, store, data_dir, estimators, sample=20)
    assert set(frame[frame.target == "tatoeba"].language) == {"all", "afr", "swh"}
    save_similarity(frame, store.root / "similarity.csv")
    tabled.clear()
    report = build_report(store.root, data_dir, permutations=20)
    assert report.analysis is not None and "tatoeba" in set(report.analysis.joined.target)
    assert any("tatoeba" in targets for targets in tabled)
    assert "## Does similarity predict the gain?" in report.markdown.read_text()
    # `--targets` estimates only those targets' pairs and keeps the study's other similarities
    import pandas as pd

    before = pd.read_csv(store.root / "similarity.csv")
    args = ["similarity", str(store.root), "--data-dir", str(data_dir), "--sample", "20", "--ranker", "none"]
    result = runner.invoke(app, [*args, "--targets", "tatoeba", "--estimators", "semb"])
    assert result.exit_code == 0, result.output
    after = pd.read_csv(store.root / "similarity.csv")
    added = after[(after.estimator == "semb")]
    assert set(added.target) == {"tatoeba"} and len(after) == len(before) + len(added)
    key = ["estimator", "intermediate", "target", "language"]
    assert after[after.estimator != "semb"].sort_values(key).similarity.tolist() == pytest.approx(
        before.sort_values(key).similarity.tolist(), nan_ok=True
    )
    wrong = runner.invoke(app, [*args, "--targets", "xnli"])
    assert wrong.exit_code != 0 and "'xnli' is not a target of study tiny" in str(wrong.exception)


def test_interrupted_stage_restarts_and_failures_are_recorded(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(load_study(tiny_study(tmp_path, tiny_encoder_dir), ["seeds=[1]"]))
    store = RunStore(tmp_path / "runs" / "tiny")
    stage = plan.intermediates[0]
    partial = store.stages_dir / f".{stage.stage_id}.partial"
    partial.mkdir(parents=True)
    (partial / "encoder.safetensors").write_text("half-written by a killed run")
    assert store.status([stage.stage_id])[0].state == "running"

    import xlt.study.steps as steps_module

    real = steps_module.fit

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(steps_module, "fit", explode)
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    assert stage.stage_id in outcome.failed and "simulated crash" in outcome.failed[stage.stage_id]
    assert not partial.exists() and not store.is_done(stage.stage_id)
    dependent = [s.stage_id for s in plan.targets if s.parent is not None]
    assert set(dependent) <= set(outcome.skipped)
    assert store.status([stage.stage_id])[0].state == "failed"

    monkeypatch.setattr(steps_module, "fit", real)
    again = run_plan(plan, store, data_dir, show_progress=False)
    assert stage.stage_id in again.failed  # failures are not retried silently
    retried = run_plan(plan, store, data_dir, retry_failed=True, show_progress=False)
    assert not retried.failed and store.is_done(stage.stage_id)
    assert store.failure(stage.stage_id) is None


def test_cli_run_status_results_and_errors(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    study = tiny_study(tmp_path, tiny_encoder_dir)
    args = ["run", str(study), "--data-dir", str(data_dir), "--no-progress", "--set", "seeds=[1]"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "macro-avg" in result.output and "95% CI" in result.output
    study_dir = tmp_path / "runs" / "tiny"
    status = runner.invoke(app, ["status", str(study_dir)])
    assert status.exit_code == 0 and "3 done" in status.output and "standard" in status.output  # variant
    assert "nothing pending; the finished stages took" in " ".join(status.output.split())
    shown = runner.invoke(app, ["results", str(study_dir)])
    assert shown.exit_code == 0 and "hau" in shown.output
    csv = runner.invoke(app, ["results", str(study_dir), "--format", "csv"])
    assert csv.output.startswith("encoder,target,variant,intermediate,language")
    # --refresh recomputes the files from the finished stages (e.g. while a long study runs)
    (study_dir / "results.json").unlink()
    refreshed = runner.invoke(app, ["results", str(study_dir), "--refresh", "--format", "json"])
    assert refreshed.exit_code == 0 and json.loads(refreshed.output)["gains"]
    # a changed config keeps the previous results under their config hash
    old_hash = json.loads((study_dir / "study.json").read_text())["config_hash"]
    result = runner.invoke(app, [*args[:-1], "seeds=[1]", "--set", "evaluation.max_examples=30"])
    assert result.exit_code == 0, result.output
    assert (study_dir / f"results.{old_hash}.json").is_file()


def test_cli_errors_are_one_line_and_nonzero(tmp_path: Path, data_dir: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntargets: [semrel]\nseed: [1]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "run", str(bad), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "unknown key 'seed' (did you mean 'seeds'?)" in proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "results.json not found" in missing.stderr
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nencoders: [dice]\ntargets: [semrel]\n")
    no_data = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "run", str(good), "--data-dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert no_data.returncode == 2 and "does not exist" in no_data.stderr


def test_cli_lists_tasks_and_encoders() -> None:
    listed = runner.invoke(app, ["tasks", "--json"])
    assert listed.exit_code == 0
    tasks = {task["name"]: task for task in json.loads(listed.output)}
    assert tasks["semrel"]["metric"] == "spearman" and tasks["semrel"]["taxonomy"]["family"] == "similarity"
    assert tasks["stsb-multi"]["files"]["test"]["de"] == ["stsb_multi_mt/data/stsb-de-test.csv"]
    encoders = runner.invoke(app, ["encoders"])
    assert encoders.exit_code == 0
    for name in ("me5-small", "minilm-l6-en", "dice"):
        assert name in encoders.output


def test_version() -> None:
    from xlt import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"xlt {__version__}"
