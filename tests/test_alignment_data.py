"""Parallel data for projections never contains an evaluation sentence; `xlt align` end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xlt.alignment.evaluate import (
    MethodSpec,
    align_and_evaluate,
    evaluation_sets,
    leak_free_parallel,
    retrieval_accuracy,
)
from xlt.alignment.parallel import tatoeba_split
from xlt.models.sentence import SentenceEncoder


def test_tatoeba_halves_are_disjoint_and_cover_every_pair(data_dir: Path) -> None:
    train, test = tatoeba_split(data_dir, "deu")
    assert len(train) + len(test) == 1000 and abs(len(train) - len(test)) <= 1
    assert not set(train) & set(test)
    assert tatoeba_split(data_dir, "deu") == (train, test)  # fixed


@pytest.mark.parametrize("language", ["de", "sw", "am"])
def test_no_evaluation_sentence_is_in_the_training_pairs(data_dir: Path, language: str) -> None:
    sets = evaluation_sets(data_dir, language, max_examples=10**6)
    data = leak_free_parallel(data_dir, sets, max_pairs=None)
    pairs = data.pairs[language]
    assert pairs, data.sources
    x_side = {x for x, _ in pairs}
    english_side = {e for _, e in pairs}
    evaluation_x, evaluation_en = sets.sentences()
    assert not x_side & evaluation_x
    assert not english_side & evaluation_en
    # the evaluation sets themselves are there (the check above is not vacuous)
    assert evaluation_x and evaluation_en
    if language == "sw":  # XNLI's training translations are parallel data; its test items are not
        assert data.sources["sw"]["xnli-train"] > 1000
    if language == "de":  # every source contributes
        assert set(data.sources["de"]) == {"tatoeba-train", "stsb-multi-train", "xnli-train", "pawsx-train"}
        assert all(count > 0 for count in data.sources["de"].values())
        assert sets.stsb and sets.xnli and sets.umsab and sets.tatoeba


def test_retrieval_accuracy_by_hand() -> None:
    source = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    target = np.array([[1.0, 0.1], [0.1, 1.0], [-1.0, 0.0]])
    # source->target: 0->0, 1->1, 2->0 or 1 (wrong): 2/3; target->source: 0->0, 1->1, 2->? (-1,0): best is 1
    assert retrieval_accuracy(source, target) == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_method_names() -> None:
    spec = MethodSpec.parse("procrustes+whiten+centre")
    assert spec.learner == "procrustes" and spec.options == {"whiten": True, "centre": True}
    with pytest.raises(ValueError, match="unknown option 'zca'"):
        MethodSpec.parse("procrustes+zca")


def test_align_and_evaluate_on_a_tiny_encoder(tiny_encoder_dir: Path, data_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    run = align_and_evaluate(
        encoder, data_dir, ["de"], ["procrustes", "least_squares+whiten"],
        max_pairs=300, max_examples=60, english_examples=150,
    )  # fmt: skip
    frame = run.results
    assert set(frame.evaluation) == {"tatoeba", "stsb-xling", "umsab-zs", "xnli-zs"}
    assert set(frame.method) == {"procrustes", "least_squares+whiten"}
    assert np.isfinite(frame[["before", "after", "delta"]].to_numpy(dtype=float)).all()
    assert (frame.train_pairs == 300).all()
    assert ("de", "procrustes") in run.projections


def test_a_target_s_test_sentences_never_fit_its_alignment(data_dir: Path) -> None:
    """What `fit_alignment` excludes for a stsb-multi study: German and English test sentences."""
    from xlt.alignment.fit import test_sentences
    from xlt.alignment.parallel import parallel_data
    from xlt.tasks import get_task

    task = get_task("stsb-multi")
    german, english = test_sentences(task, data_dir, "de"), test_sentences(task, data_dir, "en")
    assert len(german) > 2000 and len(english) > 2000
    data = parallel_data(data_dir, ["de"], exclude={"de": german, "en": english})
    pairs = data.pairs["de"]
    assert pairs and not {x for x, _ in pairs} & german and not {e for _, e in pairs} & english


def test_every_language_with_parallel_data(data_dir: Path) -> None:
    """`xlt align --languages all`: Tatoeba's languages, then the other sources' (no English), each once,
    and each has training pairs."""
    from xlt.alignment.parallel import parallel_data, parallel_languages

    languages = parallel_languages()
    assert len(languages) == len(set(languages)) and "en" not in languages
    assert {"de", "sw", "am", "zh", "ur", "ko"} <= set(languages)
    data = parallel_data(data_dir, ["ur", "ko", "af"], max_pairs=50)
    assert {language: len(pairs) > 0 for language, pairs in data.pairs.items()} == dict.fromkeys(
        ["ur", "ko", "af"], True
    )
    assert data.sources["ur"]["xnli-train"] > 0 and data.sources["ko"]["pawsx-train"] > 0
