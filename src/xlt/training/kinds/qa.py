"""Extractive QA: start/end logits over the context tokens, long contexts split into overlapping windows,
the best-scoring valid span over all windows of a question is the answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from datasets import Dataset
from torch import nn

from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.training.kinds.base import TaskKind, WithHead, batched

MAX_ANSWER_TOKENS = 30
TOP_K = 20


class ExtractiveQA(TaskKind):
    stride = 64

    def build_model(self) -> nn.Module:
        return WithHead(self.encoder, nn.Linear(self.encoder.dim, 2))

    def _questions(self, questions: list[str]) -> list[str]:
        """The questions with the encoder's prefix, each cut to the tokens that leave a window more context
        than the stride: the tokenizer fails on a longer one (e.g. a Hindi question in an English WordPiece
        vocabulary, one token per character). Questions that fit are left as they are."""
        tokenizer = self.encoder.tokenizer
        room = self.encoder.max_length - tokenizer.num_special_tokens_to_add(pair=True) - self.stride
        keep = max(room - 1, 1)  # one token to spare: a cut text may tokenize a little differently
        texts = [self.encoder.info.prefix + q for q in questions]
        spans = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return [
            text if len(offsets) < room else text[: offsets[keep - 1][1]]
            for text, offsets in zip(texts, spans, strict=True)
        ]

    def _features(self, questions: list[str], contexts: list[str]) -> Any:
        return self.encoder.tokenizer(
            self._questions(questions),
            contexts,
            truncation="only_second",
            max_length=self.encoder.max_length,
            stride=self.stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )

    def lengths(self, data: Dataset) -> list[int]:
        questions = self.encoder.token_lengths(data["question"])
        contexts = self.encoder.token_lengths(data["context"])
        return [min(a + b, self.encoder.max_length) for a, b in zip(questions, contexts, strict=True)]

    def loss(self, data: Dataset, indices: list[int]) -> tuple[torch.Tensor, int]:
        rows = data[indices]
        features = self._features(rows["question"], rows["context"])
        starts, ends = [], []
        for f, sample in enumerate(features["overflow_to_sample_mapping"].tolist()):
            answers = rows["answers"][sample]
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            sequence = features.sequence_ids(f)
            offsets = features["offset_mapping"][f].tolist()
            start_token = end_token = 0  # the first token stands for "not in this window"
            context = [i for i, s in enumerate(sequence) if s == 1]
            if context and offsets[context[0]][0] <= start_char and offsets[context[-1]][1] >= end_char:
                start_token = next(i for i in context if offsets[i][1] > start_char)
                end_token = next(i for i in reversed(context) if offsets[i][0] < end_char)
            starts.append(start_token)
            ends.append(end_token)
        logits = self.token_logits(features)
        device = logits.device
        # padding is never a span boundary: out of the softmax, so that an example's loss does not depend
        # on how long the other windows of its batch are
        padding = features["attention_mask"].to(device) == 0
        logits = logits.masked_fill(padding.unsqueeze(-1), torch.finfo(logits.dtype).min)
        loss = (
            nn.functional.cross_entropy(logits[..., 0], torch.tensor(starts, device=device))
            + nn.functional.cross_entropy(logits[..., 1], torch.tensor(ends, device=device))
        ) / 2
        return loss, int(features["attention_mask"].sum())

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
        best: list[tuple[float, str]] = [(-np.inf, "")] * len(data)
        for indices in batched(list(range(len(data))), max(1, batch_size // 4)):
            rows = data[indices]
            features = self._features(rows["question"], rows["context"])
            with autocast(resolved, self.encoder.device_):
                logits = self.token_logits(features).cpu().numpy()
            for f, sample in enumerate(features["overflow_to_sample_mapping"].tolist()):
                sequence = features.sequence_ids(f)
                offsets = features["offset_mapping"][f].tolist()
                context = rows["context"][sample]
                start_logits, end_logits = logits[f, :, 0], logits[f, :, 1]
                for start in np.argsort(start_logits)[::-1][:TOP_K]:
                    if sequence[start] != 1:
                        continue
                    for end in np.argsort(end_logits)[::-1][:TOP_K]:
                        if sequence[end] != 1 or end < start or end - start + 1 > MAX_ANSWER_TOKENS:
                            continue
                        score = float(start_logits[start] + end_logits[end])
                        i = indices[sample]
                        if score > best[i][0]:
                            best[i] = (score, context[offsets[start][0] : offsets[end][1]])
        self.model.train(was_training)
        return [text for _, text in best]

    def gold(self, data: Dataset) -> list[Any]:
        return [list(answers["text"]) for answers in data["answers"]]
