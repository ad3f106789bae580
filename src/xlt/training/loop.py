"""The one training loop every task type shares: bucketed batches, AdamW with warm-up and linear decay,
mixed precision, gradient clipping, divergence checks, and English-dev model selection."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from datasets import Dataset

from xlt.core.errors import TrainingDiverged
from xlt.models.precision import resolve_precision
from xlt.training.config import TrainingConfig
from xlt.training.kinds.base import TaskKind
from xlt.training.robust import training_loss


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


def _schedule(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def fit(
    kind: TaskKind,
    train: Dataset,
    dev: Dataset,
    config: TrainingConfig,
    seed: int,
    *,
    on_step: Callable[[int, int, float], None] | None = None,
    stage: str = "stage",
) -> TrainReport:
    """Train `kind.model` in place; it ends holding the checkpoint with the best English dev score."""
    seed_everything(seed)
    rng = random.Random(seed)
    precision = resolve_precision(config.precision)
    if config.train_limit is not None:
        train = train.select(range(min(config.train_limit, len(train))))
    if config.dev_limit is not None:
        dev = dev.select(range(min(config.dev_limit, len(dev))))
    encoder = kind.encoder
    if config.freeze_embeddings:
        encoder.freeze_word_embeddings()
    if config.dropout:
        encoder.set_dropout(config.dropout)
    # dropout 0 runs the modules in eval mode: no dropout masks at all, about 2x faster forward on CPU
    train_mode = config.dropout != 0.0
    encoder.max_length = min(config.max_length, encoder.max_length)

    lengths = kind.lengths(train)
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    eval_every = config.eval_every or max(1, math.ceil(total / config.evaluations))
    eval_steps = set(range(eval_every, total + 1, eval_every)) | {total}

    model = kind.model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
        fused=True,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _schedule(total, int(total * config.warmup_ratio))
    )

    best_dev, best_step, best_state = -math.inf, 0, kind.trainable_state()
    history: list[dict[str, float]] = []
    batches: list[list[int]] = []
    tokens = 0
    start = time.perf_counter()
    model.train(train_mode)
    for step in range(1, total + 1):
        if not batches:
            batches = length_bucketed_batches(lengths, config.batch_size, rng)
        optimizer.zero_grad(set_to_none=True)
        # forward and backward under the stage's method (standard, rs-noise, adversarial)
        loss, batch_tokens = training_loss(kind, train, batches.pop(), config.robust, precision)
        tokens += batch_tokens
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"{stage}: loss became {loss.item()} at step {step}",
                "lower learning_rate, or set precision: fp32",
            )
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        if on_step is not None:
            on_step(step, total, float(loss.item()))
        if step in eval_steps:
            dev_score = kind.score(dev, kind.predict(dev, precision=precision))
            history.append({"step": step, "loss": float(loss.item()), "dev_score": dev_score})
            if dev_score > best_dev:
                best_dev, best_step, best_state = dev_score, step, kind.trainable_state()
            model.train(train_mode)
    kind.load_state(best_state)
    model.eval()
    return TrainReport(
        steps=total,
        best_step=best_step,
        best_dev=best_dev,
        seconds=time.perf_counter() - start,
        train_tokens=tokens,
        precision=precision,
        history=history,
    )
