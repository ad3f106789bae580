"""Shared pieces of the throughput benchmark: the settings, the result records and model helpers."""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from torch import nn

TrainPrecision = Literal["bf16", "fp32"]
ENCODER = "me5-small"


@dataclass(frozen=True)
class Settings:
    steps: int
    warmup_steps: int
    repeats: int
    sentences: int
    embed_batch_size: int
    embed_chunks: int
    embed_passes: int
    batch_size: int
    learning_rate: float
    max_length: int
    train_precision: TrainPrecision
    matmul_size: int
    threads: int
    seed: int
    languages: tuple[str, ...]
    match_attention: bool
    compile: bool = False

    @property
    def total_steps(self) -> int:
        return self.warmup_steps + self.steps

    @property
    def train_pairs(self) -> int:
        """Exactly one epoch of `total_steps` full batches: both trainers see the same pairs once."""
        return self.total_steps * self.batch_size


@dataclass
class Window:
    """The timed steps of one training run (after the warm-up steps)."""

    step_seconds: list[float]
    step_tokens: list[int]
    step_padded: list[int]

    @property
    def seconds(self) -> float:
        return sum(self.step_seconds)

    @property
    def tokens(self) -> int:
        return sum(self.step_tokens)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def padding_fraction(self) -> float:
        return 1.0 - self.tokens / max(1, sum(self.step_padded))


@dataclass
class TrainResult:
    name: str
    runner: str
    dropout: str
    attention: str
    windows: list[Window] = field(default_factory=list)
    # the Trainer row with the same dropout, for the equal-recipe ratio ("vs HF, same dropout")
    same_dropout_reference: str | None = None

    @property
    def same_batches(self) -> bool:
        return all(w.step_tokens == self.windows[0].step_tokens for w in self.windows)

    @property
    def step_seconds(self) -> list[float]:
        """Each step's fastest time over the repeats (the repeats replay the same batches: same seed).

        On a shared machine other processes only ever add time, so the minimum is the cleanest estimate."""
        if not self.same_batches:  # cannot pair steps: take the fastest run
            return max(self.windows, key=lambda w: w.tokens_per_second).step_seconds
        return [min(times) for times in zip(*(w.step_seconds for w in self.windows), strict=True)]

    @property
    def tokens_per_second(self) -> float:
        window = self.windows[0]
        return window.tokens / sum(self.step_seconds) if self.same_batches else max(self.run_rates)

    @property
    def run_rates(self) -> list[float]:
        """tokens/s of each run, plain wall clock over its timed steps."""
        return [w.tokens_per_second for w in self.windows]


@dataclass
class EmbedResult:
    name: str
    runner: str
    precision: str
    how: str
    attention: str
    chunk_sizes: list[int]
    chunk_tokens: list[int]
    chunk_seconds: list[list[float]] = field(default_factory=list)  # [chunk][pass]
    agreement: float | None = None

    @property
    def best_seconds(self) -> list[float]:
        """Each chunk's fastest time over the passes."""
        return [min(times) for times in self.chunk_seconds]

    @property
    def sentences_per_second(self) -> float:
        """Median over the chunks: robust to another process taking the CPU during a few of them."""
        return statistics.median(n / t for n, t in zip(self.chunk_sizes, self.best_seconds, strict=True))

    @property
    def tokens_per_second(self) -> float:
        return statistics.median(n / t for n, t in zip(self.chunk_tokens, self.best_seconds, strict=True))

    @property
    def total_sentences_per_second(self) -> float:
        """Plain: all sentences over the summed chunk times."""
        return sum(self.chunk_sizes) / sum(self.best_seconds)

    def ratio_to(self, other: EmbedResult) -> float:
        """Speed of self over other: median over the chunks of the paired time ratio (same chunk, run back
        to back)."""
        return statistics.median(
            theirs / mine for mine, theirs in zip(self.best_seconds, other.best_seconds, strict=True)
        )


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """`name` set to `value` inside the block (left as it is for None)."""
    before = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def compiled_forward(on: bool) -> contextlib.AbstractContextManager[None]:
    """xlt's forward passes compiled (`XLT_COMPILE=1`) inside the block when `on`."""
    return _environment("XLT_COMPILE", "1" if on else None)


def unpadded_forward(on: bool) -> contextlib.AbstractContextManager[None]:
    """xlt's BERT-family encoders skip the padding (`XLT_UNPADDED=1`, `xlt.models.unpadded`) inside the
    block when `on`; eager passes otherwise run Hugging Face's forward."""
    return _environment("XLT_UNPADDED", "1" if on else None)


def attention_of(model: nn.Module) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", "?"))


def non_embedding_parameters(model: nn.Module) -> int:
    embedding = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in embedding)
