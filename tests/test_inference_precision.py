"""Embedding without gradients under bf16 autocast runs a bf16 copy of the transformer: same embeddings
(cosine to fp32 above 0.999), a copy that follows every change of the weights, and no trace in the model's
state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from xlt.models.sentence import SentenceEncoder

TEXTS = ["a short one", "a somewhat longer sentence with more tokens in it", "third", "and a fourth text"]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_bf16_copy_gives_the_fp32_embeddings_and_follows_the_weights(tiny_encoder_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    fp32 = encoder.encode(TEXTS, precision="fp32")
    bf16 = encoder.encode(TEXTS, precision="bf16")
    assert "bf16" in encoder._inference_copies  # the copy was used
    copy = encoder._inference_copies["bf16"][1]
    assert next(copy.parameters()).dtype == torch.bfloat16
    assert _cosines(fp32, bf16).min() > 0.999
    assert not any(k.startswith("_inference") for k in encoder.state_dict())

    # training changes the weights in place: the next bf16 embedding follows them, in the same copy
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in encoder.transformer.encoder.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.2)
    changed = encoder.encode(TEXTS, precision="fp32")
    assert _cosines(changed, fp32).min() < 0.99  # the change matters
    again = encoder.encode(TEXTS, precision="bf16")
    assert encoder._inference_copies["bf16"][1] is copy
    assert _cosines(changed, again).min() > 0.999

    # with gradients (training) the fp32 transformer runs, under autocast as before
    encoder.train()
    batch = encoder.tokenize(TEXTS)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        states = encoder.token_states(**batch)
    assert states.requires_grad
