"""Each language's affine pre-processing of its embeddings (centring, ZCA whitening), and the array
helpers the projections share. The conventions are in `xlt.alignment.projection`'s docstring."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np
import torch

Array = np.ndarray | torch.Tensor
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)

DEFAULT_EPS = 1e-8
LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_Step = tuple[Literal["sub", "add", "matmul"], np.ndarray]


# --------------------------------------------------------------------------------------------- helpers


def as_matrix(x: Array, name: str) -> np.ndarray:
    """`x` as a float64 (n, d) array; ValueError if it is not 2-D, empty or not finite."""
    array = x.detach().cpu().to(torch.float64).numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d); got shape {tuple(array.shape)}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one embedding of dimension ≥ 1; got shape {array.shape}")
    try:
        array = array.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold real numbers; got dtype {array.dtype}") from exc
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_pairs(source: Array, target: Array) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as float64 (n, d) arrays, with the same n (pairs) and the same d."""
    s = as_matrix(source, "source embeddings")
    t = as_matrix(target, "target embeddings")
    if s.shape[0] != t.shape[0]:
        raise ValueError(
            f"source and target must hold the same number of parallel pairs (rows): "
            f"got {s.shape[0]} source and {t.shape[0]} target embeddings"
        )
    if s.shape[1] != t.shape[1]:
        raise ValueError(
            f"source and target embeddings must have the same dimension d: "
            f"got d={s.shape[1]} (source) and d={t.shape[1]} (target)"
        )
    return s, t


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only, C-contiguous float64 copy."""
    out = np.array(array, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


def apply_steps(x: ArrayT, steps: Sequence[_Step], dim: int, what: str) -> ArrayT:
    """Apply `steps` (subtract a vector, add a vector, right-multiply by a matrix) to the rows of `x`.

    `x` has shape (..., dim). NumPy input is computed in float64; a torch tensor on its own device in
    float32, or float64 if it is float64. The result has the input's floating dtype (float32 for integers).
    """
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ValueError(f"{what} must have shape (..., {dim}); got shape {tuple(x.shape)}")
    if isinstance(x, torch.Tensor):
        out_dtype = x.dtype if x.is_floating_point() else torch.float32
        work = torch.promote_types(out_dtype, torch.float32)
        y = x.to(work)
        for op, value in steps:
            v = torch.tensor(value, device=x.device, dtype=work)
            y = y - v if op == "sub" else y + v if op == "add" else y @ v
        return y.to(out_dtype)
    array = np.asarray(x)
    np_out = array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float32)
    z = array.astype(np.float64)
    for op, value in steps:
        z = z - value if op == "sub" else z + value if op == "add" else z @ value
    return z.astype(np_out, copy=False)


# ------------------------------------------------------------------------------------- pre-processing


@dataclass(frozen=True, eq=False)
class Preprocessing:
    """The affine pre-processing of one language's embeddings, P(x) = (x − μ) A.

    `mean` is μ (shape (d,)), or None for μ = 0 (no centring); `whitener` is a symmetric matrix A (shape
    (d, d)): the ZCA matrix Σ^{-1/2} (`fit` with whiten), the projector I − V Vᵀ off a language's identity
    subspace (`identity_removal`), or None for A = I.
    """

    mean: np.ndarray | None = field(default=None, repr=False)
    whitener: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mean is not None:
            if np.ndim(self.mean) != 1:
                raise ValueError(f"the mean must be a vector; got shape {np.shape(self.mean)}")
            object.__setattr__(self, "mean", frozen(self.mean))
        if self.whitener is not None:
            shape = np.shape(self.whitener)
            if len(shape) != 2 or shape[0] != shape[1]:
                raise ValueError(f"the whitener must be a square matrix; got shape {shape}")
            if self.mean is not None and shape[0] != self.mean.shape[0]:
                raise ValueError(
                    f"whitener of shape {shape} does not match a mean of length {len(self.mean)}"
                )
            object.__setattr__(self, "whitener", frozen(self.whitener))

    @classmethod
    def fit(
        cls,
        embeddings: Array,
        *,
        centre: bool = False,
        whiten: bool = False,
        eps: float = DEFAULT_EPS,
        name: str = "embeddings",
    ) -> Preprocessing:
        """Estimate μ (if `centre` or `whiten`) and the ZCA whitener A (if `whiten`) on `embeddings` (n × d).

        A = U diag((λ_k + ε λ̄)^{-1/2}) Uᵀ, with Σ = U diag(λ_k) Uᵀ the unbiased (1 / (n − 1)) covariance and
        λ̄ = tr(Σ) / d. Whitening needs n ≥ 2; with n ≤ d the covariance is singular and only ε keeps A finite,
        which is allowed but warned about.
        """
        x = as_matrix(embeddings, name)
        if not math.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps must be a positive finite number; got {eps}")
        if not (centre or whiten):
            return cls()
        n, d = x.shape
        if whiten and n < 2:
            raise ValueError(
                f"whitening {name} needs at least 2 embeddings to estimate a covariance; got n={n}"
            )
        mean = x.mean(axis=0)
        if not whiten:
            return cls(mean=mean)
        centred = x - mean
        covariance = centred.T @ centred / (n - 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        mean_variance = float(eigenvalues.mean())
        if not mean_variance > 0:
            raise ValueError(f"cannot whiten {name}: all {n} embeddings are identical (zero variance)")
        if n <= d:
            warnings.warn(
                f"whitening {name} from n={n} ≤ d={d} embeddings: the covariance is singular and directions "
                f"without data are scaled by up to 1/sqrt(eps·mean variance); use more pairs than dimensions",
                stacklevel=2,
            )
        scales = (eigenvalues + eps * mean_variance) ** -0.5
        whitener = (eigenvectors * scales) @ eigenvectors.T
        return cls(mean=mean, whitener=(whitener + whitener.T) / 2)

    @classmethod
    def identity_removal(cls, embeddings: Array, rank: int, *, name: str = "embeddings") -> Preprocessing:
        """Language identity removal (LIR; Yang et al. 2021): centre a language's embeddings and project
        out the `rank` leading principal directions of the centred embeddings, which carry mostly what
        tells the language apart: P(x) = (x − μ)(I − V Vᵀ), V (d × rank) the top right singular vectors."""
        x = as_matrix(embeddings, name)
        n, d = x.shape
        if not 1 <= rank < min(n, d):
            raise ValueError(
                f"identity removal of {name} needs 1 <= rank < min(n, d) = {min(n, d)}; got {rank}"
            )
        mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        top = vt[:rank].T
        return cls(mean=mean, whitener=np.eye(d) - top @ top.T)

    @property
    def centres(self) -> bool:
        """Whether a mean is subtracted."""
        return self.mean is not None

    @property
    def whitens(self) -> bool:
        """Whether a whitening matrix is applied."""
        return self.whitener is not None

    def steps(self) -> list[_Step]:
        """The operations of P(x) = (x − μ) A, in order."""
        out: list[_Step] = []
        if self.mean is not None:
            out.append(("sub", self.mean))
        if self.whitener is not None:
            out.append(("matmul", self.whitener))
        return out

    def apply(self, x: ArrayT) -> ArrayT:
        """P(x) = (x − μ) A on the rows of `x` (shape (..., d)); dtypes: see `Projection.transform_source`."""
        if self.mean is not None:
            dim = self.mean.shape[0]
        elif self.whitener is not None:
            dim = self.whitener.shape[0]
        else:
            dim = x.shape[-1] if x.ndim else 0
        return apply_steps(x, self.steps(), dim, "embeddings")

    def same_as(self, other: Preprocessing) -> bool:
        """Whether both hold exactly the same statistics."""

        def equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))

        return equal(self.mean, other.mean) and equal(self.whitener, other.whitener)
