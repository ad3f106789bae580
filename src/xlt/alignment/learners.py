"""The learners that fit a `Projection` from parallel pairs: least squares (ridge), orthogonal Procrustes and
gradient descent, each on the pre-processed pairs. The conventions are in `xlt.alignment.projection`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xlt.alignment.preprocessing import DEFAULT_EPS, Array, Preprocessing, as_matrix, check_pairs
from xlt.alignment.projection import Projection
from xlt.core.errors import TrainingDiverged, did_you_mean

Init = Literal["identity", "zeros", "random"]


# ------------------------------------------------------------------------------------------- learners


@dataclass(frozen=True)
class _Prepared:
    source: np.ndarray  # S' = P_s(S)
    target: np.ndarray  # T' = P_t(T)
    source_pre: Preprocessing
    target_pre: Preprocessing
    options: dict[str, Any]


def _prepare(
    source: Array,
    target: Array,
    *,
    centre: bool,
    whiten: bool,
    eps: float,
    target_preprocessing: Preprocessing | None,
) -> _Prepared:
    """Validate the pairs, estimate (or take) each side's pre-processing, and apply it."""
    s, t = check_pairs(source, target)
    centre = centre or whiten
    source_pre = Preprocessing.fit(s, centre=centre, whiten=whiten, eps=eps, name="source embeddings")
    if target_preprocessing is None:
        target_pre = Preprocessing.fit(t, centre=centre, whiten=whiten, eps=eps, name="target embeddings")
    else:
        if target_preprocessing.centres != centre or target_preprocessing.whitens != whiten:
            raise ValueError(
                f"the given target pre-processing (centre={target_preprocessing.centres}, "
                f"whiten={target_preprocessing.whitens}) does not match centre={centre}, whiten={whiten}"
            )
        target_pre = target_preprocessing
    options: dict[str, Any] = {
        "centre": centre,
        "whiten": whiten,
        "eps": eps,
        "target_statistics": "fitting pairs" if target_preprocessing is None else "given",
    }
    return _Prepared(source_pre.apply(s), target_pre.apply(t), source_pre, target_pre, options)


def _finish(
    method: str, prepared: _Prepared, weight: np.ndarray, bias: np.ndarray, options: dict[str, Any]
) -> Projection:
    residual = prepared.source @ weight + bias - prepared.target
    return Projection(
        method=method,
        weight=weight,
        bias=bias,
        source=prepared.source_pre,
        target=prepared.target_pre,
        options={**options, **prepared.options},
        n_pairs=int(prepared.source.shape[0]),
        fit_mse=float(np.mean(residual**2)),
    )


def _centred(
    s: np.ndarray, t: np.ndarray, bias: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(S − 1 s̄ᵀ, T − 1 t̄ᵀ, s̄, t̄) if `bias`, else (S, T, 0, 0)."""
    if not bias:
        zeros = np.zeros(s.shape[1])
        return s, t, zeros, zeros
    s_mean, t_mean = s.mean(axis=0), t.mean(axis=0)
    return s - s_mean, t - t_mean, s_mean, t_mean


def least_squares(
    source: Array,
    target: Array,
    *,
    ridge: float = 0.0,
    bias: bool = False,
    centre: bool = False,
    whiten: bool = False,
    eps: float = DEFAULT_EPS,
    target_preprocessing: Preprocessing | None = None,
) -> Projection:
    """The (ridge) least-squares map: W = argmin_W ||S' W − T'||_F² + λ ||W||_F², λ = `ridge` ≥ 0.

    Solved by an SVD-based least-squares solver on [S'; √λ I] W ≈ [T'; 0] (equivalently
    W = (S'ᵀS' + λI)^{-1} S'ᵀT', without forming S'ᵀS'); for λ = 0 and rank-deficient S' (e.g. n < d) this
    is the minimum-norm solution. With `bias`, W is fitted on centred pairs and b = t̄ − s̄ W (the bias is not
    penalised). S' and T' are the pre-processed embeddings (`centre`, `whiten`, `eps`); see the module
    docstring. `target_preprocessing` replaces the English statistics estimated on `target` (e.g. statistics
    shared by several languages).
    """
    if not math.isfinite(ridge) or ridge < 0:
        raise ValueError(f"ridge must be a finite number ≥ 0; got {ridge}")
    prepared = _prepare(
        source, target, centre=centre, whiten=whiten, eps=eps, target_preprocessing=target_preprocessing
    )
    s, t, s_mean, t_mean = _centred(prepared.source, prepared.target, bias)
    if ridge > 0:
        d = s.shape[1]
        s = np.vstack([s, math.sqrt(ridge) * np.eye(d)])
        t = np.vstack([t, np.zeros((d, t.shape[1]))])
    weight = np.linalg.lstsq(s, t, rcond=None)[0]
    return _finish(
        "least_squares", prepared, weight, t_mean - s_mean @ weight, {"ridge": ridge, "bias": bias}
    )


def procrustes(
    source: Array,
    target: Array,
    *,
    bias: bool = False,
    centre: bool = False,
    whiten: bool = False,
    eps: float = DEFAULT_EPS,
    target_preprocessing: Preprocessing | None = None,
) -> Projection:
    """The orthogonal Procrustes map (Schönemann 1966): W = U Vᵀ, where S'ᵀ T' = U Σ Vᵀ is an SVD.

    W minimises ||S' W − T'||_F over orthogonal matrices (Wᵀ W = I), so it preserves norms and angles. With
    `bias`, W is fitted on centred pairs and b = t̄ − s̄ W. Pre-processing options as in `least_squares`.
    """
    prepared = _prepare(
        source, target, centre=centre, whiten=whiten, eps=eps, target_preprocessing=target_preprocessing
    )
    s, t, s_mean, t_mean = _centred(prepared.source, prepared.target, bias)
    u, _, vt = np.linalg.svd(s.T @ t)
    weight = u @ vt
    return _finish("procrustes", prepared, weight, t_mean - s_mean @ weight, {"bias": bias})


def _initial_parameters(d: int, init: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight in nn.Linear's (out, in) layout, bias) for `init`; "random" ~ U(−1/√d, 1/√d)."""
    if init == "identity":
        return torch.eye(d), torch.zeros(d)
    if init == "zeros":
        return torch.zeros(d, d), torch.zeros(d)
    bound = 1.0 / math.sqrt(d)
    weight = torch.empty(d, d).uniform_(-bound, bound, generator=generator)
    return weight, torch.empty(d).uniform_(-bound, bound, generator=generator)


def gradient_descent(
    source: Array,
    target: Array,
    *,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int | None = 256,
    seed: int = 0,
    init: Init = "identity",
    bias: bool = True,
    centre: bool = False,
    whiten: bool = False,
    eps: float = DEFAULT_EPS,
    target_preprocessing: Preprocessing | None = None,
    device: str | torch.device = "cpu",
) -> Projection:
    """A `torch.nn.Linear(d, d)` trained by Adam on the MSE (1 / (n d)) Σ_i ||S'_i W + b − T'_i||².

    `epochs` passes over the pairs, in mini-batches of `batch_size` pairs (reshuffled every epoch; None or
    ≥ n: full batch, one step per epoch) with learning rate `lr`. `init` is the starting point: "identity"
    (W = I, b = 0; the default, natural when both sides live in similar spaces), "zeros", or "random"
    (U(−1/√d, 1/√d), like PyTorch's default). The initialisation and shuffling draw from a private generator
    seeded with `seed` (the global torch RNG is untouched), so on a given device the result is a
    deterministic function of the inputs and settings. Training runs in float32 on `device`; a non-finite loss
    raises TrainingDiverged. Pre-processing options as in `least_squares`.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be ≥ 1; got {epochs}")
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number; got {lr}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1 or None (full batch); got {batch_size}")
    if init not in ("identity", "zeros", "random"):
        raise ValueError(f"init must be 'identity', 'zeros' or 'random'; got {init!r}")
    prepared = _prepare(
        source, target, centre=centre, whiten=whiten, eps=eps, target_preprocessing=target_preprocessing
    )
    n, d = prepared.source.shape
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    layer = nn.utils.skip_init(nn.Linear, d, d, bias=bias, device=device)
    initial_weight, initial_bias = _initial_parameters(d, init, generator)
    with torch.no_grad():
        layer.weight.copy_(initial_weight)
        if layer.bias is not None:
            layer.bias.copy_(initial_bias)
    xs = torch.from_numpy(prepared.source).to(device=device, dtype=torch.float32)
    ys = torch.from_numpy(prepared.target).to(device=device, dtype=torch.float32)
    optimiser = torch.optim.Adam(layer.parameters(), lr=lr)
    size = n if batch_size is None else min(batch_size, n)
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator).to(device) if size < n else None
        for start in range(0, n, size):
            if order is None:
                x_batch, y_batch = xs, ys
            else:
                index = order[start : start + size]
                x_batch, y_batch = xs[index], ys[index]
            loss = F.mse_loss(layer(x_batch), y_batch)
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"gradient-descent alignment diverged in epoch {epoch + 1} (loss {loss.item()})",
                    "lower lr, or centre/whiten the embeddings",
                )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    weight = layer.weight.detach().cpu().to(torch.float64).numpy().T
    fitted_bias = (
        layer.bias.detach().cpu().to(torch.float64).numpy() if layer.bias is not None else np.zeros(d)
    )
    return _finish(
        "gradient_descent",
        prepared,
        weight,
        fitted_bias,
        {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed, "init": init, "bias": bias},
    )


def lir(
    source: Array,
    target: Array,
    *,
    rank: int = 1,
    target_preprocessing: Preprocessing | None = None,
) -> Projection:
    """The training-free baseline: language identity removal on each side (Yang et al. 2021), no map
    between them (W = I, b = 0). Each side is centred and loses the `rank` leading principal directions of
    its own embeddings; the two sides need not be parallel (only their statistics are used), and the English
    side can be shared by every language (`target_preprocessing`)."""
    s = as_matrix(source, "source embeddings")
    t = as_matrix(target, "target embeddings")
    if s.shape[1] != t.shape[1]:
        raise ValueError(f"source and target dimensions differ: {s.shape[1]} vs {t.shape[1]}")
    source_pre = Preprocessing.identity_removal(s, rank, name="source embeddings")
    target_pre = target_preprocessing or Preprocessing.identity_removal(t, rank, name="target embeddings")
    d = s.shape[1]
    fit_mse = (
        float(np.mean((source_pre.apply(s) - target_pre.apply(t)) ** 2)) if len(s) == len(t) else math.nan
    )
    return Projection(
        method="lir",
        weight=np.eye(d),
        bias=np.zeros(d),
        source=source_pre,
        target=target_pre,
        options={"rank": rank, "target_statistics": "given" if target_preprocessing else "fitting pairs"},
        n_pairs=len(s),
        fit_mse=fit_mse,
    )


LEARNERS = {
    "least_squares": least_squares,
    "procrustes": procrustes,
    "gradient_descent": gradient_descent,
    "lir": lir,
}


def fit_projection(source: Array, target: Array, method: str = "procrustes", **options: Any) -> Projection:
    """Fit a projection with the learner `method` ("least_squares", "procrustes" or "gradient_descent")."""
    if method not in LEARNERS:
        raise ValueError(
            f"unknown alignment method {method!r}{did_you_mean(method, LEARNERS)}; "
            f"choose one of {', '.join(LEARNERS)}"
        )
    learner: Any = LEARNERS[method]
    projection: Projection = learner(source, target, **options)
    return projection
