"""Embedding throughput: xlt's SentenceEncoder.encode against sentence-transformers on the same sentences."""

from __future__ import annotations

import copy
import importlib
import math
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
from rich.console import Console

from .common import ENCODER, EmbedResult, Settings, attention_of, compiled_forward, unpadded_forward

Encode = Callable[[list[str]], np.ndarray]
WARMUP_SENTENCES = 256  # untimed embedding warm-up call, spread over the sentences


def load_sentences(settings: Settings) -> list[str]:
    """`settings.sentences` sentences from stsb-multi test, taken round-robin over the languages."""
    from xlt.core.settings import resolve_data_dir
    from xlt.tasks.registry import get_task

    data_dir = resolve_data_dir()
    task = get_task("stsb-multi")
    columns: list[list[str]] = []
    for language in settings.languages:
        ds = task.load(data_dir, "test", language)
        columns.append([s for pair in zip(ds["sentence1"], ds["sentence2"], strict=True) for s in pair])
    sentences = [s for row in zip(*columns, strict=False) for s in row]
    if len(sentences) < settings.sentences:
        raise ValueError(f"only {len(sentences)} sentences are available")
    return sentences[: settings.sentences]


def build_sentence_transformer(path: str, max_length: int, match_attention: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 (`sentence_transformers.models` still works there, with a warning)
        modules = importlib.import_module("sentence_transformers.sentence_transformer.modules")
    except ImportError:
        modules = importlib.import_module("sentence_transformers.models")

    model_kwargs: dict[str, Any] | None = {"attn_implementation": "eager"} if match_attention else None
    transformer = modules.Transformer(path, max_seq_length=max_length, model_kwargs=model_kwargs)
    pooling = modules.Pooling(int(transformer.auto_model.config.hidden_size), "mean")
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


def bench_embedding(settings: Settings, console: Console) -> list[EmbedResult]:
    from xlt.models import tokens
    from xlt.models.encoders import prepare
    from xlt.models.sentence import SentenceEncoder

    texts = load_sentences(settings)
    encoder = SentenceEncoder(ENCODER)
    prefix = encoder.info.prefix  # xlt adds it itself; given to sentence-transformers with the text
    path = str(prepare(ENCODER))
    st = build_sentence_transformer(path, encoder.max_length, settings.match_attention)
    st_bf16 = copy.deepcopy(st).to(torch.bfloat16)
    bs = settings.embed_batch_size
    xlt_attn = attention_of(encoder.transformer)
    st_attn = attention_of(st[0].auto_model)

    def xlt_encode(
        precision: Literal["fp32", "bf16"], compiled: bool = False, unpadded: bool = False
    ) -> Encode:
        def run(batch: list[str]) -> np.ndarray:
            # every call tokenizes its sentences, as sentence-transformers does: xlt's per-process token
            # cache (warmed by counting tokens and by earlier passes over the same chunk) is emptied first
            tokens.clear()
            with compiled_forward(compiled), unpadded_forward(unpadded):
                return encoder.encode(batch, batch_size=bs, precision=precision)

        return run

    def st_encode(model: Any, autocast: bool = False) -> Encode:
        def run(batch: list[str]) -> np.ndarray:
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=autocast):
                out = model.encode(
                    [prefix + t for t in batch],
                    batch_size=bs,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            return np.asarray(out, dtype=np.float32)

        return run

    runs: list[tuple[str, str, str, str, str, Encode]] = [
        ("xlt", "xlt encode", "fp32", "fp32", xlt_attn, xlt_encode("fp32")),
        ("st", "ST encode", "fp32", "fp32", st_attn, st_encode(st)),
        ("xlt", "xlt encode", "bf16", "autocast", xlt_attn, xlt_encode("bf16")),
        ("st", "ST encode", "bf16", "bf16 weights (.to)", st_attn, st_encode(st_bf16)),
        ("st", "ST encode", "bf16", "autocast", st_attn, st_encode(st, autocast=True)),
        # eager, skipping the padding: xlt over it is what Hugging Face's forward gives over it
        (
            "xlt_unpadded",
            "xlt encode, unpadded forward",
            "bf16",
            "autocast",
            xlt_attn,
            xlt_encode("bf16", unpadded=True),
        ),
    ]
    if settings.compile:  # compiles in the warm-up call; its output is checked against eager xlt's
        runs.append(
            ("xlt_compiled", "xlt encode, compiled", "bf16", "autocast", xlt_attn, xlt_encode("bf16", True))
        )
    # untimed warm-up on a sample of every length; its output is checked against xlt's
    sample = texts[:: max(1, len(texts) // WARMUP_SENTENCES)]
    size = math.ceil(len(texts) / settings.embed_chunks)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    chunk_tokens = [sum(encoder.token_lengths(chunk)) for chunk in chunks]
    results: list[EmbedResult] = []
    reference: dict[str, np.ndarray] = {}
    for name, runner, precision, how, attention, fn in runs:
        out = fn(sample)
        result = EmbedResult(
            name,
            runner,
            precision,
            how,
            attention,
            [len(c) for c in chunks],
            chunk_tokens,
            [[] for _ in chunks],
        )
        if name == "xlt":
            reference[precision] = out
        else:
            result.agreement = float(np.min(np.sum(out * reference[precision], axis=1)))
        results.append(result)
    # every chunk is encoded by every variant back to back, so that a disturbance hits them alike
    for repeat in range(settings.embed_passes):
        for c, chunk in enumerate(chunks):
            for result, (*_, fn) in zip(results, runs, strict=True):
                start = time.perf_counter()
                fn(chunk)
                result.chunk_seconds[c].append(time.perf_counter() - start)
        rates = ", ".join(
            f"{r.name} {r.precision} {r.how}: {len(texts) / sum(t[repeat] for t in r.chunk_seconds):.1f}"
            for r in results
        )
        console.print(f"  embed pass {repeat + 1}/{settings.embed_passes} (sentences/s) {rates}")
    return results
