"""`xlt train-eval` trains and evaluates every task type end to end (tiny random encoder, real slices)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlt.cli.main import app

runner = CliRunner()

CASES = [
    ("xnli", "de,sw"),
    ("pawsx", "ja"),
    ("xcopa", "sw"),
    ("umsab", "ar"),
    ("masakhaner", "hau"),
    ("udpos", "yo"),
    ("xquad", "th"),
    ("tydiqa", "sw,en"),
    ("mlqa", "hi"),
    ("panx", "rw,no"),
    ("tatoeba", "amh"),
    ("lareqa", "de"),  # 16 questions searched in the whole 11-language pool
]


@pytest.mark.parametrize(("task", "languages"), CASES)
def test_train_eval_every_task_type(
    task: str, languages: str, tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    args = [
        "train-eval", "--task", task, "--encoder", str(tiny_encoder_dir), "--limit", "16", "--steps", "2",
        "--languages", languages, "--data-dir", str(data_dir), "--output", str(tmp_path), "--no-progress",
        "--set", "training.target.max_length=96",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (study_dir,) = tmp_path.iterdir()
    scores = json.loads((study_dir / "results.json").read_text())["scores"]
    assert sorted(row["language"] for row in scores) == sorted(languages.split(","))
    for row in scores:
        assert 0.0 <= row["score"] <= 1.0 and row["n"] == 16
        assert row["target"] == task


def test_train_eval_bitext_mining(tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    """BUCC mines the whole zh-en sample whatever --limit says: fewer sentences would be an easier task."""
    args = [
        "train-eval", "--task", "bucc-zh", "--encoder", str(tiny_encoder_dir), "--limit", "16",
        "--data-dir", str(data_dir), "--output", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (study_dir,) = tmp_path.iterdir()
    (row,) = json.loads((study_dir / "results.json").read_text())["scores"]
    assert row["target"] == "bucc-zh" and row["metric"] == "mining_f1" and 0.0 <= row["score"] <= 1.0
    assert row["n"] == 8624  # every zh sentence of the sample


def test_intermediate_of_another_type_carries_only_the_encoder(
    tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    """A POS-tagging intermediate feeds an NLI target: the tagging head is dropped, the encoder is kept."""
    args = [
        "train-eval", "--task", "xnli", "--intermediate", "udpos-en", "--encoder", str(tiny_encoder_dir),
        "--limit", "16", "--steps", "2", "--languages", "fr", "--data-dir", str(data_dir),
        "--output", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (study_dir,) = tmp_path.iterdir()
    stages = sorted(p.name for p in (study_dir / "stages").iterdir())
    # the intermediate stage, and the target both as baseline and after the intermediate
    assert [s.split("-s1-")[0] for s in stages] == [
        "int-udpos-en-tiny-encoder0",
        "tgt-xnli-tiny-encoder0",
        "tgt-xnli-tiny-encoder0",
    ]
    assert "gain" in result.output
    from safetensors import safe_open

    with safe_open(str(study_dir / "stages" / stages[0] / "encoder.safetensors"), "pt") as saved:
        assert all(key.startswith("transformer.") for key in saved.keys())  # noqa: SIM118
    assert (study_dir / "stages" / stages[0] / "head.safetensors").is_file()


def test_unknown_task_in_train_eval_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "train-eval", "--task", "xnlii", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown task 'xnlii' (did you mean 'xnli'?)" in proc.stderr


def test_cross_encoder_option_for_pair_regression(
    tiny_encoder_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    args = [
        "train-eval", "--task", "semrel", "--encoder", str(tiny_encoder_dir), "--limit", "16", "--steps", "2",
        "--languages", "hau", "--data-dir", str(data_dir), "--output", str(tmp_path), "--no-progress",
        "--set", "training.target.pair_encoder=cross",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (study_dir,) = tmp_path.iterdir()
    (stage,) = (study_dir / "stages").iterdir()
    assert (stage / "head.safetensors").is_file()  # the bi-encoder has no head; the cross-encoder has one
    predictions = json.loads((stage / "predictions.json").read_text())["hau"]["pred"]
    assert all(0.0 <= p <= 1.0 for p in predictions)
