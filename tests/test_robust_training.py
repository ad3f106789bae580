"""Robust training in the input-embedding space: noise, adversarial perturbations, smoothed prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_training import pairs
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.training.config import RobustConfig, TrainingConfig
from xlt.training.kinds import make_kind
from xlt.training.loop import fit
from xlt.training.robust import (
    SmoothedKind,
    _project,
    ascend,
    gaussian,
    perturbed_embeddings,
    training_loss,
    vote,
)


def test_projection_keeps_each_example_inside_the_ball() -> None:
    delta = torch.randn(4, 5, 3) * 10
    projected = _project(delta, 1.5)
    assert torch.all(projected.flatten(1).norm(dim=1) <= 1.5 + 1e-5)
    small = torch.full((1, 2, 2), 0.1)
    assert torch.equal(_project(small, 1.5), small)  # already inside: unchanged
    grad = torch.randn(4, 5, 3)
    stepped = ascend(torch.zeros(4, 5, 3), grad, 0.5, 10.0)
    np.testing.assert_allclose(
        stepped.flatten(1).norm(dim=1).numpy(), 0.5, rtol=1e-5
    )  # a step of L2 size 0.5
    assert torch.all((stepped * grad).flatten(1).sum(dim=1) > 0)  # along the gradient


def test_embedding_hook_perturbs_only_inside_the_block(tiny_encoder_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    encoder.eval()
    batch = encoder.tokenize(["a red dog", "the quick car"])
    with torch.no_grad():
        clean = encoder(**batch)
        with perturbed_embeddings(encoder, gaussian(0.5)):
            noisy = encoder(**batch)
        with perturbed_embeddings(encoder, lambda x: torch.zeros_like(x)):
            zero = encoder(**batch)
        after = encoder(**batch)
    assert not torch.allclose(clean, noisy) and torch.allclose(clean, zero) and torch.equal(clean, after)


def test_votes() -> None:
    assert vote([1, 2, 2, 0]) == 2
    assert vote([0.2, 0.4]) == pytest.approx(0.3)
    assert vote([["O", "B-PER"], ["O", "O"], ["O", "B-PER"]]) == ["O", "B-PER"]


@pytest.mark.parametrize("style", ["pgd", "freelb"])
def test_adversarial_loss_is_at_least_the_clean_loss_and_trains(tiny_encoder_dir: Path, style: str) -> None:
    torch.manual_seed(0)
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    kind = make_kind(encoder, get_task("xnli"), TrainingConfig())
    kind.model.eval()
    data = pairs(8, seed=1).map(lambda row: {"label": int(row["label"])})
    indices = list(range(8))
    clean, _ = kind.loss(data, indices)
    robust = RobustConfig(method="adversarial", style=style, radius=2.0, step_size=1.0, steps=3)
    kind.model.zero_grad()
    adversarial, _ = training_loss(kind, data, indices, robust, "fp32")
    assert float(adversarial.detach()) >= float(clean.detach()) - 1e-6
    grads = [p.grad for p in kind.model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)


@pytest.mark.parametrize("method", ["rs-noise", "adversarial"])
def test_robust_methods_train_end_to_end(tiny_encoder_dir: Path, method: str) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    config = TrainingConfig(
        max_steps=6, batch_size=8, learning_rate=1e-3, evaluations=1, robust=RobustConfig(method=method)
    )
    kind = make_kind(encoder, get_task("stsb"), config)
    report = fit(kind, pairs(48, 0), pairs(16, 1), config, seed=3)
    assert np.isfinite(report.best_dev) and report.steps == 6


def test_smoothed_prediction_votes_over_noisy_passes(tiny_encoder_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    kind = make_kind(encoder, get_task("xnli"), TrainingConfig())
    kind.model.eval()
    data = pairs(12, seed=2).map(lambda row: {"label": int(row["label"])})
    plain = kind.predict(data)
    tiny_noise = SmoothedKind(kind, RobustConfig(method="rs-noise", noise_std=1e-7, votes=3))
    assert tiny_noise.predict(data) == plain
    loud = SmoothedKind(kind, RobustConfig(method="rs-noise", noise_std=5.0, votes=5), seed=1)
    first = loud.predict(data)
    assert first == SmoothedKind(
        kind, RobustConfig(method="rs-noise", noise_std=5.0, votes=5), seed=1
    ).predict(data)
    assert len(first) == 12 and all(label in (0, 1, 2) for label in first)
    assert tiny_noise.task.name == "xnli"  # everything else is the wrapped kind's


def test_rs_da_dataset_keeps_originals_and_adds_k_neighbour_copies(data_dir: Path) -> None:
    from datasets import Dataset

    from xlt.data.schema import FEATURES, TaskType
    from xlt.robustness.augment import augment_dataset
    from xlt.robustness.neighbours import load_neighbours

    neighbours = load_neighbours(data_dir)
    rows = [{"id": "a", "sentence1": "The movie was good", "sentence2": "A fine film", "label": 1}]
    data = Dataset.from_list(rows, features=FEATURES[TaskType.PAIR_CLASSIFICATION])
    out = augment_dataset(data, TaskType.PAIR_CLASSIFICATION, neighbours, 3, seed=0)
    assert len(out) == 4 and out[0] == rows[0] and [r["id"] for r in out] == ["a", "a#1", "a#2", "a#3"]
    for row in list(out)[1:]:
        for original, new in zip(rows[0]["sentence1"].split(), row["sentence1"].split(), strict=True):
            assert new.lower() == original.lower() or new.lower() in neighbours.of(original)
    tags = Dataset.from_list(
        [{"id": "t", "tokens": ["Paris", "is", "beautiful"], "tags": ["B-LOC", "O", "O"]}],
        features=FEATURES[TaskType.TOKEN_TAGGING],
    )
    tagged = augment_dataset(tags, TaskType.TOKEN_TAGGING, neighbours, 2, seed=1)
    assert all(len(r["tokens"]) == 3 and r["tags"] == ["B-LOC", "O", "O"] for r in tagged)


def test_rs_da_stage_trains_on_the_augmented_set(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    from tests.test_study import tiny_study
    from xlt.runs.store import RunStore
    from xlt.study.config import load_study
    from xlt.study.plan import build_plan
    from xlt.study.runner import run_plan

    study = tiny_study(tmp_path, tiny_encoder_dir)
    plan = build_plan(
        load_study(
            study, ["seeds=[1]", "training.target.robust={method: rs-da, copies: 2}", "targets=[semrel]"]
        )
    )
    store = RunStore(tmp_path / "runs" / "tiny")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    assert not outcome.failed and len(outcome.done) == 1
    log = store.log_path(plan.targets[0].stage_id).read_text()
    assert "rs-da: 192 training examples" in log  # train_limit 64 x (1 + 2 copies)


def test_attack_on_a_smoothed_classifier_goes_through_its_noise_and_votes(tiny_encoder_dir: Path) -> None:
    from xlt.robustness.attack import attack_accuracy
    from xlt.robustness.config import RobustnessConfig

    encoder = SentenceEncoder(str(tiny_encoder_dir))
    kind = make_kind(encoder, get_task("xnli"), TrainingConfig())
    data = pairs(20, seed=3).map(lambda row: {"label": int(row["label"])})
    config = RobustnessConfig(attack_radius=5.0, attack_step_size=2.0)
    plain = attack_accuracy(kind, data, config, "fp32")
    assert plain[1] <= plain[0]  # a large radius only ever takes correct predictions away here
    silent = SmoothedKind(kind, RobustConfig(method="rs-noise", noise_std=1e-9, votes=3))
    assert attack_accuracy(silent, data, config, "fp32") == plain  # no noise to speak of: the same
    loud = RobustConfig(method="rs-noise", noise_std=2.0, votes=3)
    first = attack_accuracy(SmoothedKind(kind, loud, seed=4), data, config, "fp32")
    assert first == attack_accuracy(SmoothedKind(kind, loud, seed=4), data, config, "fp32")  # seeded
    assert all(0.0 <= value <= 1.0 for value in first)
    assert kind.model.training  # the model's mode is given back as it was
