"""Shared fixtures: the real data mirror, an isolated cache, and a tiny randomly initialised encoder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# Tests compare numbers bit for bit (resumed training, the two executors). A thread count that follows the
# machine's load (xlt.models.threads) changes the order of float sums, so the suite fixes it; the
# governor itself is tested in test_threads.py.
os.environ.setdefault("XLT_THREADS", str(torch.get_num_threads()))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("XLT_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
    if not (path / "MANIFEST.json").is_file():
        pytest.fail(f"benchmark mirror not found at {path}: set XLT_DATA_DIR to the shared data directory")
    return path


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never touch the user's cache; $XLT_TEST_CACHE lets a developer reuse converted weights."""
    cache = Path(os.environ.get("XLT_TEST_CACHE") or tmp_path_factory.mktemp("xlt-cache"))
    previous = os.environ.get("XLT_CACHE_DIR")
    os.environ["XLT_CACHE_DIR"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("XLT_CACHE_DIR", None)
    else:
        os.environ["XLT_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-dim BERT with random weights and the MiniLM WordPiece tokenizer, as a model directory."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from xlt.models.encoders import model_path

    directory = tmp_path_factory.mktemp("tiny-encoder")
    tokenizer = AutoTokenizer.from_pretrained(model_path("minilm-l6-en"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
