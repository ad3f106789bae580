"""mT5-family checkpoints (a tiny randomly initialised mT5 built here, no hub) load as their encoder stack
only, wherever an encoder is named: training and zero-shot evaluation, size variants, alignment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.models.sentence import SentenceEncoder


@pytest.fixture(scope="module")
def tiny_mt5_dir(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    """A 2-layer mT5 (encoder and decoder) with random weights, saved with a WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration

    directory = tmp_path_factory.mktemp("tiny-mt5")
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    torch.manual_seed(0)
    config = MT5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
        num_heads=4, decoder_start_token_id=0,
    )  # fmt: skip
    MT5ForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_an_mt5_checkpoint_loads_its_encoder_stack_only(tiny_mt5_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_mt5_dir))
    names = [name for name, _ in encoder.transformer.named_parameters()]
    assert names and not any("decoder" in name for name in names)
    assert encoder.dim == 32
    embeddings = encoder.encode(["a dog runs", "a cat sleeps"])
    assert embeddings.shape == (2, 32) and np.isfinite(embeddings).all()
    small = SentenceEncoder(f"{tiny_mt5_dir}@layers=1")
    assert len(small.transformer.encoder.block) == 1
    assert not np.allclose(small.encode(["a dog runs"]), embeddings[:1])


def test_train_eval_on_an_mt5_encoder(tiny_mt5_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "train-eval", "--task", "xnli", "--encoder", str(tiny_mt5_dir), "--limit", "16", "--steps", "2",
            "--languages", "en,sw", "--data-dir", str(data_dir), "--output", str(tmp_path), "--no-progress",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stage = next((tmp_path).rglob("predictions.json"))
    predictions = json.loads(stage.read_text())
    assert set(predictions) == {"en", "sw"}
