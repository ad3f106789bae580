"""Training interrupted after a checkpoint resumes from it and ends bit-identical to an uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.test_training import pairs
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.loop import Checkpoints, TrainReport, fit


class Interrupted(Exception):
    pass


def train(
    encoder_dir: Path, config: TrainingConfig, checkpoints: Checkpoints | None, stop_at: int | None = None
) -> tuple[PairRegression, TrainReport]:
    kind = PairRegression(SentenceEncoder(str(encoder_dir)), get_task("stsb"), config.loss)

    def on_step(step: int, total: int, loss: float) -> None:
        if step == stop_at:
            raise Interrupted(f"killed at step {step}")

    return kind, fit(kind, pairs(96, 0), pairs(32, 1), config, 7, on_step=on_step, checkpoints=checkpoints)


@pytest.mark.parametrize("method", ["standard", "rs-noise"])
def test_resumed_training_is_bit_identical(tiny_encoder_dir: Path, tmp_path: Path, method: str) -> None:
    # dropout and (rs-noise) embedding noise draw from torch's RNG; batches are reshuffled every 6 steps
    config = TrainingConfig.model_validate(
        {
            "epochs": 3,
            "max_steps": 14,
            "batch_size": 16,
            "learning_rate": 3e-3,
            "evaluations": 3,
            "dropout": 0.1,
            "precision": "fp32",
            "robust": {"method": method},
        }
    )
    reference, expected = train(tiny_encoder_dir, config, None)

    path = tmp_path / "checkpoint.pt"
    saves: list[int] = []
    checkpoints = Checkpoints(path, every_steps=4, every_seconds=None, on_save=lambda s, t: saves.append(s))
    with pytest.raises(Interrupted):
        train(tiny_encoder_dir, config, checkpoints, stop_at=10)
    assert saves == [4, 8] and path.is_file()
    resumed, report = train(tiny_encoder_dir, config, checkpoints)
    assert report.resumed_from == 8 and saves == [4, 8, 12]

    assert (report.best_step, report.best_dev, report.train_tokens) == (
        expected.best_step,
        expected.best_dev,
        expected.train_tokens,
    )
    assert report.history == expected.history
    final, wanted = resumed.trainable_state(), reference.trainable_state()
    assert final.keys() == wanted.keys()
    for name in wanted:
        assert torch.equal(final[name], wanted[name]), name
    test = pairs(40, 2)
    assert resumed.predict(test, precision="fp32") == reference.predict(test, precision="fp32")


def test_checkpoint_of_another_run_is_ignored(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    config = TrainingConfig(max_steps=6, batch_size=16, evaluations=1, precision="fp32")
    checkpoints = Checkpoints(tmp_path / "checkpoint.pt", every_steps=2, every_seconds=None)
    with pytest.raises(Interrupted):
        train(tiny_encoder_dir, config, checkpoints, stop_at=3)
    other = config.model_copy(update={"learning_rate": 1e-3})
    _, report = train(tiny_encoder_dir, other, checkpoints)
    assert report.resumed_from == 0 and report.steps == 6
