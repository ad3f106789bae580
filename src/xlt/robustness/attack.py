"""Attacks on the input embeddings of a trained target model, within an L2 radius per input (projected
gradient ascent, at the evaluation's precision; the perturbation itself is kept in fp32):

- classification: the loss of the gold label is ascended; robust accuracy is the accuracy under attack;
- pair regression (STS): the similarity of every pair is pushed away from its gold score, by ascending
  -sum_i z_i s_i, where s_i is the pair's predicted similarity and z_i its standardised gold score (high
  gold pairs are pushed apart, low gold pairs together); the score under attack is the target's own
  metric (Spearman) of the attacked similarities.

A smoothed (rs-noise) model is attacked through its noise (each ascent step sees a fresh draw) and scored
by its vote (majority of labels, mean of similarities) over `votes` noisy passes, as its predictions are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch
from datasets import Dataset
from torch import nn

from xlt.metrics import get_metric
from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.robustness.config import RobustnessConfig
from xlt.training.kinds.base import sorted_batches
from xlt.training.kinds.classification import Classification, CrossPairRegression
from xlt.training.kinds.pair_regression import PairRegression
from xlt.training.robust import EmbeddingDelta, SmoothedKind, ascend, perturbed_embeddings, vote

BATCH = 32


def attack_accuracy(
    kind: Classification | SmoothedKind,
    data: Dataset,
    config: RobustnessConfig,
    precision: Precision = "auto",
) -> tuple[float, float]:
    """(clean accuracy, accuracy under the attack): see `attack_predictions`."""
    before, after = attack_predictions(kind, data, config, precision)
    gold = kind.gold(data)
    accuracy = get_metric("accuracy").function
    return accuracy(before, gold), accuracy(after, gold)


def attack_predictions(
    kind: Classification | SmoothedKind,
    data: Dataset,
    config: RobustnessConfig,
    precision: Precision = "auto",
    language: str | None = None,
) -> tuple[list[int], list[int]]:
    """Per-item predicted labels, clean and under the attack, in the order of `data`."""
    smoothed = kind if isinstance(kind, SmoothedKind) else None
    base = cast(Classification, smoothed.kind if smoothed is not None else kind)

    def labels(indices: list[int]) -> torch.Tensor:
        logits, _ = base._outputs(data, indices, language)
        return logits.argmax(dim=1)

    def majority(runs: list[np.ndarray]) -> np.ndarray:
        return np.asarray([vote([int(run[i]) for run in runs]) for i in range(len(runs[0]))])

    before, after = _attack(
        base,
        smoothed,
        data,
        config,
        precision,
        lambda idx: base.loss(data, idx, language)[0],
        labels,
        majority,
    )
    return [int(v) for v in before], [int(v) for v in after]


def similarity_attack(
    kind: PairRegression | CrossPairRegression | SmoothedKind,
    data: Dataset,
    config: RobustnessConfig,
    precision: Precision = "auto",
    language: str | None = None,
    *,
    strata: list[int] | None = None,
) -> tuple[list[float], list[float]]:
    """Per-item predicted similarities, clean and under the attack, in the order of `data`. Gold scores are
    standardised within each stratum (`strata` numbers each item's, e.g. its language: the test sets of
    several languages attacked in one pass); all items form one stratum by default."""
    smoothed = kind if isinstance(kind, SmoothedKind) else None
    base = cast(PairRegression | CrossPairRegression, smoothed.kind if smoothed is not None else kind)
    gold = np.asarray(base.gold(data), dtype=np.float64)
    groups = np.asarray(strata if strata is not None else [0] * len(gold))
    standard = np.zeros_like(gold)
    for group in np.unique(groups):
        members = groups == group
        spread = gold[members].std()
        standard[members] = (gold[members] - gold[members].mean()) / (spread if spread > 0 else 1.0)
    z = torch.tensor(standard, dtype=torch.float32)
    scores = _pair_scores(base, language)
    return _attack(
        base,
        smoothed,
        data,
        config,
        precision,
        lambda idx: -(z[idx] * scores(data, idx)).sum(),
        lambda idx: scores(data, idx),
        lambda runs: np.mean(runs, axis=0),
    )


def _pair_scores(
    base: PairRegression | CrossPairRegression, language: str | None
) -> Callable[[Dataset, list[int]], torch.Tensor]:
    """The differentiable similarity of each pair of a batch: the cosine of a bi-encoder's two sentence
    embeddings, or the sigmoid of a cross-encoder's score."""

    def bi(data: Dataset, indices: list[int]) -> torch.Tensor:
        rows = data[indices]
        batch = base.encoder.tokenize(rows["sentence1"] + rows["sentence2"])
        embeddings = base.encoder(**batch, language=language).float()
        return nn.functional.cosine_similarity(embeddings[: len(indices)], embeddings[len(indices) :])

    def cross(data: Dataset, indices: list[int]) -> torch.Tensor:
        assert isinstance(base, CrossPairRegression)
        logits, _ = base._outputs(data, indices, language)
        return torch.sigmoid(logits[:, 0])

    return cross if isinstance(base, CrossPairRegression) else bi


def _attack(
    base: Any,
    smoothed: SmoothedKind | None,
    data: Dataset,
    config: RobustnessConfig,
    precision: Precision,
    objective: Callable[[list[int]], torch.Tensor],
    outputs: Callable[[list[int]], torch.Tensor],
    combine: Callable[[list[np.ndarray]], np.ndarray],
) -> tuple[list[Any], list[Any]]:
    """Projected gradient ascent of `objective` per batch of similar-length items; `outputs` of each batch
    before and after, combined over the smoothed model's votes."""
    device = base.encoder.device_
    votes = smoothed.robust.votes if smoothed is not None else 1
    noise = smoothed.noise() if smoothed is not None else None
    was_training = base.model.training
    base.model.eval()
    resolved = resolve_precision(precision)

    def predicted(indices: list[int]) -> np.ndarray:
        runs = []
        for _ in range(votes):
            with torch.no_grad(), autocast(resolved, device):
                runs.append(outputs(indices).float().cpu().numpy())
        return combine(runs)

    before: list[Any] = [None] * len(data)
    after: list[Any] = [None] * len(data)
    for indices in sorted_batches(base.lengths(data), BATCH):
        delta = EmbeddingDelta()

        def perturb(x: torch.Tensor, delta: EmbeddingDelta = delta) -> torch.Tensor:
            return delta(x) if noise is None else delta(x) + noise(x)

        with perturbed_embeddings(base.encoder, perturb):
            for i, value in zip(indices, predicted(indices), strict=True):  # delta is still zero
                before[i] = value.item()
            for _ in range(config.attack_steps):
                with autocast(resolved, device):
                    loss = objective(indices)
                assert delta.value is not None
                (grad,) = torch.autograd.grad(loss, delta.value)
                delta.value = ascend(
                    delta.value.detach(), grad.float(), config.attack_step_size, config.attack_radius
                )
                delta.value.requires_grad_(True)
            for i, value in zip(indices, predicted(indices), strict=True):
                after[i] = value.item()
    base.model.train(was_training)
    return before, after
