"""The embedding attack on pair-regression (STS) targets: on a trained model, Spearman under attack falls
monotonically as the radius grows, and a zero radius changes nothing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.test_training import pairs
from xlt.metrics.correlation import spearman
from xlt.models.sentence import SentenceEncoder
from xlt.robustness.attack import similarity_attack
from xlt.robustness.config import RobustnessConfig
from xlt.tasks import get_task
from xlt.training.config import RobustConfig, TrainingConfig
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.loop import fit
from xlt.training.robust import SmoothedKind


@pytest.fixture(scope="module")
def trained(tiny_encoder_dir: Path) -> PairRegression:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    kind = PairRegression(encoder, get_task("stsb"), "cosent")
    config = TrainingConfig(
        epochs=10, max_steps=160, batch_size=16, learning_rate=3e-3, evaluations=2, precision="fp32",
        freeze_embeddings=False,
    )  # fmt: skip
    report = fit(kind, pairs(256, 0), pairs(64, 1), config, seed=3)
    assert report.best_dev > 0.5  # a model that has learnt the task, so there is something to attack
    return kind


def test_sts_attack_lowers_spearman_monotonically_with_the_radius(trained: PairRegression) -> None:
    data = pairs(64, 2)
    gold = trained.gold(data)
    clean = spearman(trained.predict(data, precision="fp32"), gold)
    attacked = []
    for radius in (0.0, 0.5, 1.0, 2.0, 4.0):
        config = RobustnessConfig(attack_radius=max(radius, 1e-9), attack_step_size=radius / 2 or 1e-9)
        before, after = similarity_attack(trained, data, config, "fp32")
        assert spearman(before, gold) == pytest.approx(clean, abs=1e-6)  # clean scores, as predict gives
        attacked.append(spearman(after, gold))
    assert attacked[0] == pytest.approx(clean, abs=1e-4)
    assert all(a >= b for a, b in itertools.pairwise(attacked)), attacked
    assert attacked[-1] < clean - 0.2, attacked


def test_sts_attack_on_a_smoothed_model_is_seeded(trained: PairRegression) -> None:
    data = pairs(24, 4)
    config = RobustnessConfig(attack_radius=1.0, attack_step_size=0.5)
    smoothed = RobustConfig(method="rs-noise", noise_std=0.5, votes=3)
    mode = trained.model.training
    first = similarity_attack(SmoothedKind(trained, smoothed, seed=1), data, config, "fp32")
    assert first == similarity_attack(SmoothedKind(trained, smoothed, seed=1), data, config, "fp32")
    assert trained.model.training == mode  # the model's mode is given back as it was


def test_sts_attack_in_bf16_moves_the_scores(trained: PairRegression) -> None:
    """Under bf16 the encoder embeds through a bf16 copy of its transformer; the attack's perturbation hooks
    the original, so the copy must step aside (before, bf16 attacks returned the clean scores unchanged)."""
    data = pairs(64, 2)
    gold = trained.gold(data)
    before, after = similarity_attack(
        trained, data, RobustnessConfig(attack_radius=4.0, attack_step_size=2.0), "bf16"
    )
    assert spearman(before, gold) == pytest.approx(
        spearman(trained.predict(data, precision="bf16"), gold), abs=0.02
    )
    assert sum(abs(a - b) > 1e-3 for a, b in zip(before, after, strict=True)) > len(data) // 2
    assert spearman(after, gold) < spearman(before, gold) - 0.2


def test_smoothed_prediction_in_bf16_adds_the_noise(trained: PairRegression) -> None:
    data = pairs(24, 4)
    plain = trained.predict(data, precision="bf16")
    smoothed = SmoothedKind(trained, RobustConfig(method="rs-noise", noise_std=0.5, votes=1), seed=1)
    noisy = smoothed.predict(data, precision="bf16")
    assert max(abs(a - b) for a, b in zip(plain, noisy, strict=True)) > 1e-2
