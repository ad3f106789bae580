"""Transferability scores: how well a source (intermediate) model's outputs suit a target task.

All three scores are computed on the target task's inputs, need no training on the target, and are
"higher = more transferable":

- `logme` — LogME (You et al., ICML 2021, "LogME: Practical Assessment of Pre-trained Models for
  Transfer Learning"): the maximised, per-example log evidence of a Bayesian linear model from the
  source model's features to the target labels or values.
- `leep` — LEEP (Nguyen et al., ICML 2020, "LEEP: A New Measure to Evaluate Transferability of Learned
  Representations"): the log-likelihood of the target labels under the "expected empirical predictor"
  built from the source head's soft predictions.
- `nce` — NCE (Tran et al., ICCV 2019, "Transferability and Hardness of Supervised Classification
  Tasks"): the negative conditional entropy −H(Y | Z) of the target labels given the source model's
  hard predictions.

All logarithms are natural.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["EvidenceFit", "leep", "log_evidence", "logme", "maximise_log_evidence", "nce"]

LOGME_TOLERANCE = 1e-3
LOGME_MAX_ITERATIONS = 100
_SIMPLEX_TOLERANCE = 1e-4
_LOG_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------------------
# LogME
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceFit:
    """The maximised log evidence L(α, β) of one target column (not divided by n) and its maximiser."""

    log_evidence: float
    alpha: float
    beta: float
    iterations: int


@dataclass(frozen=True)
class _Spectrum:
    """The thin SVD F = U diag(s) Vᵀ of the (n × d) features, kept as U (n × r) and s² (r,), r = min(n, d).

    The eigenvalues of FᵀF are s² followed by d − r zeros.
    """

    n: int
    d: int
    u: np.ndarray
    s2: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray) -> _Spectrum:
        u, s, _ = np.linalg.svd(features, full_matrices=False)
        n, d = features.shape
        return cls(n=n, d=d, u=u, s2=s**2)

    def project(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        """z = Uᵀy (the target in the basis of F's column space) and ||y − U z||² (the part outside it)."""
        z = self.u.T @ y
        outside = y - self.u @ z
        return z, float(outside @ outside)


def _evidence(spectrum: _Spectrum, z: np.ndarray, outside: float, alpha: float, beta: float) -> float:
    """L(α, β) of the docstring of `log_evidence`, in O(r) from the SVD quantities.

    With w_i = α + β s_i², the posterior mean is m = V diag(β s_i / w_i) z, so
    mᵀm = β² Σ s_i² z_i² / w_i², ||F m − y||² = α² Σ z_i² / w_i² + ||y − U z||², and
    log |A| = Σ log w_i + (d − r) log α.
    """
    n, d, s2 = spectrum.n, spectrum.d, spectrum.s2
    w = alpha + beta * s2
    mtm = beta**2 * float(np.sum(s2 * z**2 / w**2))
    residual = alpha**2 * float(np.sum(z**2 / w**2)) + outside
    log_det = float(np.sum(np.log(w))) + (d - len(s2)) * math.log(alpha)
    return (
        n / 2 * math.log(beta)
        + d / 2 * math.log(alpha)
        - n / 2 * _LOG_2PI
        - beta / 2 * residual
        - alpha / 2 * mtm
        - log_det / 2
    )


def _maximise(spectrum: _Spectrum, y: np.ndarray) -> EvidenceFit:
    """MacKay's fixed-point iteration for (α, β), as in Algorithm 1 of You et al. (2021)."""
    z, outside = spectrum.project(y)
    if not np.any(z) and outside == 0.0:
        raise ValueError("LogME is undefined for an all-zero target column (the evidence is unbounded in β)")
    n, s2 = spectrum.n, spectrum.s2
    # If y has no component in F's column space (or F = 0), L increases with α towards α → ∞, where m = 0
    # and d/2 log α − 1/2 log |A| → 0, leaving n/2 log β − n/2 log 2π − β/2 ||y||², maximised at
    # β = n / ||y||². The same limit is used if the iteration drives α to overflow.
    norm2 = float(z @ z) + outside
    limit = EvidenceFit(
        log_evidence=n / 2 * (math.log(n / norm2) - _LOG_2PI - 1.0),
        alpha=math.inf,
        beta=n / norm2,
        iterations=0,
    )
    if not np.any(s2 * z**2):
        return limit
    tiny = np.finfo(np.float64).tiny
    alpha, beta = 1.0, 1.0
    iterations = 0
    while iterations < LOGME_MAX_ITERATIONS:
        iterations += 1
        w = alpha + beta * s2
        gamma = float(np.sum(beta * s2 / w))
        mtm = beta**2 * float(np.sum(s2 * z**2 / w**2))
        residual = alpha**2 * float(np.sum(z**2 / w**2)) + outside
        new_alpha = gamma / max(mtm, tiny)
        new_beta = (n - gamma) / max(residual, tiny)
        converged = (
            abs(new_alpha - alpha) <= LOGME_TOLERANCE * alpha
            and abs(new_beta - beta) <= LOGME_TOLERANCE * beta
        )
        if not math.isfinite(new_alpha):
            return EvidenceFit(limit.log_evidence, limit.alpha, limit.beta, iterations)
        alpha, beta = new_alpha, new_beta
        if converged:
            break
    return EvidenceFit(
        log_evidence=_evidence(spectrum, z, outside, alpha, beta),
        alpha=alpha,
        beta=beta,
        iterations=iterations,
    )


def _features(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] == 0 or f.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (n, d) array, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain nan or inf")
    return f


def _target_column(y: np.ndarray, n: int) -> np.ndarray:
    column = np.asarray(y, dtype=np.float64)
    if column.shape != (n,):
        raise ValueError(f"the target column must have shape ({n},) like the features, got {column.shape}")
    if not np.all(np.isfinite(column)):
        raise ValueError("the target contains nan or inf")
    return column


def log_evidence(features: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """The log evidence log p(y | F, α, β) of the Bayesian linear model (You et al., 2021, Eq. 2).

    Model: y = F w + ε, prior w ~ N(0, α⁻¹ I_d), noise ε ~ N(0, β⁻¹ I_n), F of shape (n, d), y of shape
    (n,). With A = α I + β FᵀF and the posterior mean m = β A⁻¹ Fᵀ y,

        L(α, β) = n/2 log β + d/2 log α − n/2 log 2π − β/2 ||F m − y||² − α/2 mᵀm − 1/2 log |A|.

    Computed through the thin SVD of F (the same code path `logme` maximises); not divided by n.
    """
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be positive, got {alpha} and {beta}")
    f = _features(features)
    spectrum = _Spectrum.of(f)
    z, outside = spectrum.project(_target_column(y, f.shape[0]))
    return _evidence(spectrum, z, outside, float(alpha), float(beta))


def maximise_log_evidence(features: np.ndarray, y: np.ndarray) -> EvidenceFit:
    """Maximise `log_evidence` over (α, β) for one target column y of shape (n,).

    Starting from α = β = 1, iterate (You et al., 2021, Algorithm 1)

        γ = Σ_i β σ_i² / (α + β σ_i²),   α ← γ / mᵀm,   β ← (n − γ) / ||F m − y||²,

    with σ_i² the eigenvalues of FᵀF, until both α and β change by at most 1e-3 relatively (at most 100
    iterations). F is decomposed once, so each iteration costs O(min(n, d)). If y has no component in
    the column space of F the supremum is the limit α → ∞ (returned with alpha = inf).
    """
    f = _features(features)
    return _maximise(_Spectrum.of(f), _target_column(y, f.shape[0]))


def logme(features: np.ndarray, targets: np.ndarray, *, regression: bool) -> float:
    """LogME (You et al., ICML 2021): the maximised log evidence per example, averaged over target columns.

    `features` F is (n, d): the source model's features of the n target inputs. For classification
    (`regression=False`) `targets` are n labels (integers, or any non-float labels) and each class present
    gets a one-hot target column; for regression `targets` is (n,) or (n, m) real. For each column y,

        LogME(y) = max_{α, β} L(α, β) / n

    with L of `log_evidence`, maximised by `maximise_log_evidence`; the score is the mean of LogME(y) over
    the columns. Works for n < d (the d − n extra eigenvalues of FᵀF are 0).
    """
    f = _features(features)
    n = f.shape[0]
    target = np.asarray(targets)
    if len(target) != n:
        raise ValueError(f"{n} feature rows but {len(target)} targets")
    if regression:
        if target.ndim not in (1, 2):
            raise ValueError(f"regression targets must be (n,) or (n, m), got shape {target.shape}")
        columns = np.asarray(target, dtype=np.float64).reshape(n, -1)
        if columns.shape[1] == 0:
            raise ValueError("regression targets have no columns")
    else:
        codes, n_classes = _label_codes(target, "targets")
        columns = np.zeros((n, n_classes))
        columns[np.arange(n), codes] = 1.0
    spectrum = _Spectrum.of(f)
    scores = [_maximise(spectrum, _target_column(column, n)).log_evidence / n for column in columns.T]
    return float(np.mean(scores))


# ---------------------------------------------------------------------------------------------------------
# LEEP and NCE
# ---------------------------------------------------------------------------------------------------------


def _label_codes(labels: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """Codes 0..K−1 of 1-d, non-empty, non-float labels (in sorted label order) and K."""
    array = np.asarray(labels)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array of labels, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{name} must be discrete labels (e.g. integers), got dtype {array.dtype}")
    values, codes = np.unique(array, return_inverse=True)
    return codes.reshape(-1), len(values)


def leep(source_probs: np.ndarray, target_labels: np.ndarray) -> float:
    """LEEP (Nguyen et al., ICML 2020): log expected empirical prediction of the target labels.

    `source_probs` θ is (n, Z): row i is the source head's predicted distribution over its Z labels on
    target input x_i; `target_labels` y is (n,). With the empirical joint and conditional

        P̂(y, z) = (1/n) Σ_{i: y_i = y} θ(x_i)_z,   P̂(z) = Σ_y P̂(y, z),   P̂(y | z) = P̂(y, z) / P̂(z),

        LEEP = (1/n) Σ_i log Σ_z P̂(y_i | z) θ(x_i)_z,

    which is ≤ 0. A source label with P̂(z) = 0 has θ(x_i)_z = 0 for every i and contributes nothing.
    With one-hot θ (hard predictions z_i), LEEP = (1/n) Σ_i log P̂(y_i | z_i) = −H(Y | Z) = `nce`.

    Raises ValueError unless θ is 2-d with one row per label, non-negative, and each row sums to 1 ± 1e-4.
    """
    theta = np.asarray(source_probs, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[0] == 0 or theta.shape[1] == 0:
        raise ValueError(f"source_probs must be a non-empty (n, Z) array, got shape {theta.shape}")
    codes, n_classes = _label_codes(target_labels, "target_labels")
    n = theta.shape[0]
    if len(codes) != n:
        raise ValueError(f"source_probs has {n} rows but there are {len(codes)} target labels")
    if not np.all(np.isfinite(theta)) or np.any(theta < 0):
        raise ValueError("source_probs must be finite and non-negative (rows are probability distributions)")
    sums = theta.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _SIMPLEX_TOLERANCE)
    if len(bad):
        raise ValueError(
            f"source_probs rows must sum to 1 (±{_SIMPLEX_TOLERANCE}): {len(bad)} rows do not, "
            f"e.g. row {bad[0]} sums to {sums[bad[0]]}"
        )
    joint = np.zeros((n_classes, theta.shape[1]))
    np.add.at(joint, codes, theta)
    joint /= n
    marginal = joint.sum(axis=0)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    expected = np.sum(conditional[codes] * theta, axis=1)
    return float(np.mean(np.log(expected)))


def nce(source_labels: np.ndarray, target_labels: np.ndarray) -> float:
    """NCE (Tran et al., ICCV 2019): the negative conditional entropy −H(Y | Z) of target given source labels.

    `source_labels` z and `target_labels` y are (n,) hard labels on the same n inputs (in xlt: the
    intermediate model's argmax predictions on the target task's inputs, and the target's gold labels).
    With the empirical joint P̂(y, z) = |{i : y_i = y, z_i = z}| / n and P̂(z) = Σ_y P̂(y, z),

        NCE = −H(Y | Z) = Σ_{y, z} P̂(y, z) log P̂(y | z) = Σ_{y, z} P̂(y, z) log (P̂(y, z) / P̂(z)),

    summing over cells with P̂(y, z) > 0. NCE ∈ [−log |Y|, 0]; it is 0 iff z determines y.
    """
    source, n_source = _label_codes(source_labels, "source_labels")
    target, n_target = _label_codes(target_labels, "target_labels")
    n = len(source)
    if len(target) != n:
        raise ValueError(f"{n} source labels but {len(target)} target labels")
    joint = np.zeros((n_target, n_source))
    np.add.at(joint, (target, source), 1.0 / n)
    marginal = joint.sum(axis=0)
    cells = joint > 0
    conditional = joint[cells] / np.broadcast_to(marginal, joint.shape)[cells]
    return float(np.sum(joint[cells] * np.log(conditional)))
