"""Sequence classification over mean-pooled states: single sentences, or sentence pairs as one input
(cross-encoder). The cross-encoder also serves pair regression as an option."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch import nn

from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.training.kinds.base import TaskKind, WithHead, sorted_batches


class _CrossInputs(TaskKind):
    """Tokenisation shared by single-sentence and cross-encoded pair tasks."""

    def _texts(self, data: Dataset, indices: list[int] | None = None) -> tuple[list[str], list[str] | None]:
        rows = data[indices] if indices is not None else data[:]
        if "text" in rows:
            return list(rows["text"]), None
        return list(rows["sentence1"]), list(rows["sentence2"])

    def _tokenize(self, data: Dataset, indices: list[int]) -> dict[str, torch.Tensor]:
        first, second = self._texts(data, indices)
        if second is None:
            return self.encoder.tokenize(first)
        return self.encoder.tokenize_pairs(first, second)

    def lengths(self, data: Dataset) -> list[int]:
        first, second = self._texts(data)
        lengths = self.encoder.token_lengths(first)
        if second is not None:
            lengths = [a + b for a, b in zip(lengths, self.encoder.token_lengths(second), strict=True)]
        return lengths

    def _outputs(
        self, data: Dataset, indices: list[int], language: str | None = None
    ) -> tuple[torch.Tensor, int]:
        batch = self._tokenize(data, indices)
        assert isinstance(self.model, WithHead)
        pooled = self.encoder(**batch, language=language)
        return self.model.head(pooled).float(), int(batch["attention_mask"].sum())

    @torch.inference_mode()
    def _predict_outputs(
        self, data: Dataset, batch_size: int, precision: Precision, language: str | None
    ) -> np.ndarray:
        was_training = self.model.training
        self.model.eval()
        resolved = resolve_precision(precision)
        outputs: list[np.ndarray] = [np.empty(0)] * len(data)
        for indices in sorted_batches(self.lengths(data), batch_size):
            with autocast(resolved, self.encoder.device_):
                result, _ = self._outputs(data, indices, language)
            for i, row in zip(indices, result.cpu().numpy(), strict=True):
                outputs[i] = row
        self.model.train(was_training)
        return np.stack(outputs) if outputs else np.empty((0, 1))


class Classification(_CrossInputs):
    def build_model(self) -> nn.Module:
        return WithHead(
            self.encoder, nn.Sequential(nn.Dropout(0.1), nn.Linear(self.encoder.dim, self.num_labels))
        )

    def loss(
        self, data: Dataset, indices: list[int], language: str | None = None
    ) -> tuple[torch.Tensor, int]:
        """Cross-entropy of one batch; `language` matters only to an attack on an aligned encoder."""
        logits, tokens = self._outputs(data, indices, language)
        labels = torch.tensor(data[indices]["label"], dtype=torch.long, device=logits.device)
        return nn.functional.cross_entropy(logits, labels), tokens

    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        return [int(v) for v in self._predict_outputs(data, batch_size, precision, language).argmax(axis=1)]

    def gold(self, data: Dataset) -> list[Any]:
        return [int(v) for v in data["label"]]


class CrossPairRegression(_CrossInputs):
    """Both sentences in one input, a sigmoid-scaled score trained with MSE against the [0, 1] label."""

    def build_model(self) -> nn.Module:
        return WithHead(self.encoder, nn.Sequential(nn.Dropout(0.1), nn.Linear(self.encoder.dim, 1)))

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        logits, tokens = self._outputs(data, indices)
        labels = torch.tensor(data[indices]["label"], dtype=torch.float32, device=logits.device)
        return nn.functional.mse_loss(torch.sigmoid(logits[:, 0]), labels), tokens

    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        logits = self._predict_outputs(data, batch_size, precision, language)[:, 0]
        return [float(v) for v in 1 / (1 + np.exp(-logits))]

    def gold(self, data: Dataset) -> list[Any]:
        return [float(v) for v in data["label"]]
