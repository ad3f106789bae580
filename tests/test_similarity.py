"""Similarity estimators: hand-computed taxonomy overlap, the random baseline, and the embedding ones on a
tiny encoder (values, symmetry, caching, the language-aware rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from xlt.core.errors import ConfigError
from xlt.models.sentence import SentenceEncoder
from xlt.similarity.embeddings import VectorCache, textemb_vector
from xlt.similarity.estimators import SimilarityContext, similarity_matrix
from xlt.similarity.inputs import task_texts
from xlt.similarity.registry import ESTIMATORS, get_estimators
from xlt.tasks import get_task


def test_taxonomy_overlap_by_hand(data_dir: Path) -> None:
    context = SimilarityContext(data_dir)
    taxonomy = ESTIMATORS["taxonomy"]
    # stsb/semrel: same family, format and label type; domains {news, captions, forums} vs {mixed}: 0
    assert taxonomy.similarity(context, get_task("stsb"), get_task("semrel"), None) == pytest.approx(3 / 4)
    # conll-ner/masakhaner: all four agree (news = news)
    assert taxonomy.similarity(context, get_task("conll-ner"), get_task("masakhaner"), None) == 1.0
    # sst2/semrel: nothing in common
    assert taxonomy.similarity(context, get_task("sst2"), get_task("semrel"), None) == 0.0
    # mrpc/stsb-multi: pair format only, plus the domain overlap
    stsb_multi = get_task("stsb-multi").taxonomy
    expected = (1 + len({"news"} & set(stsb_multi.domain)) / len({"news"} | set(stsb_multi.domain))) / 4
    assert taxonomy.similarity(context, get_task("mrpc"), get_task("stsb-multi"), None) == pytest.approx(
        expected
    )


def test_random_baseline_is_fixed_by_seed_and_uniform(data_dir: Path) -> None:
    random = ESTIMATORS["random"]
    a, b = get_task("stsb"), get_task("semrel")
    first = random.similarity(SimilarityContext(data_dir, seed=0), a, b, None)
    assert first == random.similarity(SimilarityContext(data_dir, seed=0), a, b, None)
    assert first != random.similarity(SimilarityContext(data_dir, seed=1), a, b, None)
    values = [random.similarity(SimilarityContext(data_dir, seed=s), a, b, None) for s in range(2000)]
    assert min(values) >= 0 and max(values) < 1 and abs(np.mean(values) - 0.5) < 0.03


def test_unknown_estimator_suggests_the_name() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown similarity estimator 'semb_lang' \(did you mean 'semb-lang'"
    ):
        get_estimators(["semb", "semb_lang"])


def test_task_texts_are_a_fixed_sample_without_labels(data_dir: Path) -> None:
    task = get_task("stsb")
    first = task_texts(task, data_dir, sample=20, seed=3)
    assert first == task_texts(task, data_dir, sample=20, seed=3) and len(set(first)) == 20
    assert first != task_texts(task, data_dir, sample=20, seed=4)
    rows = task.load(data_dir, "train", "en")
    assert any(f"{r['sentence1']} {r['sentence2']}" == first[0] for r in rows)
    german = task_texts(get_task("stsb-multi"), data_dir, language="de", sample=5)
    assert len(german) == 5


def test_english_inputs_of_tasks_without_training_data(data_dir: Path) -> None:
    """SEmb compares English inputs: Tatoeba (no training data, no English test set) gives the English
    side of its first language's pairs, LAReQA its English questions; language-aware rows keep the
    language's own side. Each choice has its own cache key."""
    from xlt.similarity.inputs import texts_key

    tatoeba = get_task("tatoeba")
    first = tatoeba.languages["test"][0]
    pairs = tatoeba.load(data_dir, "test", first)
    english = task_texts(tatoeba, data_dir, sample=10_000)
    assert sorted(english) == sorted(pairs["target"]) and sorted(english) != sorted(pairs["source"])
    assert sorted(task_texts(tatoeba, data_dir, language=first, sample=10_000)) == sorted(pairs["source"])
    assert texts_key(tatoeba, language=None, sample=5, seed=0) != texts_key(
        tatoeba, language=first, sample=5, seed=0
    )
    lareqa = get_task("lareqa")
    assert task_texts(lareqa, data_dir, sample=5) == task_texts(lareqa, data_dir, language="en", sample=5)


def test_textemb_is_the_mean_over_every_token(tiny_encoder_dir: Path) -> None:
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    texts = ["a short one", "a somewhat longer sentence with more tokens in it"]
    with torch.no_grad():
        states = [encoder.token_states(**encoder.tokenize([t]))[0] for t in texts]
    expected = torch.cat(states).float().mean(dim=0).numpy()
    np.testing.assert_allclose(textemb_vector(encoder, texts, batch_size=2), expected, rtol=2e-2, atol=2e-3)


def test_embedding_estimators_and_cache(
    tiny_encoder_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = SimilarityContext(data_dir, encoder=str(tiny_encoder_dir), sample=16)
    stsb, semrel, sst2 = get_task("stsb"), get_task("semrel"), get_task("sst2")
    semb = ESTIMATORS["semb"]
    assert semb.similarity(context, stsb, stsb, None) == pytest.approx(1.0, abs=1e-5)
    assert semb.similarity(context, stsb, semrel, None) == pytest.approx(
        semb.similarity(context, semrel, stsb, None), abs=1e-6
    )
    cached = sorted(p.name for p in context.vectors.root.glob("semb-*.npy"))
    assert any(name.startswith("semb-stsb-train-") for name in cached)

    # a fresh context reads the vectors from the cache: no encoder is loaded
    again = SimilarityContext(data_dir, encoder=str(tiny_encoder_dir), sample=16)
    monkeypatch.setattr(VectorCache, "encoder", property(lambda self: pytest.fail("encoder was loaded")))
    assert semb.similarity(again, stsb, semrel, None) == semb.similarity(context, stsb, semrel, None)
    monkeypatch.undo()

    frame = similarity_matrix(
        context,
        [(stsb, semrel), (sst2, semrel)],
        get_estimators(["semb", "semb-lang", "taxonomy"]),
        languages=lambda task: ["hau", "amh"],
    )
    assert len(frame) == 2 + 2 * 2 + 2
    lang_rows = frame[frame.estimator == "semb-lang"]
    assert set(lang_rows.language) == {"hau", "amh"}
    assert set(frame[frame.estimator != "semb-lang"].language) == {"all"}
    assert frame.similarity.between(-1, 1).all()
