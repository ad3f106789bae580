"""`xlt --compile` / XLT_COMPILE: compiled forward passes compute what eager ones do, training with them
matches eager training, robust training's hooked passes stay eager, and a bad setting is a clear error."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from tests.test_training import pairs
from xlt.core.errors import ConfigError
from xlt.models import compiling
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.loop import fit

needs_compiler = pytest.mark.skipif(
    not (shutil.which("g++") or shutil.which("clang++")), reason="torch.compile on CPU needs a C++ compiler"
)


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("0", False), ("off", False), ("1", True), ("yes", True)]
)
def test_the_setting_reads_on_and_off(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setattr(compiling, "_check_compiler", lambda: None)
    monkeypatch.setenv(compiling.COMPILE_ENV, value)
    assert compiling.enabled() is expected


def test_a_bad_setting_or_a_missing_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compiling.COMPILE_ENV, "sometimes")
    with pytest.raises(ConfigError, match="XLT_COMPILE='sometimes' is neither on nor off"):
        compiling.enabled()

    monkeypatch.setenv(compiling.COMPILE_ENV, "1")
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compiling.shutil, "which", lambda name: None)
    compiling._check_compiler.cache_clear()
    try:
        with pytest.raises(ConfigError, match="needs a C\\+\\+ compiler") as raised:
            compiling.enabled()
        assert "without --compile" in str(raised.value.fix)
    finally:
        compiling._check_compiler.cache_clear()


def _train(encoder_dir: Path, monkeypatch: pytest.MonkeyPatch, on: bool, method: str = "standard") -> tuple:
    monkeypatch.setenv(compiling.COMPILE_ENV, "1" if on else "0")
    config = TrainingConfig.model_validate(
        {
            "max_steps": 8,
            "batch_size": 16,
            "learning_rate": 3e-3,
            "evaluations": 2,
            "dropout": 0.0,
            "precision": "fp32",
            "robust": {"method": method},
        }
    )
    kind = PairRegression(SentenceEncoder(str(encoder_dir)), get_task("stsb"), config.loss)
    report = fit(kind, pairs(64, 0), pairs(32, 1), config, 7)
    return kind, report


@needs_compiler
def test_compiled_training_matches_eager_training(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    compiled_call = compiling._compiled_call

    def counting() -> object:
        calls.append(True)
        return compiled_call()

    monkeypatch.setattr(compiling, "_compiled_call", counting)
    eager_kind, eager = _train(tiny_encoder_dir, monkeypatch, on=False)
    assert not calls and not eager.compiled
    kind, report = _train(tiny_encoder_dir, monkeypatch, on=True)
    assert calls, "the compiled path was never taken"
    assert report.compiled
    # the same arithmetic, fused differently: equal up to float rounding
    assert [h["dev_score"] for h in report.history] == pytest.approx(
        [h["dev_score"] for h in eager.history], abs=1e-4
    )
    for (name, a), (_, b) in zip(
        kind.model.named_parameters(), eager_kind.model.named_parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3, msg=name)

    # inference: the encoder's embeddings, compiled or not
    encoder = kind.encoder
    texts = ["a short one", "a somewhat longer sentence about the weather today", "x"]
    compiled_embeddings = encoder.encode(texts, precision="fp32")
    monkeypatch.setenv(compiling.COMPILE_ENV, "0")
    eager_embeddings = encoder.encode(texts, precision="fp32")
    assert abs(compiled_embeddings - eager_embeddings).max() < 1e-4


@needs_compiler
def test_robust_training_perturbs_through_hooks_and_stays_eager(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    forward = compiling.forward

    def spy(function: Callable[..., torch.Tensor], module: torch.nn.Module, *inputs: torch.Tensor) -> object:
        seen.append(torch.is_grad_enabled())
        return forward(function, module, *inputs)

    monkeypatch.setattr(compiling, "forward", spy)
    _train(tiny_encoder_dir, monkeypatch, on=True, method="rs-noise")
    # the training passes carry the noise hook, so none of them went through `compiling.forward`;
    # evaluations (no gradient, no hook) did
    assert seen and not any(seen)


def test_a_bad_setting_stops_the_cli_before_anything_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_bad_input import one_line, xlt

    monkeypatch.setenv(compiling.COMPILE_ENV, "maybe")
    code, out, err = xlt(capsys, "tasks")
    assert code == 2 and out == ""
    assert one_line(err) == (
        "error: XLT_COMPILE='maybe' is neither on nor off; "
        "set XLT_COMPILE=1 to compile the encoder's forward passes, or unset it"
    )
