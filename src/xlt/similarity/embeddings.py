"""Task vectors from a frozen encoder: SEmb (mean sentence embedding, Poth et al. 2021) and TextEmb (mean
token state, Vu et al. 2020), and the per-input embeddings they average (`items`, what nearest-neighbour
estimators compare). Each is cached under the hash of everything that determines it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from xlt.core.hashing import config_hash
from xlt.core.io import atomic_path
from xlt.core.settings import cache_dir
from xlt.models.encoders import weights_hash
from xlt.models.precision import autocast, resolve_precision
from xlt.models.sentence import SentenceEncoder
from xlt.similarity.inputs import task_texts, texts_key
from xlt.tasks import TaskSpec

VectorKind = Literal["semb", "textemb", "items"]
VECTOR_FORMAT = 1


def semb_vector(encoder: SentenceEncoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Mean of the L2-normalised sentence embeddings."""
    return encoder.encode(list(texts), batch_size=batch_size).mean(axis=0)


@torch.inference_mode()
def textemb_vector(encoder: SentenceEncoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Mean of the encoder's last-layer token states over every (non-padding) token of every text."""
    encoder.eval()
    precision = resolve_precision("auto")
    total = torch.zeros(encoder.dim, dtype=torch.float64)
    count = 0
    order = np.argsort(encoder.token_lengths(list(texts)), kind="stable")
    for start in range(0, len(texts), batch_size):
        batch = encoder.tokenize([texts[i] for i in order[start : start + batch_size]])
        with autocast(precision, encoder.device_):
            states = encoder.token_states(**batch).float()
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        total += (states * mask).sum(dim=(0, 1)).double().cpu()
        count += int(mask.sum())
    return (total / max(count, 1)).numpy().astype(np.float32)


class VectorCache:
    """Task vectors of one encoder, computed once and kept under $XLT_CACHE_DIR/similarity/."""

    def __init__(self, encoder_name: str, data_dir: Path, *, sample: int = 500, seed: int = 0) -> None:
        self.encoder_name = encoder_name
        self.data_dir = data_dir
        self.sample = sample
        self.seed = seed
        self._weights = weights_hash(encoder_name)
        self._encoder: SentenceEncoder | None = None
        self.root = cache_dir() / "similarity"

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = SentenceEncoder(self.encoder_name)
        return self._encoder

    def items(self, task: TaskSpec, language: str | None = None) -> np.ndarray:
        """The L2-normalised sentence embedding of each sampled input (rows in `task_texts` order)."""
        return self.vector("items", task, language)

    def vector(self, kind: VectorKind, task: TaskSpec, language: str | None = None) -> np.ndarray:
        key = config_hash(
            {
                "format": VECTOR_FORMAT,
                "kind": kind,
                "encoder": self.encoder_name,
                "weights": self._weights,
                **texts_key(task, language=language, sample=self.sample, seed=self.seed),
            }
        )
        path = self.root / f"{kind}-{task.name}-{language or 'train'}-{key[:16]}.npy"
        if path.is_file():
            return np.load(path)
        texts = task_texts(task, self.data_dir, language=language, sample=self.sample, seed=self.seed)
        if kind == "items":
            vector = self.encoder.encode(texts, batch_size=64)
        else:
            vector = (semb_vector if kind == "semb" else textemb_vector)(self.encoder, texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, vector)
        return vector


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator > 0 else 0.0
