"""The one training loop every task type shares: bucketed batches, AdamW with warm-up and linear decay,
mixed precision, gradient clipping, divergence checks, English-dev model selection, and checkpoints from
which an interrupted run resumes to exactly the result of an uninterrupted one."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset

from xlt.core.errors import TrainingDiverged
from xlt.core.io import atomic_path
from xlt.models.precision import resolve_precision
from xlt.training.config import TrainingConfig
from xlt.training.kinds.base import TaskKind
from xlt.training.robust import training_loss

log = logging.getLogger("xlt")


@dataclass
class TrainReport:
    steps: int
    best_step: int
    best_dev: float
    seconds: float
    train_tokens: int
    precision: str
    history: list[dict[str, float]] = field(default_factory=list)
    # the checkpoint step training continued from (0: it ran from the start)
    resumed_from: int = 0


@dataclass(frozen=True)
class Checkpoints:
    """Where and how often `fit` saves its full state: after every `every_steps` steps and/or once
    `every_seconds` have passed since the last save (None: not by that criterion)."""

    path: Path
    every_steps: int | None = None
    every_seconds: float | None = 600.0
    # told (step, total) after each save, e.g. to show progress in `xlt status`
    on_save: Callable[[int, int], None] | None = None

    def due(self, step: int, since_last: float) -> bool:
        by_steps = self.every_steps is not None and step % self.every_steps == 0
        return by_steps or (self.every_seconds is not None and since_last >= self.every_seconds)


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


def _rng_states(rng: random.Random) -> dict[str, Any]:
    """Every random state training draws from, as plain values and tensors (safe to load)."""
    name, keys, position, has_gauss, gauss = np.random.get_state(legacy=True)
    return {
        "batches": rng.getstate(),
        "python": random.getstate(),
        "numpy": (name, np.asarray(keys).tolist(), position, has_gauss, gauss),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _restore_rng_states(rng: random.Random, states: dict[str, Any]) -> None:
    rng.setstate(states["batches"])
    random.setstate(states["python"])
    name, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if states["cuda"]:
        torch.cuda.set_rng_state_all(states["cuda"])


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


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
    checkpoints: Checkpoints | None = None,
) -> TrainReport:
    """Train `kind.model` in place; it ends holding the state with the best English dev score.

    With `checkpoints`, the full training state (trainable weights, optimizer, schedule, every random
    state, batch order, best state and dev curve) is saved as it goes, and a run that finds a checkpoint of
    the same run continues from it, ending bit-identical to a run that was never interrupted."""
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
    elapsed = 0.0
    first = 1
    # what a checkpoint must agree with to be continued: the same run of the same data
    run = {"seed": seed, "total": total, "examples": len(lengths), "config": config.model_dump(mode="json")}
    if checkpoints is not None and checkpoints.path.is_file():
        saved = torch.load(checkpoints.path, map_location="cpu", weights_only=True)
        if saved["run"] != run:
            log.warning("%s: ignoring checkpoint %s, which belongs to another run", stage, checkpoints.path)
        else:
            kind.load_state(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            _restore_rng_states(rng, saved["rng"])
            best_dev, best_step, best_state = saved["best_dev"], saved["best_step"], saved["best_state"]
            history, batches, tokens, elapsed = (
                saved["history"],
                saved["batches"],
                saved["tokens"],
                saved["seconds"],
            )
            first = saved["step"] + 1
            log.info("%s: resumed from the checkpoint at step %d of %d", stage, saved["step"], total)
    start = time.perf_counter() - elapsed
    last_save = time.perf_counter()
    model.train(train_mode)
    for step in range(first, total + 1):
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
        if (
            checkpoints is not None
            and step < total
            and checkpoints.due(step, time.perf_counter() - last_save)
        ):
            _save_checkpoint(
                checkpoints.path,
                {
                    "run": run,
                    "step": step,
                    "model": kind.trainable_state(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": _rng_states(rng),
                    "best_dev": best_dev,
                    "best_step": best_step,
                    "best_state": best_state,
                    "history": history,
                    "batches": batches,
                    "tokens": tokens,
                    "seconds": time.perf_counter() - start,
                },
            )
            last_save = time.perf_counter()
            if checkpoints.on_save is not None:
                checkpoints.on_save(step, total)
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
        resumed_from=first - 1,
    )
