"""Encoder-free lexical baselines for pair-similarity tasks."""

from __future__ import annotations

from collections.abc import Sequence


def dice(sentence1: str, sentence2: str) -> float:
    """Unigram Dice of case-sensitive whitespace token sets: 2|A & B| / (|A| + |B|).

    This is the SemRel 2024 organisers' lexical-overlap baseline; two empty sentences score 0.
    """
    first, second = set(sentence1.split()), set(sentence2.split())
    total = len(first) + len(second)
    return 2 * len(first & second) / total if total else 0.0


def dice_scores(pairs1: Sequence[str], pairs2: Sequence[str]) -> list[float]:
    return [dice(a, b) for a, b in zip(pairs1, pairs2, strict=True)]
