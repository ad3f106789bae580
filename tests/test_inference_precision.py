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


def test_bf16_copy_follows_a_fused_optimizer(tiny_encoder_dir: Path) -> None:
    """Fused AdamW (xlt's trainer) updates weights without moving their version counters; the copy made
    before its steps must still follow them (it once stayed at the weights of its first use, so every dev
    evaluation after the first saw the same model)."""
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    before = encoder.encode(TEXTS, precision="bf16")
    copy = encoder._inference_copies["bf16"][1]
    params = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=0.05, fused=True)
    versions = [p._version for p in params]
    encoder.train()
    for _ in range(3):
        batch = encoder.tokenize(TEXTS)
        loss = encoder(**batch).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    encoder.eval()
    assert [p._version for p in params] == versions  # what made the stale copy possible
    trained = encoder.encode(TEXTS, precision="fp32")
    assert _cosines(trained, before).min() < 0.99  # training moved the embeddings
    after = encoder.encode(TEXTS, precision="bf16")
    assert encoder._inference_copies["bf16"][1] is copy  # refreshed in place
    assert _cosines(trained, after).min() > 0.995  # bf16 rounding only (the stale copy: below 0.9)
