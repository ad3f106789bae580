"""Projections that map sentence embeddings of a language X onto English ones, learnt from parallel pairs.

Conventions. Embeddings are row vectors. From n parallel pairs (X_i, E_i) the encoder gives the source matrix
S (n × d, language X) and the target matrix T (n × d, English). Every projection is affine,

    f(x) = P_s(x) W + b,        W ∈ R^{d×d},  b ∈ R^d,

where P_s is the source-side pre-processing. The learners differ only in how W and b are chosen:

* `least_squares`: W = argmin_W ||S' W − T'||_F² + λ ||W||_F² (ridge λ ≥ 0), solved with an SVD-based
  least-squares solver on the stacked system [S'; √λ I] W ≈ [T'; 0], never with the normal equations.
* `procrustes`: the orthogonal W = U Vᵀ, where S'ᵀ T' = U Σ Vᵀ is an SVD (Schönemann 1966); it minimises
  ||S' W − T'||_F subject to Wᵀ W = I.
* `gradient_descent`: one `torch.nn.Linear(d, d)` trained by Adam on the mean squared error
  (1 / (n d)) Σ_i ||S'_i W + b − T'_i||².

With `bias=True` the closed-form learners fit W on the centred pairs (S' − 1 s̄ᵀ, T' − 1 t̄ᵀ), where s̄ and t̄
are the column means of S' and T', and then set b = t̄ − s̄ W; otherwise b = 0.

Pre-processing (the `centre` and `whiten` options, combinable with every learner). Each side has its own
affine pre-processing P(x) = (x − μ) A, estimated on that side's fitting data only:

* no option: μ = 0, A = I;
* `centre`: μ = the mean of the fitting embeddings of that language, A = I;
* `whiten` (ZCA; implies centring): μ as above and A = Σ^{-1/2}, computed as
  A = U diag((λ_k + ε λ̄)^{-1/2}) Uᵀ from the eigendecomposition Σ = U diag(λ_k) Uᵀ of the unbiased covariance
  Σ = (X − 1 μᵀ)ᵀ (X − 1 μᵀ) / (n − 1), with λ̄ = tr(Σ) / d. The regulariser ε (`eps`) is relative to the mean
  variance, so whitening does not depend on the scale of the embeddings.

S' = P_s(S) and T' = P_t(T) are what the learners see. The projection is therefore compared in the
pre-processed English space: at use time, language-X embeddings go through `Projection.transform_source`
(x -> P_s(x) W + b) and English embeddings through `Projection.transform_target` (e -> P_t(e)), so an
evaluation (retrieval, a classifier trained on English) always compares like with like. Without pre-processing
`transform_target` is the identity and the projection lands in the raw English space.

Because P_s is affine, the whole source-side map folds into one affine map x -> x M + c with M = A_s W and
c = b − μ_s A_s W (`Projection.affine`), which is what `Projection.to_module` and `export_dense` (a
sentence-transformers `Dense` module, run after the pooling) apply.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xlt.core.errors import DataError, TrainingDiverged, XltError, did_you_mean
from xlt.core.io import atomic_directory, atomic_path, atomic_write_json

Array = np.ndarray | torch.Tensor
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)
Init = Literal["identity", "zeros", "random"]

PROJECTION_FORMAT = "xlt.alignment.projection"
MULTI_FORMAT = "xlt.alignment.multi_projection"
FORMAT_VERSION = 1
MULTI_INDEX = "index.json"
DEFAULT_EPS = 1e-8
_LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_Step = tuple[Literal["sub", "add", "matmul"], np.ndarray]


# --------------------------------------------------------------------------------------------- helpers


def _as_matrix(x: Array, name: str) -> np.ndarray:
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


def _check_pairs(source: Array, target: Array) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as float64 (n, d) arrays, with the same n (pairs) and the same d."""
    s = _as_matrix(source, "source embeddings")
    t = _as_matrix(target, "target embeddings")
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


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only, C-contiguous float64 copy."""
    out = np.array(array, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


def _apply_steps(x: ArrayT, steps: Sequence[_Step], dim: int, what: str) -> ArrayT:
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

    `mean` is μ (shape (d,)), or None for μ = 0 (no centring); `whitener` is the symmetric ZCA matrix
    A = Σ^{-1/2} (shape (d, d)), or None for A = I (no whitening).
    """

    mean: np.ndarray | None = field(default=None, repr=False)
    whitener: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mean is not None:
            if np.ndim(self.mean) != 1:
                raise ValueError(f"the mean must be a vector; got shape {np.shape(self.mean)}")
            object.__setattr__(self, "mean", _frozen(self.mean))
        if self.whitener is not None:
            shape = np.shape(self.whitener)
            if len(shape) != 2 or shape[0] != shape[1]:
                raise ValueError(f"the whitener must be a square matrix; got shape {shape}")
            if self.mean is not None and shape[0] != self.mean.shape[0]:
                raise ValueError(
                    f"whitener of shape {shape} does not match a mean of length {len(self.mean)}"
                )
            object.__setattr__(self, "whitener", _frozen(self.whitener))

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
        x = _as_matrix(embeddings, name)
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
        return _apply_steps(x, self.steps(), dim, "embeddings")

    def same_as(self, other: Preprocessing) -> bool:
        """Whether both hold exactly the same statistics."""

        def equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))

        return equal(self.mean, other.mean) and equal(self.whitener, other.whitener)


# ----------------------------------------------------------------------------------------- projection


class ProjectionModule(nn.Module):
    """The source-side map y = x M + c of a projection as one `nn.Linear` (weight Mᵀ, bias c).

    It takes pooled sentence embeddings of shape (..., d) and is frozen unless built with `trainable=True`.
    """

    def __init__(
        self,
        matrix: np.ndarray,
        offset: np.ndarray,
        *,
        dtype: torch.dtype = torch.float32,
        trainable: bool = False,
    ) -> None:
        super().__init__()
        d_in, d_out = matrix.shape
        self.linear = nn.utils.skip_init(nn.Linear, d_in, d_out, bias=True, dtype=dtype)
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(matrix.T)))
            self.linear.bias.copy_(torch.from_numpy(np.ascontiguousarray(offset)))
        self.linear.requires_grad_(trainable)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(x)
        return out


@dataclass(frozen=True, eq=False)
class Projection:
    """A fitted map of language-X embeddings onto (pre-processed) English ones: x -> ((x − μ_s) A_s) W + b.

    `weight` is W (d × d, row-vector convention: y = x W + b), `bias` is b (d); `source` and `target` hold the
    pre-processing statistics of each side (μ_s, A_s and μ_t, A_t); `options` records the learner settings and
    pre-processing flags; `n_pairs` is the number of fitting pairs and `fit_mse` the mean squared error
    (1 / (n d)) Σ_i ||f(S_i) − P_t(T_i)||² on them. Arrays are stored as read-only float64 copies.
    """

    method: str
    weight: np.ndarray = field(repr=False)
    bias: np.ndarray = field(repr=False)
    source: Preprocessing = field(default_factory=Preprocessing, repr=False)
    target: Preprocessing = field(default_factory=Preprocessing, repr=False)
    options: dict[str, Any] = field(default_factory=dict)
    n_pairs: int = 0
    fit_mse: float = float("nan")

    def __post_init__(self) -> None:
        if not self.method:
            raise ValueError("a projection needs a method name")
        weight = np.asarray(self.weight)
        if weight.ndim != 2 or weight.shape[0] != weight.shape[1]:
            raise ValueError(f"the weight W must be a square (d, d) matrix; got shape {weight.shape}")
        d = weight.shape[0]
        if np.shape(self.bias) != (d,):
            raise ValueError(f"the bias b must have shape ({d},); got {np.shape(self.bias)}")
        for side, pre in (("source", self.source), ("target", self.target)):
            for name, value in (("mean", pre.mean), ("whitener", pre.whitener)):
                if value is not None and value.shape[0] != d:
                    raise ValueError(f"the {side} {name} has shape {value.shape}, which does not match d={d}")
        object.__setattr__(self, "weight", _frozen(weight))
        object.__setattr__(self, "bias", _frozen(np.asarray(self.bias)))
        object.__setattr__(self, "options", dict(self.options))

    @property
    def dim(self) -> int:
        """The embedding dimension d."""
        return int(self.weight.shape[0])

    def transform_source(self, x: ArrayT) -> ArrayT:
        """Map language-X embeddings (shape (..., d)): x -> ((x − μ_s) A_s) W + b.

        NumPy input is computed in float64, a tensor on its device in float32 (float64 if it is float64); the
        output has the input's floating dtype (float32 for integer input) and the input's type.
        """
        steps = [*self.source.steps(), ("matmul", self.weight), ("add", self.bias)]
        return _apply_steps(x, steps, self.dim, "source embeddings")

    def transform_target(self, e: ArrayT) -> ArrayT:
        """Bring English embeddings (shape (..., d)) into the comparison space: e -> (e − μ_t) A_t.

        The identity when the projection was fitted without `centre` or `whiten`. Dtypes as in
        `transform_source`.
        """
        return _apply_steps(e, self.target.steps(), self.dim, "target embeddings")

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """The source-side map as one affine map x -> x M + c: M = A_s W (d × d), c = b − μ_s M; float64."""
        matrix = self.weight if self.source.whitener is None else self.source.whitener @ self.weight
        offset = self.bias if self.source.mean is None else self.bias - self.source.mean @ matrix
        return np.array(matrix), np.array(offset)

    def to_module(self, *, dtype: torch.dtype = torch.float32, trainable: bool = False) -> ProjectionModule:
        """An `nn.Module` applying pre-processing + linear map (folded into x M + c) to pooled embeddings."""
        matrix, offset = self.affine()
        return ProjectionModule(matrix, offset, dtype=dtype, trainable=trainable)

    def to_sentence_transformers_dense(self) -> nn.Module:
        """A sentence-transformers `Dense` module (identity activation): `sentence_embedding` -> x M + c.

        Appended after the `Pooling` module of a sentence-transformers pipeline it applies `transform_source`.
        Needs the optional `sentence-transformers` package.
        """
        dense_cls = _dense_class()
        matrix, offset = self.affine()
        dense: nn.Module = dense_cls(
            in_features=self.dim,
            out_features=self.dim,
            bias=True,
            activation_function=nn.Identity(),
            init_weight=torch.from_numpy(np.ascontiguousarray(matrix.T)).to(torch.float32),
            init_bias=torch.from_numpy(np.ascontiguousarray(offset)).to(torch.float32),
        )
        return dense

    def save(self, path: Path | str) -> Path:
        """Write the projection to one safetensors file, atomically.

        Tensors: `weight`, `bias` and, when present, `source.mean`, `source.whitener`, `target.mean`,
        `target.whitener` (float64). The safetensors metadata holds the format, method, d, n_pairs, fit_mse
        and the options as JSON.
        """
        from safetensors.numpy import save_file

        path = Path(path)
        tensors = {"weight": self.weight, "bias": self.bias}
        for side, pre in (("source", self.source), ("target", self.target)):
            if pre.mean is not None:
                tensors[f"{side}.mean"] = pre.mean
            if pre.whitener is not None:
                tensors[f"{side}.whitener"] = pre.whitener
        metadata = {
            "format": PROJECTION_FORMAT,
            "format_version": str(FORMAT_VERSION),
            "method": self.method,
            "dim": str(self.dim),
            "n_pairs": str(self.n_pairs),
            "fit_mse": repr(float(self.fit_mse)),
            "options": json.dumps(self.options, sort_keys=True),
        }
        with atomic_path(path) as tmp:
            save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp), metadata=metadata)
        return path

    @classmethod
    def load(cls, path: Path | str) -> Projection:
        """Read a projection written by `save`; DataError if the file is missing or not a projection file."""
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise DataError(
                f"projection file {path} does not exist", "check the path, or fit and save one first"
            )
        try:
            with safe_open(str(path), framework="numpy") as handle:
                metadata = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        except Exception as exc:
            raise DataError(f"cannot read projection file {path}: {exc}", "re-create it with save()") from exc
        if metadata.get("format") != PROJECTION_FORMAT:
            raise DataError(f"{path} is not an xlt projection file", "re-create it with Projection.save()")
        if int(metadata.get("format_version", "0")) > FORMAT_VERSION:
            raise DataError(
                f"{path} uses projection format {metadata['format_version']}, newer than this xlt reads "
                f"({FORMAT_VERSION})",
                "upgrade xlt",
            )
        try:
            projection = cls(
                method=metadata["method"],
                weight=tensors["weight"],
                bias=tensors["bias"],
                source=Preprocessing(tensors.get("source.mean"), tensors.get("source.whitener")),
                target=Preprocessing(tensors.get("target.mean"), tensors.get("target.whitener")),
                options=json.loads(metadata.get("options", "{}")),
                n_pairs=int(metadata.get("n_pairs", "0")),
                fit_mse=float(metadata.get("fit_mse", "nan")),
            )
        except (KeyError, ValueError) as exc:
            raise DataError(
                f"projection file {path} is malformed ({exc})", "re-create it with save()"
            ) from exc
        if str(projection.dim) != metadata.get("dim"):
            raise DataError(
                f"projection file {path} declares d={metadata.get('dim')} but holds d={projection.dim}"
            )
        return projection


class _DenseFactory(Protocol):
    def __call__(self, **kwargs: Any) -> nn.Module: ...


def _dense_class() -> _DenseFactory:
    """sentence-transformers' `Dense` (`sentence_transformers.models.Dense` before v6, an alias since)."""
    for module_name in ("sentence_transformers.sentence_transformer.modules", "sentence_transformers.models"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        dense: _DenseFactory | None = getattr(module, "Dense", None)
        if dense is not None:
            return dense
    raise XltError(
        "exporting a projection as a sentence-transformers module needs the sentence-transformers package",
        "pip install 'xlt[bench]' (or sentence-transformers>=3.0)",
    )


def export_dense(projection: Projection, directory: Path | str) -> Path:
    """Write the source-side map x -> x M + c as a sentence-transformers `Dense` module directory.

    The directory (config.json with an identity activation, model.safetensors) is written with `Dense.save`
    and renamed into place atomically, replacing an existing one. Loaded with `Dense.load` and appended to a
    [Transformer, Pooling] pipeline, it maps language-X sentence embeddings exactly as `transform_source`
    (up to float32 rounding).
    """
    directory = Path(directory)
    dense: Any = projection.to_sentence_transformers_dense()
    with atomic_directory(directory) as tmp:
        dense.save(str(tmp))
    return directory


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
    s, t = _check_pairs(source, target)
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


LEARNERS = {"least_squares": least_squares, "procrustes": procrustes, "gradient_descent": gradient_descent}


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


# ---------------------------------------------------------------------------------------- multilingual


@dataclass(frozen=True, eq=False)
class MultiProjection(Mapping[str, Projection]):
    """One projection per language X (keyed by language code), all onto the same target language.

    A read-only mapping language code -> `Projection`. Language codes may hold letters, digits, '-' and '_'
    (they name files on disk).
    """

    projections: Mapping[str, Projection]
    target_language: str = "en"

    def __post_init__(self) -> None:
        projections = dict(self.projections)
        for code in [*projections, self.target_language]:
            if not _LANGUAGE_CODE.match(code):
                raise ValueError(f"invalid language code {code!r}: use letters, digits, '-' and '_'")
        dims = {code: projection.dim for code, projection in projections.items()}
        if len(set(dims.values())) > 1:
            raise ValueError(f"all projections must have the same dimension; got {dims}")
        object.__setattr__(self, "projections", projections)

    def __getitem__(self, language: str) -> Projection:
        try:
            return self.projections[language]
        except KeyError:
            raise KeyError(
                f"no projection for language {language!r}{did_you_mean(language, self.projections)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.projections)

    def __len__(self) -> int:
        return len(self.projections)

    @classmethod
    def fit(
        cls,
        pairs: Mapping[str, tuple[Array, Array]],
        *,
        method: str = "procrustes",
        shared_target: bool = True,
        target_language: str = "en",
        **options: Any,
    ) -> MultiProjection:
        """Fit one projection per language from its pairs (S_X, T_X) with `fit_projection(method, **options)`.

        With `shared_target` (the default) and `centre` or `whiten`, the English statistics (μ_t, A_t) are
        estimated once on all target sides stacked, so every language is mapped into the same English space
        and `transform_target` is defined; otherwise each language keeps the statistics of its own English
        side.
        """
        if not pairs:
            raise ValueError("no language pairs to fit")
        if shared_target and options.get("target_preprocessing") is None:
            whiten = bool(options.get("whiten", False))
            centre = bool(options.get("centre", False)) or whiten
            if centre:
                stacked = np.concatenate(
                    [_as_matrix(t, f"target embeddings of {code!r}") for code, (_, t) in pairs.items()]
                )
                options["target_preprocessing"] = Preprocessing.fit(
                    stacked,
                    centre=centre,
                    whiten=whiten,
                    eps=float(options.get("eps", DEFAULT_EPS)),
                    name="target embeddings of all languages",
                )
        return cls(
            {code: fit_projection(s, t, method, **options) for code, (s, t) in pairs.items()},
            target_language=target_language,
        )

    def transform_source(self, language: str, x: ArrayT) -> ArrayT:
        """Map embeddings of `language` with its projection (see `Projection.transform_source`)."""
        return self[language].transform_source(x)

    @property
    def shares_target(self) -> bool:
        """Whether every projection uses the same English pre-processing statistics."""
        projections = list(self.projections.values())
        return all(p.target.same_as(projections[0].target) for p in projections[1:])

    def transform_target(self, e: ArrayT) -> ArrayT:
        """English embeddings into the shared comparison space (ValueError unless `shares_target`)."""
        if not self.projections:
            raise ValueError("the multi-projection holds no projection")
        if not self.shares_target:
            raise ValueError(
                "the projections were fitted with language-specific English statistics; use "
                "multi[language].transform_target, or fit with shared_target=True"
            )
        return next(iter(self.projections.values())).transform_target(e)

    def save(self, directory: Path | str) -> Path:
        """Write every projection as `<language>.safetensors` plus `index.json` into `directory`, atomically.

        The directory is built under a temporary name and renamed into place, replacing an existing one.
        """
        directory = Path(directory)
        files = {code: f"{code}.safetensors" for code in self.projections}
        with atomic_directory(directory) as tmp:
            for code, projection in self.projections.items():
                projection.save(tmp / files[code])
            index = {
                "format": MULTI_FORMAT,
                "format_version": FORMAT_VERSION,
                "target_language": self.target_language,
                "projections": files,
            }
            atomic_write_json(tmp / MULTI_INDEX, index)
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> MultiProjection:
        """Read a directory written by `save`; DataError if it is missing or malformed."""
        directory = Path(directory)
        index_path = directory / MULTI_INDEX
        if not index_path.is_file():
            raise DataError(f"{directory} holds no {MULTI_INDEX}", "point at a directory written by save()")
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{index_path} is not valid JSON ({exc})", "re-create it with save()") from exc
        if not isinstance(index, dict) or index.get("format") != MULTI_FORMAT:
            raise DataError(f"{index_path} is not an xlt multi-projection index", "re-create it with save()")
        if int(index.get("format_version", 0)) > FORMAT_VERSION:
            raise DataError(f"{index_path} uses a newer multi-projection format", "upgrade xlt")
        files = index.get("projections")
        if not isinstance(files, dict):
            raise DataError(f"{index_path} lists no projections", "re-create it with save()")
        projections = {}
        for code, name in files.items():
            if Path(name).name != name:
                raise DataError(f"{index_path} names a file outside its directory: {name!r}")
            projections[code] = Projection.load(directory / name)
        return cls(projections, target_language=str(index.get("target_language", "en")))
