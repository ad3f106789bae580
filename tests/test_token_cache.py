"""The process-wide token cache gives exactly the tensors the tokenizer gives, tokenizes a text once, and
keys on everything that changes ids (tokenizer files, prefix, length limit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from xlt.models import tokens
from xlt.models.sentence import SentenceEncoder

TEXTS = [
    "a short one",
    "Ọ̀yọ́ jẹ́ ìlú ńlá kan ní ìwọ̀ oòrùn Nàìjíríà, tí ó ní ọ̀pọ̀lọpọ̀ ènìyàn àti ọjà",
    "",
    "the same text twice",
    "the same text twice",
    "word " * 200,  # truncated
]


def reference(encoder: SentenceEncoder, first: list[str], second: list[str] | None) -> dict[str, Any]:
    prefixed = [encoder.info.prefix + t for t in first]
    options: dict[str, Any] = {"padding": True, "max_length": encoder.max_length, "return_tensors": "pt"}
    if second is None:
        return encoder.tokenizer(prefixed, truncation=True, **options)
    return encoder.tokenizer(prefixed, second, truncation="longest_first", **options)


@pytest.mark.parametrize("side", ["right", "left"])
def test_cached_batches_equal_the_tokenizer(tiny_encoder_dir: Path, side: str) -> None:
    tokens.clear()
    encoder = SentenceEncoder(str(tiny_encoder_dir), max_length=24)
    encoder.tokenizer.padding_side = side
    for _ in range(2):  # tokenized, then from the cache
        expected = reference(encoder, TEXTS, None)
        got = encoder.tokenize(TEXTS)
        assert torch.equal(got["input_ids"], expected["input_ids"])
        assert torch.equal(got["attention_mask"], expected["attention_mask"])
        expected = reference(encoder, TEXTS, TEXTS[::-1])
        got = encoder.tokenize_pairs(TEXTS, TEXTS[::-1])
        assert torch.equal(got["input_ids"], expected["input_ids"])
        assert torch.equal(got["attention_mask"], expected["attention_mask"])
        assert encoder.token_lengths(TEXTS) == [
            int(m.sum()) for m in reference(encoder, TEXTS, None)["attention_mask"]
        ]


def test_a_text_is_tokenized_once_per_setting(
    tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens.clear()
    encoder = SentenceEncoder(str(tiny_encoder_dir), max_length=24)
    seen: list[str] = []
    original = encoder.tokenizer.__class__.__call__

    def counting(self: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        seen.extend(texts if isinstance(texts, list) else [texts])
        return original(self, texts, *args, **kwargs)

    monkeypatch.setattr(encoder.tokenizer.__class__, "__call__", counting)
    encoder.token_lengths(TEXTS)
    encoder.tokenize(TEXTS)
    other = SentenceEncoder(str(tiny_encoder_dir), max_length=24)  # another stage's encoder
    other.tokenize(TEXTS[:3])
    assert len(seen) == len(set(TEXTS))  # each distinct text once
    other.max_length = 8  # a different limit gives other ids: tokenized again, and truncated
    assert other.tokenize(TEXTS)["input_ids"].shape[1] == 8
    assert len(seen) == 2 * len(set(TEXTS))


def test_the_cache_stays_bounded(tiny_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.clear()
    monkeypatch.setattr(tokens, "MAX_ENTRIES", 10)
    encoder = SentenceEncoder(str(tiny_encoder_dir), max_length=24)
    texts = [f"text number {i}" for i in range(25)]
    for start in range(0, 25, 5):
        lengths = encoder.token_lengths(texts[start : start + 5])
        assert lengths == [len(encoder.tokenizer(t)["input_ids"]) for t in texts[start : start + 5]]
    assert all(len(cache) <= 10 for cache in tokens._CACHES.values())
    # a call mixing cached texts with enough new ones to evict them still gets every text's ids
    mixed = texts[-5:] + [f"another text {i}" for i in range(8)]
    assert encoder.token_lengths(mixed) == [len(encoder.tokenizer(t)["input_ids"]) for t in mixed]
