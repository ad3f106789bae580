from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset

from xlt.core.errors import TrainingDiverged
from xlt.models.pairs import score_pairs
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds.pair_regression import PairRegression, cosent_loss
from xlt.training.loop import TrainReport, fit, length_bucketed_batches

GROUPS = [
    ["red", "crimson", "scarlet"],
    ["dog", "puppy", "hound"],
    ["car", "auto", "vehicle"],
    ["happy", "glad", "joyful"],
    ["cold", "chilly", "frozen"],
    ["fast", "quick", "rapid"],
]
FILLERS = ["the", "a", "very", "some", "one", "this", "that", "it"]


def pairs(n: int, seed: int) -> Dataset:
    """Synonym relatedness: related when the content words are different members of one group.

    The two sentences never share their content word, so a random encoder cannot solve it by overlap.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        first = int(rng.integers(len(GROUPS)))
        second = first if i % 2 == 0 else int((first + rng.integers(1, len(GROUPS))) % len(GROUPS))
        word_a, word_b = rng.choice(3, size=2, replace=False)
        a = [GROUPS[first][word_a], *rng.choice(FILLERS, 2)]
        b = [GROUPS[second][word_b], *rng.choice(FILLERS, 2)]
        rng.shuffle(a)
        rng.shuffle(b)
        rows.append(
            {
                "id": str(i),
                "sentence1": " ".join(a),
                "sentence2": " ".join(b),
                "label": float(first == second),
            }
        )
    return Dataset.from_list(rows)


def train_pair_regression(
    encoder: SentenceEncoder, train: Dataset, dev: Dataset, config: TrainingConfig, seed: int
) -> TrainReport:
    kind = PairRegression(encoder, get_task("stsb"), config.loss)
    return fit(kind, train, dev, config, seed)


def test_cosent_is_zero_free_when_order_is_right_and_grows_when_wrong() -> None:
    labels = torch.tensor([0.9, 0.1])
    right = cosent_loss(torch.tensor([0.8, 0.1]), labels)
    wrong = cosent_loss(torch.tensor([0.1, 0.8]), labels)
    # log(1 + exp(20 * (0.1 - 0.8))) and log(1 + exp(20 * (0.8 - 0.1)))
    assert right.item() == pytest.approx(np.log1p(np.exp(-14.0)), rel=1e-2)
    assert wrong.item() == pytest.approx(np.log1p(np.exp(14.0)), rel=1e-4)


def test_length_buckets_cover_every_example_once() -> None:
    import random

    batches = length_bucketed_batches([5, 1, 9, 3, 7, 2, 8], 3, random.Random(0))
    flat = sorted(i for batch in batches for i in batch)
    assert flat == list(range(7))
    assert all(len(b) <= 3 for b in batches)


def test_training_improves_dev_and_is_reproducible(tiny_encoder_dir: Path) -> None:
    train, dev = pairs(256, 0), pairs(64, 1)
    config = TrainingConfig(
        epochs=10,
        max_steps=160,
        batch_size=16,
        learning_rate=3e-3,
        evaluations=2,
        precision="fp32",
        freeze_embeddings=False,
    )
    before = SentenceEncoder(str(tiny_encoder_dir))
    from xlt.metrics.correlation import spearman

    start = spearman(score_pairs(before, dev["sentence1"], dev["sentence2"]), dev["label"])
    reports = []
    for _ in range(2):
        encoder = SentenceEncoder(str(tiny_encoder_dir))
        reports.append(train_pair_regression(encoder, train, dev, config, seed=3))
    assert reports[0].best_dev == pytest.approx(reports[1].best_dev)
    assert reports[0].best_dev > start + 0.2
    assert [h["step"] for h in reports[0].history] == [80, 160]


def test_frozen_embeddings_stay_fixed_and_are_not_saved(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    embedding = encoder.transformer.get_input_embeddings().weight.detach().clone()
    config = TrainingConfig(max_steps=5, batch_size=8, learning_rate=1e-3, evaluations=1, precision="bf16")
    train_pair_regression(encoder, pairs(64, 0), pairs(16, 1), config, seed=1)
    assert torch.equal(encoder.transformer.get_input_embeddings().weight, embedding)
    encoder.save_trained(tmp_path)
    restored = SentenceEncoder(str(tiny_encoder_dir))
    restored.load_trained(tmp_path)
    texts = ["red dog", "cold tree car"]
    np.testing.assert_allclose(
        encoder.encode(texts, precision="fp32"), restored.encode(texts, precision="fp32"), atol=1e-6
    )
    from safetensors import safe_open

    with safe_open(str(tmp_path / "encoder.safetensors"), "pt") as saved:
        assert not any("word_embeddings" in key for key in saved.keys())  # noqa: SIM118


def test_diverging_loss_is_a_clear_error(tiny_encoder_dir: Path) -> None:
    broken = pairs(32, 0).map(lambda row: {"label": float("nan")})
    config = TrainingConfig(max_steps=3, batch_size=8, loss="cosine_mse", precision="fp32")
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 1.*lower learning_rate"):
        train_pair_regression(SentenceEncoder(str(tiny_encoder_dir)), broken, pairs(8, 1), config, seed=1)


def test_qa_questions_too_long_for_a_window_are_cut_not_fatal(tiny_encoder_dir: Path) -> None:
    """A window must keep more context tokens than its stride, else the tokenizer panics: a Hindi question
    in an English WordPiece vocabulary (one token per character) can take most of a short window."""
    from xlt.data.schema import FEATURES, TaskType
    from xlt.training.kinds.qa import ExtractiveQA

    encoder = SentenceEncoder(str(tiny_encoder_dir), max_length=96)
    kind = ExtractiveQA(encoder, get_task("mlqa"))
    short, long = "Who built the tower?", "एफिल टॉवर किसने बनाया और कब बनाया गया था " * 3
    context = "The tower was built by Gustave Eiffel's company in 1889 for the World's Fair. " * 6
    questions = kind._questions([short, long])
    assert questions[0] == encoder.info.prefix + short  # a question that fits is left as it is
    assert long.startswith(questions[1].removeprefix(encoder.info.prefix)) and len(questions[1]) < len(long)
    rows = [
        {"id": str(i), "context": context, "question": q, "answers": {"text": ["1889"], "answer_start": [54]}}
        for i, q in enumerate([short, long])
    ]
    data = Dataset.from_list(rows, features=FEATURES[TaskType.EXTRACTIVE_QA])
    predictions = kind.predict(data, batch_size=8)
    assert len(predictions) == 2 and all(p in context for p in predictions)
    loss, _ = kind.loss(data, [0, 1])
    assert torch.isfinite(loss)
