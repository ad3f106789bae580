"""Token tagging (NER, POS): a linear layer over the first sub-word of each word; other sub-words are
ignored in the loss. Words cut off by truncation are predicted as the task's first label (O for NER)."""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset
from torch import nn

from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.training.kinds.base import TaskKind, WithHead, sorted_batches

IGNORE = -100


class TokenTagging(TaskKind):
    def build_model(self) -> nn.Module:
        assert self.task.labels is not None
        self.tag_ids = {tag: i for i, tag in enumerate(self.task.labels)}
        return WithHead(
            self.encoder, nn.Sequential(nn.Dropout(0.1), nn.Linear(self.encoder.dim, self.num_labels))
        )

    def _encode(self, words: list[list[str]]) -> Any:
        return self.encoder.tokenizer(
            words,
            is_split_into_words=True,
            truncation=True,
            max_length=self.encoder.max_length,
            padding=True,
            return_tensors="pt",
        )

    def lengths(self, data: Dataset) -> list[int]:
        encoded = self.encoder.tokenizer(
            [list(words) for words in data["tokens"]],
            is_split_into_words=True,
            truncation=True,
            max_length=self.encoder.max_length,
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def _first_subwords(self, encoded: Any, row: int) -> dict[int, int]:
        """word index -> position of its first sub-word."""
        first: dict[int, int] = {}
        for position, word in enumerate(encoded.word_ids(row)):
            if word is not None and word not in first:
                first[word] = position
        return first

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        rows = data[indices]
        encoded = self._encode(rows["tokens"])
        labels = torch.full(encoded["input_ids"].shape, IGNORE, dtype=torch.long)
        for row, tags in enumerate(rows["tags"]):
            for word, position in self._first_subwords(encoded, row).items():
                labels[row, position] = self.tag_ids[tags[word]]
        logits = self.token_logits(encoded)
        loss = nn.functional.cross_entropy(
            logits.view(-1, logits.shape[-1]), labels.to(logits.device).view(-1), ignore_index=IGNORE
        )
        return loss, int(encoded["attention_mask"].sum())

    @torch.inference_mode()
    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        assert self.task.labels is not None
        was_training = self.model.training
        self.model.eval()
        resolved = resolve_precision(precision)
        predictions: list[list[str]] = [[] for _ in range(len(data))]
        for indices in sorted_batches(self.lengths(data), batch_size):
            words = data[indices]["tokens"]
            encoded = self._encode(words)
            with autocast(resolved, self.encoder.device_):
                best = self.token_logits(encoded).argmax(dim=-1).cpu()
            for row, i in enumerate(indices):
                first = self._first_subwords(encoded, row)
                predictions[i] = [
                    self.task.labels[int(best[row, first[w]])] if w in first else self.task.labels[0]
                    for w in range(len(words[row]))
                ]
        self.model.train(was_training)
        return predictions

    def gold(self, data: Dataset) -> list[Any]:
        return [list(tags) for tags in data["tags"]]
