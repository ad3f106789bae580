"""No repeated work in evaluation: the test sets of all languages are predicted in one pass batched by
length across languages (the same predictions as language by language), robustness suites reuse the
evaluate step's clean predictions, and an STS attack over several languages at once standardises gold
scores within each language (the same attack as one language at a time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from datasets import Dataset, concatenate_datasets

from tests.test_training import pairs
from xlt.evaluation.batching import language_free, predict_sets
from xlt.evaluation.zero_shot import evaluate_language, evaluate_languages
from xlt.models.sentence import SentenceEncoder
from xlt.robustness.attack import similarity_attack
from xlt.robustness.config import RobustnessConfig
from xlt.robustness.suites import run_suites
from xlt.tasks import get_task
from xlt.training.config import TrainingConfig
from xlt.training.kinds import make_kind
from xlt.training.kinds.base import TaskKind
from xlt.training.kinds.pair_regression import PairRegression


class Counting:
    """A task kind that counts the items it is asked to predict, and the languages it is given."""

    def __init__(self, kind: TaskKind) -> None:
        self.kind = kind
        self.items = 0
        self.calls: list[str | None] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kind, name)

    def predict(self, data: Dataset, **options: Any) -> list[Any]:
        self.items += len(data)
        self.calls.append(options.get("language"))
        return self.kind.predict(data, **options)


class PerLanguage(torch.nn.Module):
    """A stand-in for an alignment module: it takes the language (and changes nothing)."""

    def forward(self, pooled: torch.Tensor, language: str | None) -> torch.Tensor:
        return pooled


@pytest.fixture(scope="module")
def xnli_kind(tiny_encoder_dir: Path) -> TaskKind:
    torch.manual_seed(0)
    return make_kind(SentenceEncoder(str(tiny_encoder_dir)), get_task("xnli"), TrainingConfig())


def test_joint_predictions_equal_language_by_language(xnli_kind: TaskKind, data_dir: Path) -> None:
    task, languages = get_task("xnli"), ["en", "sw", "de", "zh"]
    counting = Counting(xnli_kind)
    joint = list(
        evaluate_languages(task, data_dir, languages, kind=counting, max_examples=40, precision="fp32")
    )  # type: ignore[arg-type]
    assert counting.calls == [None]  # one pass over the 4 x 40 items
    for result in joint:
        alone = evaluate_language(
            task, data_dir, result.language, kind=xnli_kind, max_examples=40, precision="fp32"
        )
        assert (result.ids, result.gold, result.pred) == (alone.ids, alone.gold, alone.pred)
        assert result.score == alone.score and result.n == 40


def test_sets_go_alone_where_the_language_changes_the_model(xnli_kind: TaskKind, data_dir: Path) -> None:
    task = get_task("xnli")
    sets = {lang: (task.load(data_dir, "test", lang).select(range(8)), lang) for lang in ("en", "sw")}
    counting = Counting(xnli_kind)
    assert language_free(counting)
    predict_sets(counting, sets, precision="fp32")  # type: ignore[arg-type]
    assert counting.calls == [None]
    xnli_kind.encoder.post_pooling = PerLanguage()  # type: ignore[assignment]
    try:
        assert not language_free(counting)
        counting.calls.clear()
        predict_sets(counting, sets, precision="fp32")  # type: ignore[arg-type]
        assert counting.calls == ["en", "sw"]
    finally:
        xnli_kind.encoder.post_pooling = None
    # sets with different columns are predicted apart; empty sets give no predictions
    other = Dataset.from_dict(
        {"id": ["x"], "sentence1": ["a"], "sentence2": ["b"], "label": [0], "genre": ["g"]}
    )
    counting.calls.clear()
    mixed = {"en": sets["en"], "other": (other, "en"), "none": (sets["sw"][0].select([]), "sw")}
    predictions = predict_sets(counting, mixed, precision="fp32")  # type: ignore[arg-type]
    assert [len(predictions[k]) for k in mixed] == [8, 1, 0] and len(counting.calls) == 2


def test_suites_reuse_the_evaluated_clean_predictions(xnli_kind: TaskKind, data_dir: Path) -> None:
    task, languages = get_task("xnli"), ("en", "sw", "de")
    config = RobustnessConfig(suites=["char-noise", "diacritics", "generalized"], rate=0.3)
    fresh = Counting(xnli_kind)
    without = run_suites(config, fresh, task, data_dir, languages, 24, "fp32")  # type: ignore[arg-type]
    known = {
        r.language: {"ids": r.ids, "pred": r.pred, "gold": r.gold}
        for r in evaluate_languages(
            task, data_dir, languages, kind=xnli_kind, max_examples=24, precision="fp32"
        )
    }
    reusing = Counting(xnli_kind)
    with_known = run_suites(config, reusing, task, data_dir, languages, 24, "fp32", known=known)  # type: ignore[arg-type]
    assert with_known == without  # the same rows, items and scores
    # without: 3 x 24 clean, 2 x 3 x 24 perturbed, 3 x 24 monolingual and 6 x 24 mixed items
    assert fresh.items == 24 * (3 + 6 + 3 + 6)
    assert reusing.items == 24 * (6 + 6)  # clean and monolingual items come from `known`
    # known predictions of other items are not taken for these
    stale = {lang: {**entry, "ids": [f"other-{i}" for i in entry["ids"]]} for lang, entry in known.items()}
    again = Counting(xnli_kind)
    run_suites(config, again, task, data_dir, languages, 24, "fp32", known=stale)  # type: ignore[arg-type]
    assert again.items == fresh.items


def test_an_attack_over_languages_at_once_equals_one_per_language(tiny_encoder_dir: Path) -> None:
    torch.manual_seed(0)
    kind = PairRegression(SentenceEncoder(str(tiny_encoder_dir)), get_task("stsb"), "cosent")
    first, second = pairs(20, 0), pairs(12, 1)
    # a second "language" with gold in [0.8, 1]: its low pairs are above the pooled mean, so only
    # standardising within each language pushes them together, as attacking it alone does
    second = second.map(lambda row: {"label": 0.8 + row["label"] / 5})
    config = RobustnessConfig(attack_radius=1.0, attack_step_size=0.5)
    alone = [similarity_attack(kind, data, config, "fp32") for data in (first, second)]
    joint = similarity_attack(
        kind, concatenate_datasets([first, second]), config, "fp32", strata=[0] * 20 + [1] * 12
    )
    for arm in (0, 1):
        assert np.allclose(joint[arm], alone[0][arm] + alone[1][arm], atol=1e-5)
    pooled = similarity_attack(kind, concatenate_datasets([first, second]), config, "fp32")
    assert not np.allclose(pooled[1], joint[1], atol=1e-5)  # one stratum standardises otherwise
