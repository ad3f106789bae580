"""Robust training in the input-embedding space, and smoothed prediction.

All perturbations act on the output of the encoder's word-embedding layer through a forward hook, so
they work for every task type and model without touching model code:
- rs-noise: Gaussian noise N(0, noise_std^2) on every input embedding while training; at test time the
  prediction is smoothed over `votes` noisy passes (majority vote; mean for real-valued predictions).
- adversarial: a perturbation delta of each batch's input embeddings, found by `steps` normalised
  gradient-ascent steps of L2 size `step_size` and projected onto the ball of radius `radius` per
  example (Frobenius norm over tokens x dimensions). `pgd` (Madry et al. 2018) trains on the loss at the
  final delta; `freelb` (Zhu et al. 2020) accumulates the parameter gradients of every ascent step,
  each weighted 1/steps.
- rs-da (synonym substitution) is a data transformation applied before training (xlt.robustness).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import torch
from datasets import Dataset

from xlt.models.precision import Precision, autocast
from xlt.models.sentence import SentenceEncoder
from xlt.training.config import RobustConfig
from xlt.training.kinds.base import TaskKind

Perturb = Callable[[torch.Tensor], torch.Tensor]


@contextmanager
def perturbed_embeddings(encoder: SentenceEncoder, perturb: Perturb) -> Iterator[None]:
    """Inside the block, the word-embedding output x becomes x + perturb(x)."""
    layer = encoder.transformer.get_input_embeddings()

    def hook(module: torch.nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor:
        return output + perturb(output).to(output.dtype)

    handle = layer.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def gaussian(std: float, generator: torch.Generator | None = None) -> Perturb:
    def noise(x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32) * std

    return noise


class EmbeddingDelta:
    """The adversarial perturbation of one batch, created at the shape of the first forward pass."""

    def __init__(self) -> None:
        self.value: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.value is None or self.value.shape != x.shape:
            self.value = torch.zeros(x.shape, device=x.device, dtype=torch.float32, requires_grad=True)
        return self.value


def _project(delta: torch.Tensor, radius: float) -> torch.Tensor:
    norms = delta.flatten(1).norm(dim=1).clamp(min=1e-12)
    scale = (radius / norms).clamp(max=1.0)
    return delta * scale.view(-1, *([1] * (delta.ndim - 1)))


def ascend(delta: torch.Tensor, grad: torch.Tensor, step_size: float, radius: float) -> torch.Tensor:
    """One normalised gradient-ascent step of size `step_size` per example, projected on the L2 ball."""
    norms = grad.flatten(1).norm(dim=1).clamp(min=1e-12)
    step = grad / norms.view(-1, *([1] * (grad.ndim - 1))) * step_size
    return _project(delta + step, radius)


def training_loss(
    kind: TaskKind,
    data: Dataset,
    indices: list[int],
    robust: RobustConfig,
    precision: Literal["fp32", "bf16"],
) -> tuple[torch.Tensor, int]:
    """One batch's forward and backward passes under the stage's method; returns (loss, tokens).

    Parameter gradients are accumulated into `.grad` (the caller zeroes them before and steps after)."""
    device = kind.encoder.device_
    if robust.method == "rs-noise":
        with perturbed_embeddings(kind.encoder, gaussian(robust.noise_std)), autocast(precision, device):
            loss, tokens = kind.loss(data, indices)
        if torch.isfinite(loss):
            loss.backward()
        return loss, tokens
    if robust.method != "adversarial":
        with autocast(precision, device):
            loss, tokens = kind.loss(data, indices)
        if torch.isfinite(loss):
            loss.backward()
        return loss, tokens

    delta = EmbeddingDelta()
    total = torch.zeros((), device=device)
    tokens = 0
    with perturbed_embeddings(kind.encoder, delta):
        for step in range(robust.steps + (1 if robust.style == "pgd" else 0)):
            with autocast(precision, device):
                loss, tokens = kind.loss(data, indices)
            if not torch.isfinite(loss):
                return loss, tokens
            last = step == robust.steps
            if robust.style == "freelb":
                (loss / robust.steps).backward()  # parameter grads accumulate; delta.grad too
                total = total + loss.detach() / robust.steps
            elif last:
                loss.backward()
                total = loss.detach()
                break
            else:
                assert delta.value is not None
                (grad,) = torch.autograd.grad(loss, delta.value)
                delta.value = ascend(delta.value.detach(), grad, robust.step_size, robust.radius)
                delta.value.requires_grad_(True)
                continue
            assert delta.value is not None and delta.value.grad is not None
            grad = delta.value.grad
            delta.value = ascend(delta.value.detach(), grad, robust.step_size, robust.radius)
            delta.value.requires_grad_(True)
    return total, tokens


def vote(predictions: list[Any]) -> Any:
    """Majority (ties: the earliest) for labels, tag sequences and spans; the mean for real values."""
    if all(isinstance(p, float) for p in predictions):
        return sum(predictions) / len(predictions)
    keyed = [tuple(p) if isinstance(p, list) else p for p in predictions]
    winner, _ = Counter(keyed).most_common(1)[0]
    return list(winner) if isinstance(winner, tuple) else winner


class SmoothedKind:
    """A trained task kind whose predictions are smoothed over noisy passes (randomized smoothing)."""

    def __init__(self, kind: TaskKind, robust: RobustConfig, seed: int = 0) -> None:
        self.kind = kind
        self.robust = robust
        self.seed = seed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kind, name)

    def noise(self) -> Perturb:
        """The smoothing noise, drawn afresh at each call from a generator seeded by `seed` (on CPU)."""
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        return gaussian(self.robust.noise_std, generator if self.kind.encoder.device_.type == "cpu" else None)

    def predict(
        self,
        data: Dataset,
        *,
        batch_size: int = 64,
        precision: Precision = "auto",
        language: str | None = None,
    ) -> list[Any]:
        runs = []
        with perturbed_embeddings(self.kind.encoder, self.noise()):
            for _ in range(self.robust.votes):
                runs.append(
                    self.kind.predict(data, batch_size=batch_size, precision=precision, language=language)
                )
        return [vote([run[i] for run in runs]) for i in range(len(data))]
