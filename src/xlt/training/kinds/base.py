"""The interface every task type implements, and what they share (head module, state, saving)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from torch import nn

from xlt.metrics import get_metric
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec

HEAD_WEIGHTS = "head.safetensors"


class WithHead(nn.Module):
    """The encoder plus a task head; only the encoder is carried to the next stage."""

    def __init__(self, encoder: SentenceEncoder, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head


class TaskKind(ABC):
    """Training and prediction for one task type. `model` holds every trained parameter."""

    model: nn.Module

    def __init__(self, encoder: SentenceEncoder, task: TaskSpec) -> None:
        self.encoder = encoder
        self.task = task
        self.model = self.build_model()
        self.model.to(encoder.device_)

    def build_model(self) -> nn.Module:
        return self.encoder

    @property
    def num_labels(self) -> int:
        if not self.task.labels:
            raise ValueError(f"task {self.task.name} has no label names")
        return len(self.task.labels)

    @abstractmethod
    def lengths(self, data: Dataset) -> list[int]:
        """Token length of each example, for length-bucketed batches."""

    @abstractmethod
    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        """The loss of one batch and the number of non-padding tokens it fed."""

    @abstractmethod
    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        """One JSON-serialisable prediction per example of texts in `language` (None = English), which
        selects the language's projection where the encoder has an alignment module."""

    @abstractmethod
    def gold(self, data: Dataset) -> list[Any]:
        """The reference of each example, in the form `score` compares predictions with."""

    def score(self, data: Dataset, predictions: list[Any]) -> float:
        """The task's metric, as the registry computes it for every task type (higher is better); used for
        English-dev model selection."""
        return get_metric(self.task.metric).function(predictions, self.gold(data))

    def token_logits(self, encoded: Any) -> torch.Tensor:
        """The head applied to every token state (tagging, QA spans)."""
        assert isinstance(self.model, WithHead)
        ids = encoded["input_ids"].to(self.encoder.device_)
        mask = encoded["attention_mask"].to(self.encoder.device_)
        head_output: torch.Tensor = self.model.head(self.encoder.token_states(ids, mask))
        return head_output.float()

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state, strict=False)

    def save(self, directory: Path, metadata: dict[str, Any] | None = None) -> None:
        from safetensors.torch import save_file

        self.encoder.save_trained(directory, metadata)
        if isinstance(self.model, WithHead):
            head = {n: t.detach().contiguous().cpu() for n, t in self.model.head.state_dict().items()}
            save_file(head, str(directory / HEAD_WEIGHTS))


def batched(indices: list[int], size: int) -> list[list[int]]:
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def sorted_batches(lengths: list[int], size: int) -> list[list[int]]:
    """Inference batches of similar length (less padding), covering every index once."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return batched(order, size)
