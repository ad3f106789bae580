"""Accuracy@1 of bitext retrieval by nearest neighbour (Tatoeba)."""

from __future__ import annotations

import numpy as np


def retrieval_accuracy(source_emb: np.ndarray, target_emb: np.ndarray) -> dict[str, float]:
    """Accuracy@1 of nearest-neighbour search by cosine similarity, both ways (Tatoeba).

    Rows i of the two (n, d) arrays embed a translation pair, so item i's correct match is i. Rows are
    L2-normalised here. Ties go to the lowest index (np.argmax), which matters only for identical
    embeddings such as duplicate sentences. Returns "source_to_target" (each source row queries all target
    rows), "target_to_source" and their "mean". No rows, an all-zero row (it has no direction, and the
    tie rule would silently match it to row 0) or a non-finite value raises ValueError.
    """
    source, target = np.asarray(source_emb, dtype=np.float64), np.asarray(target_emb, dtype=np.float64)
    if source.ndim != 2 or source.shape != target.shape:
        raise ValueError(f"need two (n, d) arrays of one shape, got {source.shape} and {target.shape}")
    if len(source) == 0:
        raise ValueError("cannot score empty input: no sentences")
    if not (np.isfinite(source).all() and np.isfinite(target).all()):
        raise ValueError("embeddings contain nan or inf")

    def unit_rows(matrix: np.ndarray, name: str) -> np.ndarray:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not (norms > 0).all():
            raise ValueError(f"{name} has all-zero rows, e.g. row {int(np.argmin(norms[:, 0] > 0))}")
        return np.asarray(matrix / norms)

    similarity = unit_rows(source, "source_emb") @ unit_rows(target, "target_emb").T
    expected = np.arange(len(source))
    forward = float(np.mean(similarity.argmax(axis=1) == expected))
    backward = float(np.mean(similarity.argmax(axis=0) == expected))
    return {"source_to_target": forward, "target_to_source": backward, "mean": (forward + backward) / 2}
