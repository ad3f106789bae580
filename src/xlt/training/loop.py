"""The one training loop every task type shares: bucketed batches, AdamW with warm-up and linear decay,
mixed precision, gradient clipping, divergence checks, English-dev model selection, early stopping on the
English dev score, and checkpoints from which an interrupted run resumes to exactly the result of an
uninterrupted one."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from datasets import Dataset

from xlt.core.errors import TrainingDiverged
from xlt.core.io import atomic_path
from xlt.models import compiling
from xlt.models.precision import resolve_precision
from xlt.training.config import TrainingConfig
from xlt.training.kinds.base import TaskKind
from xlt.training.robust import training_loss

log = logging.getLogger("xlt")

# converged: early stopping fired (patience evaluations in a row without a dev gain >= min_delta);
# capped: early stopping was on, but the step/epoch cap ended training first, so the dev score may still
# have been rising; fixed: no early stopping, a fixed budget whose convergence was never tested
Verdict = Literal["converged", "capped", "fixed"]


@dataclass
class TrainReport:
    # optimiser steps run: the cap, or fewer when early stopping ended training
    steps: int
    best_step: int
    best_dev: float
    seconds: float
    train_tokens: int
    precision: str
    # the dev curve: one entry (step, loss, dev_score) per English-dev evaluation
    history: list[dict[str, float]] = field(default_factory=list)
    # the checkpoint step training continued from (0: it ran from the start)
    resumed_from: int = 0
    verdict: Verdict = "fixed"
    # why training stopped, in one sentence (e.g. "early stopping at step 450: ...")
    stopped: str = ""
    # the step cap from epochs and max_steps, and which of the two set it
    cap: int = 0
    cap_by: str = ""
    # whether the forward passes were compiled (`xlt --compile`): an execution setting, like the threads
    compiled: bool = False


@dataclass
class EarlyStopping:
    """Counts English-dev evaluations since the last improvement, one that beats `reference` (the best
    score that counted) by at least `min_delta`; the first evaluation always counts."""

    patience: int
    min_delta: float
    reference: float = -math.inf
    # evaluations in a row without an improvement
    waited: int = 0
    evaluations: int = 0
    # the step and size of the last improvement (its size is inf for the first evaluation)
    improved_at: int = 0
    improvement: float = math.inf

    def update(self, step: int, score: float) -> bool:
        """Record an evaluation; True when training should stop."""
        self.evaluations += 1
        gain = score - self.reference
        if gain > 0 and gain >= self.min_delta:
            self.reference, self.waited, self.improved_at, self.improvement = score, 0, step, gain
        else:
            self.waited += 1
        return self.waited >= self.patience

    @property
    def fired(self) -> bool:
        return self.waited >= self.patience


def _cap(config: TrainingConfig, steps_per_epoch: int) -> tuple[int, str]:
    """The step cap and a phrase saying what set it, e.g. "epochs 1 (115 steps of 115 per epoch;
    max_steps 200 asked)" when one epoch ends training before max_steps."""
    by_epochs = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps is not None and config.max_steps <= by_epochs:
        return config.max_steps, f"max_steps {config.max_steps}"
    asked = f"; max_steps {config.max_steps} asked" if config.max_steps is not None else ""
    return by_epochs, f"epochs {config.epochs:g} ({by_epochs} steps of {steps_per_epoch} per epoch{asked})"


def _verdict(stopping: EarlyStopping | None, step: int, cap: str) -> tuple[Verdict, str]:
    """The verdict on a finished training and the sentence that says why it stopped."""
    if stopping is None:
        return "fixed", f"fixed budget: {cap} reached at step {step}; convergence not tested (no patience)"
    if stopping.fired:
        return "converged", (
            f"early stopping at step {step}: no dev gain >= {stopping.min_delta:g} in "
            f"{stopping.patience} evaluations since {stopping.reference:.4f} at step {stopping.improved_at}"
        )
    if stopping.evaluations <= stopping.patience:
        return "capped", (
            f"cap: {cap} reached after {stopping.evaluations} dev evaluation(s), too few for patience "
            f"{stopping.patience} to end training; set eval_every lower or raise the cap"
        )
    return "capped", (
        f"cap: {cap} reached while dev still rose by {stopping.improvement:.4f} at step "
        f"{stopping.improved_at}, within the last {stopping.patience} evaluations"
    )


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
    total, cap = _cap(config, steps_per_epoch)
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
    stopping = EarlyStopping(config.patience, config.min_delta) if config.patience is not None else None
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
            if stopping is not None:
                stopping = EarlyStopping(**saved["stopping"])
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
    step = first - 1
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
            if stopping is not None and stopping.update(step, dev_score):
                break
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
                    "stopping": asdict(stopping) if stopping is not None else None,
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
    verdict, stopped = _verdict(stopping, step, cap)
    return TrainReport(
        steps=step,
        best_step=best_step,
        best_dev=best_dev,
        seconds=time.perf_counter() - start,
        train_tokens=tokens,
        precision=precision,
        history=history,
        resumed_from=first - 1,
        verdict=verdict,
        stopped=stopped,
        cap=total,
        cap_by=cap,
        compiled=compiling.enabled(),
    )
