"""Token tagging (NER, POS): a linear layer over one sub-word of each word, its first that is not a bare
word-boundary piece (`word_positions`); other sub-words are ignored in the loss. Words cut off by truncation
are predicted as the task's first label (O for NER)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from datasets import Dataset
from torch import nn

from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec
from xlt.training.config import WordLabels
from xlt.training.kinds.base import TaskKind, WithHead, sorted_batches

IGNORE = -100
BOUNDARY_MARKS = ("\u2581", "\u0120")  # SentencePiece's word start; byte-level BPE's leading space


@lru_cache(maxsize=8)
def boundary_pieces(tokenizer: Any) -> frozenset[int]:
    """Ids of the vocabulary's bare word-boundary pieces. An XLM-R-family tokenizer splits a word that has
    no piece of its own with the boundary mark attached into '\u2581' + pieces: most Chinese and Japanese
    words, most punctuation. Labelled at that piece, 86% of UD Chinese test words carry their tag on the
    same content-free token."""
    vocab = tokenizer.get_vocab()
    # the first mark the vocabulary has is its boundary mark ('\u0120' is an ordinary, rare character in
    # XLM-R's SentencePiece vocabulary); a WordPiece vocabulary has neither
    return frozenset(next(([vocab[mark]] for mark in BOUNDARY_MARKS if mark in vocab), []))


def word_positions(encoded: Any, row: int, skip: frozenset[int] = frozenset()) -> dict[int, int]:
    """word index -> position of the sub-word that carries its label: the first, or, when the first is one
    of `skip` and the word has more pieces, the second."""
    ids = encoded["input_ids"][row] if skip else []
    if isinstance(ids, torch.Tensor):  # one conversion, not a tensor index per token (training's hot path)
        ids = ids.tolist()
    positions: dict[int, int] = {}
    bare: set[int] = set()
    for position, word in enumerate(encoded.word_ids(row)):
        if word is None:
            continue
        if word not in positions:
            positions[word] = position
            if skip and ids[position] in skip:
                bare.add(word)
        elif word in bare:
            positions[word] = position
            bare.discard(word)
    return positions


class TokenTagging(TaskKind):
    def __init__(self, encoder: SentenceEncoder, task: TaskSpec, word_labels: WordLabels = "first-content"):
        self.skip = boundary_pieces(encoder.tokenizer) if word_labels == "first-content" else frozenset()
        super().__init__(encoder, task)

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

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        rows = data[indices]
        encoded = self._encode(rows["tokens"])
        labels = torch.full(encoded["input_ids"].shape, IGNORE, dtype=torch.long)
        for row, tags in enumerate(rows["tags"]):
            for word, position in word_positions(encoded, row, self.skip).items():
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
                positions = word_positions(encoded, row, self.skip)
                predictions[i] = [
                    self.task.labels[int(best[row, positions[w]])] if w in positions else self.task.labels[0]
                    for w in range(len(words[row]))
                ]
        self.model.train(was_training)
        return predictions

    def gold(self, data: Dataset) -> list[Any]:
        return [list(tags) for tags in data["tags"]]
