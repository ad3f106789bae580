"""The NN-Rank estimator on hand-made embeddings, and the learned intermediate-task ranker: it recovers an
interaction no single estimator has, is scored on held-out targets and languages against every estimator
and exact random choice, and never pools encoders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlt.analysis.ranker import RANKER, _case_scores, evaluate_ranker, headline, language_features
from xlt.similarity.embeddings import VectorCache
from xlt.similarity.estimators import SimilarityContext, similarity_matrix
from xlt.similarity.registry import ESTIMATORS, get_estimators
from xlt.tasks import get_task


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_nn_rank_by_hand(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stsb, sst2, semrel = get_task("stsb"), get_task("sst2"), get_task("semrel")
    near, far = _unit(1, 0), _unit(0, 1)
    matrices = {
        # 5 stsb inputs on the target's direction, 15 sst2 inputs nearly orthogonal to it
        ("stsb", None): np.stack([near] * 5),
        ("sst2", None): np.stack([_unit(0.1 * i, 1) for i in range(1, 16)]),
        ("semrel", "hau"): np.stack([near] * 3),
        ("semrel", "amh"): np.stack([far] * 4),
    }
    monkeypatch.setattr(
        VectorCache, "items", lambda self, task, language=None: matrices[(task.name, language)]
    )
    frame = similarity_matrix(
        SimilarityContext(data_dir, sample=20),
        [(stsb, semrel), (sst2, semrel)],
        get_estimators(["nn-rank"]),
        languages=lambda task: ["hau", "amh"],
    )
    score = frame.set_index(["intermediate", "language"]).similarity
    # hau: each input's 10 neighbours are the 5 stsb inputs and the 5 sst2 inputs closest to (1, 0);
    # stsb has 1/4 of the pool and gets 1/2 of the votes (2.0 = twice chance), sst2 1/2 over 3/4
    assert score[("stsb", "hau")] == pytest.approx(2.0)
    assert score[("sst2", "hau")] == pytest.approx(0.5 / 0.75)
    # amh lies on sst2's side: all 10 neighbours are sst2 inputs
    assert score[("stsb", "amh")] == 0.0 and score[("sst2", "amh")] == pytest.approx(1 / 0.75)
    # a single candidate has nothing to rank against: exactly chance
    alone = SimilarityContext(data_dir, sample=20)
    assert ESTIMATORS["nn-rank"].similarity(alone, stsb, semrel, "amh") == pytest.approx(1.0)


LANGUAGES = {  # distance to English, non-Latin script, log(1 + GiB)
    "l1": (0.05, 0.0, 5.0), "l2": (0.15, 0.0, 4.0), "l3": (0.3, 1.0, 3.0), "l4": (0.45, 0.0, 2.0),
    "l5": (0.55, 1.0, 1.5), "l6": (0.7, 0.0, 1.0), "l7": (0.85, 1.0, 0.5), "l8": (0.95, 1.0, 0.1),
}  # fmt: skip


def _study(seed: int, encoder: str = "enc") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gains that follow `near` for languages close to English and `far` for distant ones, exactly:
    gain = (1 - d) * near + d * far. Neither estimator alone ranks every language right."""
    rng = np.random.default_rng(seed)
    rows = []
    for target in ("t1", "t2", "t3", "t4"):
        near, far = rng.normal(size=6), rng.normal(size=6)
        for language, (distance, _, _) in LANGUAGES.items():
            for i in range(6):
                gain = (1 - distance) * near[i] + distance * far[i]
                for estimator, value in (("near", near[i]), ("far", far[i]), ("random", rng.random())):
                    rows.append(
                        {
                            "encoder": encoder, "estimator": estimator, "target": target,
                            "intermediate": f"i{i}", "language": language, "level": "language",
                            "similarity": value, "gain": gain, "seeds": 3,
                        }
                    )  # fmt: skip
    languages = pd.DataFrame(
        [{"language": k, "distance": d, "script": "ARABIC" if s else "LATIN", "cc100_gib": np.expm1(g)}
         for k, (d, s, g) in LANGUAGES.items()]
    )  # fmt: skip
    return pd.DataFrame(rows), language_features(languages)


def test_language_features() -> None:
    table = pd.DataFrame(
        {
            "target": ["a", "b", "a"],
            "language": ["sw", "sw", "am"],
            "distance": [0.4, 0.4, None],
            "script": ["LATIN", "LATIN", "ETHIOPIC"],
            "cc100_gib": [1.6, 1.6, 0.8],
        }
    )
    features = language_features(table)
    assert list(features.index) == ["sw", "am"]
    assert features.loc["am", "non_latin"] == 1.0 and features.loc["sw", "non_latin"] == 0.0
    assert features.loc["sw", "log_gib"] == pytest.approx(np.log1p(1.6))
    assert np.isnan(features.loc["am", "distance"])


def test_case_scores_by_hand() -> None:
    scored = pd.DataFrame(
        {
            "target": "t", "language": "x", "intermediate": ["a", "b", "c"],
            "gain": [0.10, 0.04, -0.02], "ranker": [0.0, 1.0, 0.5], "flat": [1.0, 1.0, 1.0],
        }
    )  # fmt: skip
    table = _case_scores(scored, ["ranker", "flat"]).set_index("predictor")
    # the ranker chose b: 0.06 short of the best, 60% of it; the best a is third
    assert table.loc["ranker", "shortfall@1"] == pytest.approx(0.06)
    assert table.loc["ranker", "regret@1"] == pytest.approx(60.0)
    assert table.loc["ranker", "rank_of_best"] == 3.0
    # a constant predictor is exactly random: E[shortfall] = 0.10 - mean(gains)
    for predictor in ("flat", "random"):
        assert table.loc[predictor, "shortfall@1"] == pytest.approx(0.10 - 0.04)
        assert table.loc[predictor, "rank_of_best"] == pytest.approx(2.0)


def test_ranker_learns_an_interaction_no_single_estimator_has() -> None:
    joined, languages = _study(0)
    evaluation = evaluate_ranker(joined, languages, resamples=500)
    assert set(evaluation.summary.scheme) == {"leave-one-target-out", "leave-one-language-out"}
    assert set(evaluation.summary.predictor) == {RANKER, "near", "far", "random"}
    table = headline(evaluation).set_index(["scheme", "predictor"])
    for scheme in ("leave-one-target-out", "leave-one-language-out"):
        ranker = table.loc[(scheme, RANKER)]
        assert ranker["mean"] < 0.02  # nearly always the best candidate
        for other in ("near", "far", "random"):
            row = table.loc[(scheme, other)]
            assert row["mean"] > ranker["mean"] + 0.05
            assert row["diff_ci_low"] > 0  # the ranker's lead is outside the interval
            assert row["ci_low"] <= row["mean"] <= row["ci_high"]
        assert ranker["cases"] == 4 * 8
    # the interaction it needed is among what it leans on most
    top = set(evaluation.features.feature.head(3))
    assert "sim:far x distance" in top or "sim:near x distance" in top
    # held-out predictions: every (target, language, intermediate) once per scheme
    assert len(evaluation.predictions) == 2 * 4 * 8 * 6


def test_ranker_without_signal_is_no_better_than_random() -> None:
    joined, languages = _study(1)
    rng = np.random.default_rng(5)
    joined = joined.assign(gain=joined.groupby(["target", "language", "intermediate"]).gain.transform(
        lambda g: rng.normal())
    )  # fmt: skip
    table = headline(evaluate_ranker(joined, languages, resamples=500)).set_index(["scheme", "predictor"])
    random = table.loc[("leave-one-target-out", "random")]
    # against noise the ranker's interval contains random's mean shortfall
    assert random["diff_ci_low"] < 0 < random["diff_ci_high"] or abs(random["minus_ranker"]) < 0.2


def test_encoders_are_never_pooled() -> None:
    first, languages = _study(0, "a")
    second, _ = _study(7, "b")
    alone = evaluate_ranker(first, languages, resamples=200)
    both = evaluate_ranker(pd.concat([first, second]), languages, resamples=200)
    assert set(both.summary.encoder) == {"a", "b"}
    pd.testing.assert_frame_equal(
        both.summary[both.summary.encoder == "a"].reset_index(drop=True),
        alone.summary.reset_index(drop=True),
    )


def test_too_few_candidates_or_folds_is_said() -> None:
    joined, languages = _study(0)
    one_target = joined[joined.target == "t1"]
    evaluation = evaluate_ranker(one_target, languages, resamples=100)
    assert set(evaluation.summary.scheme) == {"leave-one-language-out"}
    assert any("one target only" in note for note in evaluation.notes)
    single = joined[joined.intermediate == "i0"]
    assert evaluate_ranker(single, languages).empty


def test_similarity_and_gains_are_joined_and_analysed_per_encoder() -> None:
    from xlt.analysis.transfer import analyse, join_similarity

    gains = pd.DataFrame(
        [
            {"encoder": encoder, "target": target, "intermediate": inter, "language": "macro-avg",
             "members": "x y", "gain": gain, "seeds": 3}
            for encoder, sign in (("a", 1.0), ("b", -1.0))
            for target in ("t1", "t2", "t3")
            for inter, gain in (("i1", 0.01 * sign), ("i2", 0.02 * sign), ("i3", 0.03 * sign))
        ]
    )  # fmt: skip
    similarity = pd.DataFrame(
        [
            {"encoder": encoder, "estimator": "semb", "intermediate": inter, "target": target,
             "language": "all", "similarity": value}
            for encoder in ("a", "b")
            for target in ("t1", "t2", "t3")
            for inter, value in (("i1", 0.1), ("i2", 0.2), ("i3", 0.3 if encoder == "a" else 0.35))
        ]
    )  # fmt: skip
    joined = join_similarity(gains, similarity)
    assert len(joined) == 18
    assert set(joined[joined.encoder == "b"].similarity) == {0.1, 0.2, 0.35}
    analysis = analyse(joined, permutations=200, resamples=200)
    pooled = analysis.summary.set_index("encoder").spearman
    # similarity orders the gains perfectly for a and exactly backwards for b: pooled they would cancel
    assert pooled["a"] == pytest.approx(1.0) and pooled["b"] == pytest.approx(-1.0)
    assert set(analysis.selection.encoder) == {"a", "b"}
