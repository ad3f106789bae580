"""Siamese bi-encoder for sentence-pair similarity: cosine of mean-pooled embeddings, CoSENT or MSE loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from datasets import Dataset
from torch import nn

from xlt.models.pairs import score_pairs
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec
from xlt.training.kinds.base import TaskKind

COSENT_SCALE = 20.0


def cosent_loss(cosine: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """CoSENT: log(1 + sum over pairs with label_i > label_j of exp(scale * (cos_j - cos_i)))."""
    scores = cosine * COSENT_SCALE
    diff = scores[None, :] - scores[:, None]
    ordered = labels[:, None] > labels[None, :]
    terms = torch.cat([torch.zeros(1, dtype=diff.dtype, device=diff.device), diff[ordered]])
    return torch.logsumexp(terms, dim=0)


def cosine_mse_loss(cosine: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(cosine, labels)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cosent": cosent_loss,
    "cosine_mse": cosine_mse_loss,
}


class PairRegression(TaskKind):
    def __init__(self, encoder: SentenceEncoder, task: TaskSpec, loss: str = "cosent") -> None:
        super().__init__(encoder, task)
        self.loss_fn = LOSSES[loss]

    def lengths(self, data: Dataset) -> list[int]:
        first, second = (
            self.encoder.token_lengths(data["sentence1"]),
            self.encoder.token_lengths(data["sentence2"]),
        )
        return [a + b for a, b in zip(first, second, strict=True)]

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        rows = data[indices]
        # both sides of every pair go through one forward pass: one weight cast, larger matmuls
        batch = self.encoder.tokenize(rows["sentence1"] + rows["sentence2"])
        target = torch.tensor(rows["label"], dtype=torch.float32, device=self.encoder.device_)
        embeddings = self.encoder(**batch).float()
        cosine = nn.functional.cosine_similarity(embeddings[: len(indices)], embeddings[len(indices) :])
        return self.loss_fn(cosine, target), int(batch["attention_mask"].sum())

    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        scores = score_pairs(
            self.encoder,
            data["sentence1"],
            data["sentence2"],
            batch_size=batch_size,
            precision=precision,
            language=language,
        )
        return [float(s) for s in scores]

    def gold(self, data: Dataset) -> list[Any]:
        return [float(v) for v in data["label"]]
