"""Siamese bi-encoder fine-tuning for sentence-pair similarity (cosine of mean-pooled embeddings).

Model selection is on English dev Spearman only (pure zero-shot): the best checkpoint's parameters are
kept in memory and restored at the end.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from datasets import Dataset
from torch import nn

from xlt.core.errors import TrainingDiverged
from xlt.evaluation.metrics import spearman
from xlt.evaluation.pairs import score_pairs
from xlt.models.precision import Precision, autocast, resolve_precision
from xlt.models.sentence import SentenceEncoder
from xlt.training.config import TrainingConfig

COSENT_SCALE = 20.0


@dataclass
class TrainReport:
    steps: int
    best_step: int
    best_dev: float
    seconds: float
    train_tokens: int
    precision: str
    history: list[dict[str, float]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Random batches of similar-length examples (less padding): shuffle, sort within windows, shuffle."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def _evaluate_dev(encoder: SentenceEncoder, dev: Dataset, precision: Precision) -> float:
    scores = score_pairs(encoder, dev["sentence1"], dev["sentence2"], precision=precision)
    return spearman(scores, dev["label"])


def train_pair_regression(
    encoder: SentenceEncoder,
    train: Dataset,
    dev: Dataset,
    config: TrainingConfig,
    seed: int,
    *,
    on_step: Callable[[int, int, float], None] | None = None,
    stage: str = "stage",
) -> TrainReport:
    """Fine-tune `encoder` in place; it ends holding the checkpoint with the best English dev Spearman."""
    seed_everything(seed)
    rng = random.Random(seed)
    precision = resolve_precision(config.precision)
    if config.train_limit is not None:
        train = train.select(range(min(config.train_limit, len(train))))
    if config.dev_limit is not None:
        dev = dev.select(range(min(config.dev_limit, len(dev))))
    if config.freeze_embeddings:
        encoder.freeze_word_embeddings()
    if config.dropout:
        encoder.set_dropout(config.dropout)
    # dropout 0 runs the modules in eval mode: no dropout masks at all, about 2x faster forward on CPU
    train_mode = config.dropout != 0.0
    encoder.max_length = min(config.max_length, encoder.max_length)

    s1, s2, labels = train["sentence1"], train["sentence2"], train["label"]
    lengths = [a + b for a, b in zip(encoder.token_lengths(s1), encoder.token_lengths(s2), strict=True)]
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    eval_every = config.eval_every or max(1, math.ceil(total / config.evaluations))
    eval_steps = {s for s in range(eval_every, total + 1, eval_every)} | {total}

    params = [p for p in encoder.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
        fused=True,
    )
    warmup = int(total * config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            (step + 1) / max(1, warmup)
            if step < warmup
            else max(0.0, (total - step) / max(1, total - warmup))
        ),
    )
    loss_fn = LOSSES[config.loss]

    best_dev, best_step, best_state = -math.inf, 0, encoder.trainable_state()
    history: list[dict[str, float]] = []
    batches: list[list[int]] = []
    tokens = 0
    start = time.perf_counter()
    encoder.train(train_mode)
    for step in range(1, total + 1):
        if not batches:
            batches = length_bucketed_batches(lengths, config.batch_size, rng)
        idx = batches.pop()
        # both sides of every pair go through one forward pass: one weight cast, larger matmuls
        batch = encoder.tokenize([s1[i] for i in idx] + [s2[i] for i in idx])
        tokens += int(batch["attention_mask"].sum())
        target = torch.tensor([labels[i] for i in idx], dtype=torch.float32, device=encoder.device_)
        with autocast(precision, encoder.device_):
            embeddings = encoder(**batch).float()
        cosine = nn.functional.cosine_similarity(embeddings[: len(idx)], embeddings[len(idx) :])
        loss = loss_fn(cosine, target)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"{stage}: loss became {loss.item()} at step {step}",
                "lower learning_rate, or set precision: fp32",
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        if on_step is not None:
            on_step(step, total, float(loss.item()))
        if step in eval_steps:
            dev_score = _evaluate_dev(encoder, dev, precision)
            history.append({"step": step, "loss": float(loss.item()), "dev_spearman": dev_score})
            if dev_score > best_dev:
                best_dev, best_step, best_state = dev_score, step, encoder.trainable_state()
            encoder.train(train_mode)
    encoder.load_state(best_state)
    encoder.eval()
    return TrainReport(
        steps=total,
        best_step=best_step,
        best_dev=best_dev,
        seconds=time.perf_counter() - start,
        train_tokens=tokens,
        precision=precision,
        history=history,
    )
