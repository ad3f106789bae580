"""Multiple choice (COPA/XCOPA): each (premise, question: choice) input gets one score; softmax over choices.

The question field ("cause" / "effect") is kept as the dataset writes it, so the same text is used in
every language, as XTREME-R does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch import nn

from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.training.kinds.base import TaskKind, WithHead, sorted_batches


def choice_pairs(premise: str, question: str, choices: list[str]) -> list[tuple[str, str]]:
    """The (premise, "question: choice") input of each choice, the pairs the model scores."""
    return [(premise, f"{question}: {choice}") for choice in choices]


class MultipleChoice(TaskKind):
    def build_model(self) -> nn.Module:
        return WithHead(self.encoder, nn.Sequential(nn.Dropout(0.1), nn.Linear(self.encoder.dim, 1)))

    def _pairs(self, data: Dataset, indices: list[int]) -> tuple[list[str], list[str], int]:
        rows = data[indices]
        n_choices = len(rows["choices"][0])
        first: list[str] = []
        second: list[str] = []
        for premise, question, choices in zip(
            rows["premise"], rows["question"], rows["choices"], strict=True
        ):
            if len(choices) != n_choices:
                raise ValueError("all items of a multiple-choice batch need the same number of choices")
            for a, b in choice_pairs(premise, question, choices):
                first.append(a)
                second.append(b)
        return first, second, n_choices

    def lengths(self, data: Dataset) -> list[int]:
        premises = self.encoder.token_lengths(data["premise"])
        longest = [max(self.encoder.token_lengths(choices)) for choices in data["choices"]]
        return [a + b for a, b in zip(premises, longest, strict=True)]

    def _logits(
        self, data: Dataset, indices: list[int], language: str | None = None
    ) -> tuple[torch.Tensor, int]:
        first, second, n_choices = self._pairs(data, indices)
        batch = self.encoder.tokenize_pairs(first, second)
        assert isinstance(self.model, WithHead)
        pooled = self.encoder(**batch, language=language)
        scores = self.model.head(pooled).float().view(len(indices), n_choices)
        return scores, int(batch["attention_mask"].sum())

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        logits, tokens = self._logits(data, indices)
        labels = torch.tensor(data[indices]["label"], dtype=torch.long, device=logits.device)
        return nn.functional.cross_entropy(logits, labels), tokens

    @torch.inference_mode()
    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        was_training = self.model.training
        self.model.eval()
        resolved = resolve_precision(precision)
        predictions = [0] * len(data)
        for indices in sorted_batches(self.lengths(data), max(1, batch_size // 2)):
            with autocast(resolved, self.encoder.device_):
                logits, _ = self._logits(data, indices, language)
            for i, choice in zip(indices, np.argmax(logits.cpu().numpy(), axis=1), strict=True):
                predictions[i] = int(choice)
        self.model.train(was_training)
        return predictions

    def gold(self, data: Dataset) -> list[Any]:
        return [int(v) for v in data["label"]]
