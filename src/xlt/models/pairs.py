"""Similarity scores of sentence pairs from a bi-encoder (or the lexical Dice baseline)."""

from __future__ import annotations

import numpy as np

from xlt.models.lexical import dice_scores
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder


def score_pairs(
    encoder: SentenceEncoder | None,
    sentences1: list[str],
    sentences2: list[str],
    *,
    batch_size: int = 64,
    precision: Precision = "auto",
    language: str | None = None,
) -> np.ndarray:
    """Cosine similarity of each pair of texts in `language` (each distinct sentence embedded once); Dice
    when `encoder` is None."""
    if encoder is None:
        return np.asarray(dice_scores(sentences1, sentences2), dtype=np.float64)
    unique = list(dict.fromkeys([*sentences1, *sentences2]))
    index = {s: i for i, s in enumerate(unique)}
    emb = encoder.encode(unique, batch_size=batch_size, precision=precision, language=language)
    first = emb[[index[s] for s in sentences1]]
    second = emb[[index[s] for s in sentences2]]
    return np.asarray((first * second).sum(axis=1), dtype=np.float64)
