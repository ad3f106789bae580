"""Token ids of texts, kept per process and tokenizer so that a text is tokenized once.

Every stage of a study that shares an encoder scores the same test sets (a target's baseline and each of its
intermediates, every seed, the robustness suites' clean items), and every prediction first measures token
lengths to batch by length, then tokenizes each batch: without this cache each text was tokenized twice per
stage. Ids are kept truncated but unpadded; `pad` builds the batch tensors exactly as the tokenizer would
(same ids, attention mask and padding side). The cache is bounded: past `MAX_ENTRIES` texts per tokenizer
setting its older half is dropped.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

MAX_ENTRIES = 400_000
_CACHES: dict[Hashable, dict[Hashable, np.ndarray]] = {}


def token_ids(
    tokenizer: Any,
    setting: Hashable,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    *,
    max_length: int,
) -> list[np.ndarray]:
    """The truncated ids of each text (or text pair: `truncation="longest_first"`) under `setting`, which
    names everything that changes them (tokenizer files, prefix, length limit)."""
    cache = _CACHES.setdefault(setting, {})
    keys: list[Hashable] = list(texts) if pairs is None else list(zip(texts, pairs, strict=True))
    # this call's hits are taken before any eviction, which may drop them from the cache
    found = {k: cache[k] for k in keys if k in cache}
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        if len(cache) + len(missing) > MAX_ENTRIES:
            for key in list(cache)[: len(cache) // 2 + 1]:
                del cache[key]
        if pairs is None:
            encoded = tokenizer(missing, truncation=True, max_length=max_length)
        else:
            first, second = zip(*missing, strict=True)
            encoded = tokenizer(list(first), list(second), truncation="longest_first", max_length=max_length)
        for key, ids in zip(missing, encoded["input_ids"], strict=True):
            found[key] = cache[key] = np.asarray(ids, dtype=np.int64)
    return [found[k] for k in keys]


def pad(ids: list[np.ndarray], pad_id: int, side: str = "right") -> dict[str, torch.Tensor]:
    """`input_ids` and `attention_mask` of a batch, padded to its longest input on `side`."""
    width = max((len(i) for i in ids), default=0)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, sequence in enumerate(ids):
        span = slice(width - len(sequence), width) if side == "left" else slice(0, len(sequence))
        input_ids[row, span] = sequence
        mask[row, span] = 1
    return {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}


def clear() -> None:
    """Forget every cached text (tests; a tokenizer whose files changed on disk within one process)."""
    _CACHES.clear()
