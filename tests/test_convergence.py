"""Budgets by convergence: early stopping on the English dev score, the verdict on every training
(converged / capped / fixed), its resume, and where the verdict shows (results rows, status, train-eval)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from tests.test_checkpoints import Interrupted
from tests.test_study import tiny_study
from tests.test_training import pairs
from xlt.cli.main import app
from xlt.models.sentence import SentenceEncoder
from xlt.study.stage_files import chain_convergence
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.loop import Checkpoints, TrainReport, fit

runner = CliRunner()


def train(
    encoder_dir: Path,
    config: TrainingConfig,
    curve: list[float] | None = None,
    checkpoints: Checkpoints | None = None,
    stop_at: int | None = None,
) -> tuple[PairRegression, TrainReport]:
    """Train the tiny encoder on synonym pairs; with `curve`, the n-th dev evaluation scores curve[n]."""
    kind = PairRegression(SentenceEncoder(str(encoder_dir)), get_task("stsb"), config.loss)
    if curve is not None:
        scores: Iterator[float] = iter(curve)

        def scripted(data: Any, predictions: Any) -> float:
            return next(scores)

        kind.score = scripted  # type: ignore[method-assign]

    def on_step(step: int, total: int, loss: float) -> None:
        if step == stop_at:
            raise Interrupted(f"killed at step {step}")

    report = fit(kind, pairs(96, 0), pairs(32, 1), config, 7, on_step=on_step, checkpoints=checkpoints)
    return kind, report


def budget(**settings: Any) -> TrainingConfig:
    return TrainingConfig.model_validate(
        {"epochs": 20, "batch_size": 16, "learning_rate": 3e-3, "precision": "fp32", **settings}
    )


def test_early_stopping_fires_on_a_plateau(tiny_encoder_dir: Path) -> None:
    config = budget(max_steps=40, eval_every=2, patience=2, min_delta=0.01)
    # evaluations at steps 2, 4, 6, ...: the curve rises to .30 at step 6, then gains less than min_delta
    _, report = train(tiny_encoder_dir, config, [0.10, 0.20, 0.30, 0.305, 0.309, 0.9])
    assert report.verdict == "converged" and report.steps == 10 and report.cap == 40
    assert [entry["step"] for entry in report.history] == [2, 4, 6, 8, 10]
    # model selection still keeps the best score, even a gain too small to count for patience
    assert (report.best_step, report.best_dev) == (10, 0.309)
    assert report.stopped == (
        "early stopping at step 10: no dev gain >= 0.01 in 2 evaluations since 0.3000 at step 6"
    )


def test_early_stopping_on_a_real_curve_stops_before_the_cap(tiny_encoder_dir: Path) -> None:
    # no gain can reach min_delta 2 (Spearman is at most 1), so the third evaluation ends training
    _, report = train(tiny_encoder_dir, budget(max_steps=30, eval_every=3, patience=2, min_delta=2.0))
    assert report.verdict == "converged" and report.steps == 9 and len(report.history) == 3


def test_cap_on_a_rising_curve_is_capped(tiny_encoder_dir: Path) -> None:
    config = budget(max_steps=12, eval_every=2, patience=3, min_delta=0.01)
    _, report = train(tiny_encoder_dir, config, [0.1, 0.2, 0.3, 0.3, 0.3, 0.35])
    assert report.verdict == "capped" and report.steps == 12
    assert report.stopped == (
        "cap: max_steps 12 reached while dev still rose by 0.0500 at step 12, within the last 3 evaluations"
    )


def test_too_few_evaluations_for_patience_is_capped(tiny_encoder_dir: Path) -> None:
    config = budget(max_steps=6, evaluations=2, patience=3)
    _, report = train(tiny_encoder_dir, config, [0.5, 0.5])
    assert report.verdict == "capped" and report.steps == 6
    assert "after 2 dev evaluation(s), too few for patience 3" in report.stopped


def test_without_patience_the_budget_is_fixed_and_says_what_capped_it(tiny_encoder_dir: Path) -> None:
    # 96 pairs in batches of 16: one epoch is 6 steps, fewer than the 20 max_steps asked
    config = TrainingConfig(epochs=1, max_steps=20, batch_size=16, evaluations=1, precision="fp32")
    _, report = train(tiny_encoder_dir, config)
    assert report.verdict == "fixed" and report.steps == 6 == report.cap
    assert report.cap_by == "epochs 1 (6 steps of 6 per epoch; max_steps 20 asked)"
    assert "convergence not tested" in report.stopped


def test_patience_is_not_part_of_an_existing_stage_id() -> None:
    """New settings enter a stage's spec only when set, so every finished stage keeps its id."""
    assert TrainingConfig(max_steps=60).model_dump(exclude_defaults=True) == {"max_steps": 60}


def test_resume_with_early_stopping_gives_the_same_verdict_and_state(
    tiny_encoder_dir: Path, tmp_path: Path
) -> None:
    config = budget(max_steps=40, eval_every=2, patience=2, min_delta=0.02, dropout=0.1)
    reference, expected = train(tiny_encoder_dir, config)
    assert expected.verdict == "converged" and expected.steps < 40

    checkpoints = Checkpoints(tmp_path / "checkpoint.pt", every_steps=3, every_seconds=None)
    stop_at = expected.steps - 1
    with pytest.raises(Interrupted):
        train(tiny_encoder_dir, config, checkpoints=checkpoints, stop_at=stop_at)
    resumed, report = train(tiny_encoder_dir, config, checkpoints=checkpoints)
    assert 0 < report.resumed_from < stop_at
    for name in ("verdict", "stopped", "steps", "best_step", "best_dev", "history", "train_tokens"):
        assert getattr(report, name) == getattr(expected, name), name
    final, wanted = resumed.trainable_state(), reference.trainable_state()
    assert all(torch.equal(final[name], wanted[name]) for name in wanted)


def test_a_chain_converged_only_if_every_trained_stage_did() -> None:
    assert chain_convergence(["converged", "converged"]) == "converged"
    assert chain_convergence(["converged", "fixed"]) == "fixed"
    assert chain_convergence(["fixed", "capped"]) == "capped"
    assert chain_convergence(["untrained", "converged"]) == "converged"
    assert chain_convergence(["untrained"]) == "untrained"


def test_rows_status_and_stage_record_carry_the_verdict(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    # the intermediate stops early (no gain reaches min_delta 2), the target trains a fixed budget
    study = tiny_study(tmp_path, tiny_encoder_dir)
    args = ["run", str(study), "--data-dir", str(data_dir), "--no-progress", "--set", "seeds=[1]"]
    for setting in ("patience=1", "min_delta=2", "eval_every=1"):
        args += ["--set", f"training.intermediate.{setting}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    study_dir = tmp_path / "runs" / "tiny"
    scores = json.loads((study_dir / "results.json").read_text())["scores"]
    verdicts = {
        (row["intermediate"], row["convergence"], row["intermediate_convergence"], row["chain_convergence"])
        for row in scores
    }
    assert verdicts == {("none", "fixed", "none", "fixed"), ("stsb", "fixed", "converged", "fixed")}
    (intermediate,) = (study_dir / "stages").glob("int-*")
    record = json.loads((intermediate / "stage.json").read_text())["convergence"]
    assert record["verdict"] == "converged" and record["steps"] == 2 and len(record["curve"]) == 2
    status = runner.invoke(app, ["status", str(study_dir)])
    flat = " ".join(status.output.split())
    assert status.exit_code == 0 and "training: 1 converged, 2 fixed" in flat
    assert "early stopping at step 2" in flat


def test_train_eval_runs_the_steps_asked_or_says_why_not(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    common = [
        "train-eval", "--task", "xnli", "--encoder", str(tiny_encoder_dir), "--limit", "16",
        "--languages", "de", "--data-dir", str(data_dir), "--no-progress",
    ]  # fmt: skip
    # 16 examples in batches of 16 is one step per epoch: --steps raises epochs so that all 3 run
    result = runner.invoke(app, [*common, "--steps", "3", "--output", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "xnli s1: 3 steps; fixed" in " ".join(result.output.split())
    capped = [*common, "--steps", "3", "--output", str(tmp_path / "b"), "--set", "training.target.epochs=1"]
    result = runner.invoke(app, capped)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "ran 1 of the 3 steps asked" in flat and "epochs 1 (1 steps of 1 per epoch; max_steps 3" in flat
