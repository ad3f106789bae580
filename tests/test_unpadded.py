"""The unpadded forward (`xlt.models.unpadded`) computes what Hugging Face's forward does at every real
token, for BERT and XLM-R layouts, with and without gradients, and leaves other architectures alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import (
    BertConfig,
    BertModel,
    DistilBertConfig,
    DistilBertModel,
    ElectraConfig,
    ElectraModel,
    T5Config,
    T5EncoderModel,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from xlt.models import unpadded
from xlt.models.sentence import SentenceEncoder

SIZES = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}


def _batch(pad_left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Four sequences of lengths 9, 3, 6 and 9 (one without padding), padding id 1."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 90, (4, 9), generator=generator)
    mask = torch.zeros(4, 9, dtype=torch.long)
    for row, length in enumerate((9, 3, 6, 9)):
        if pad_left:
            mask[row, 9 - length :] = 1
        else:
            mask[row, :length] = 1
    return ids.masked_fill(mask == 0, 1), mask


def _models() -> list[torch.nn.Module]:
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=100, pad_token_id=1, **SIZES), add_pooling_layer=False)
    xlmr = XLMRobertaModel(
        XLMRobertaConfig(vocab_size=100, pad_token_id=1, max_position_embeddings=20, **SIZES),
        add_pooling_layer=False,
    )
    return [bert.eval(), xlmr.eval()]


@pytest.mark.parametrize("pad_left", [False, True])
@pytest.mark.parametrize("model_index", [0, 1], ids=["bert", "xlm-r"])
def test_equal_to_hugging_face_at_real_tokens(model_index: int, pad_left: bool) -> None:
    model = _models()[model_index]
    assert unpadded.supports(model)
    ids, mask = _batch(pad_left)
    real = mask.bool()
    with torch.no_grad():
        reference = model(input_ids=ids, attention_mask=mask).last_hidden_state
        ours = unpadded.last_hidden_state(model, ids, mask)
    assert ours.shape == reference.shape
    torch.testing.assert_close(ours[real], reference[real], atol=1e-5, rtol=1e-5)
    assert not ours[~real].any()  # padding positions are zero, never read
    # and so are gradients: the same loss over real tokens, the same parameter gradients
    grads = []
    for forward in (
        lambda: model(input_ids=ids, attention_mask=mask).last_hidden_state,
        lambda: unpadded.last_hidden_state(model, ids, mask),
    ):
        model.zero_grad()
        (forward()[real] ** 2).sum().backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1]) > 0
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_bf16_autocast_matches_too() -> None:
    model = _models()[0]
    ids, mask = _batch()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        reference = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        ours = unpadded.last_hidden_state(model, ids, mask).float()
    real = mask.bool()
    cosine = torch.nn.functional.cosine_similarity(ours[real], reference[real], dim=-1)
    assert cosine.min() > 0.999


def test_other_layouts_run_as_they_are() -> None:
    torch.manual_seed(0)
    others = [
        DistilBertModel(DistilBertConfig(vocab_size=100, dim=32, n_layers=1, n_heads=4, hidden_dim=64)),
        T5EncoderModel(T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4)),
        # ELECTRA with embeddings narrower than its layers projects them first: not BERT's forward
        ElectraModel(ElectraConfig(vocab_size=100, embedding_size=16, **SIZES)),
        BertModel(BertConfig(vocab_size=100, position_embedding_type="relative_key", **SIZES)),
    ]
    assert not any(unpadded.supports(model) for model in others)
    assert unpadded.supports(ElectraModel(ElectraConfig(vocab_size=100, embedding_size=32, **SIZES)))


def test_the_sentence_encoder_embeds_the_same_either_way(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    assert unpadded.supports(encoder.transformer)
    monkeypatch.setenv(unpadded.UNPADDED_ENV, "1")
    calls: list[int] = []
    forward = unpadded.forward
    monkeypatch.setattr(unpadded, "forward", lambda *a: calls.append(1) or forward(*a))
    texts = ["a short one", "a somewhat longer sentence about the weather in the hills today", "x"]
    ours = encoder.encode(texts, precision="fp32", batch_size=3)
    monkeypatch.setenv(unpadded.UNPADDED_ENV, "0")
    reference = encoder.encode(texts, precision="fp32", batch_size=3)
    assert calls == [1]  # the first pass only
    assert abs(ours - reference).max() < 1e-5


@pytest.mark.parametrize(
    ("unpadded_setting", "compile_setting", "expected"),
    [("", "0", False), ("", "1", True), ("auto", "1", True), ("1", "0", True), ("0", "1", False)],
)
def test_on_with_compiled_passes_unless_set(
    monkeypatch: pytest.MonkeyPatch, unpadded_setting: str, compile_setting: str, expected: bool
) -> None:
    """Eager, Hugging Face's forward measured faster at two threads; compiled, the unpadded one."""
    from xlt.models import compiling

    monkeypatch.setattr(compiling, "_check_compiler", lambda: None)
    monkeypatch.setenv(unpadded.UNPADDED_ENV, unpadded_setting)
    monkeypatch.setenv(compiling.COMPILE_ENV, compile_setting)
    assert unpadded.enabled() is expected


def test_a_qa_example_loses_the_same_whatever_pads_its_batch(tiny_encoder_dir: Path) -> None:
    """Padding positions are out of the span softmax: a short example's loss is the same alone and beside
    a long one (before, its padded positions entered the softmax with whatever logits they got)."""
    from datasets import Dataset

    from xlt.tasks import get_task
    from xlt.training.kinds.qa import ExtractiveQA

    encoder = SentenceEncoder(str(tiny_encoder_dir))
    kind = ExtractiveQA(encoder, get_task("tydiqa-en"))
    kind.model.eval()
    long = "The river runs north past the old mill, the church and the market " * 3 + "to the sea."
    data = Dataset.from_dict(
        {
            "question": ["Where is the cat?", "Where does the river run to?"],
            "context": ["The cat sleeps on the mat.", long],
            "answers": [
                {"text": ["on the mat"], "answer_start": [15]},
                {"text": ["the sea"], "answer_start": [len(long) - 8]},
            ],
        }
    )
    with torch.no_grad():
        alone = [float(kind.loss(data, [i])[0]) for i in (0, 1)]
        together = float(kind.loss(data, [0, 1])[0])
    assert together == pytest.approx(sum(alone) / 2, abs=1e-5)
