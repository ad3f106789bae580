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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from xlt.alignment.preprocessing import ArrayT, Preprocessing, apply_steps, frozen
from xlt.core.errors import DataError, XltError
from xlt.core.io import atomic_directory, atomic_path

PROJECTION_FORMAT = "xlt.alignment.projection"
FORMAT_VERSION = 1


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
        object.__setattr__(self, "weight", frozen(weight))
        object.__setattr__(self, "bias", frozen(np.asarray(self.bias)))
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
        return apply_steps(x, steps, self.dim, "source embeddings")

    def transform_target(self, e: ArrayT) -> ArrayT:
        """Bring English embeddings (shape (..., d)) into the comparison space: e -> (e − μ_t) A_t.

        The identity when the projection was fitted without `centre` or `whiten`. Dtypes as in
        `transform_source`.
        """
        return apply_steps(e, self.target.steps(), self.dim, "target embeddings")

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
