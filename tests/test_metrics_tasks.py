"""Metrics of the classification, tagging, QA and retrieval target tasks, checked on hand-computed cases."""

from __future__ import annotations

import string
import warnings

import numpy as np
import pytest

from xlt.metrics import METRICS
from xlt.metrics.classification import accuracy, macro_f1
from xlt.metrics.qa import answer_tokens, normalize_answer, qa_f1_em
from xlt.metrics.retrieval import retrieval_accuracy
from xlt.metrics.tagging import entity_f1, iob2_spans, token_accuracy

# --- accuracy and macro F1 ---------------------------------------------------------------------------------


def test_accuracy_by_hand() -> None:
    # items 0 and 2 right, 1 and 3 wrong: 2 / 4
    assert accuracy([1, 0, 2, 2], [1, 1, 2, 0]) == pytest.approx(0.5)
    assert accuracy(np.array(["pos", "neg"]), ["pos", "pos"]) == pytest.approx(0.5)
    assert accuracy([3], [3]) == 1.0


def test_accuracy_rejects_empty_and_mismatched_input() -> None:
    with pytest.raises(ValueError):
        accuracy([], [])
    with pytest.raises(ValueError):
        accuracy([1, 2], [1])
    with pytest.raises(ValueError):
        accuracy([[1, 2]], [[1, 2]])


def test_macro_f1_by_hand() -> None:
    pred, gold = ["a", "a", "b", "c"], ["a", "b", "b", "b"]
    # per class F1 = 2 tp / (n_pred + n_gold):
    #   a: tp 1, 2 predicted, 1 gold -> 2/3;  b: tp 1, 1 predicted, 3 gold -> 2/4;  c: tp 0 -> 0
    # macro = (2/3 + 1/2 + 0) / 3 = 7/18
    assert macro_f1(pred, gold) == pytest.approx(7 / 18)
    # restricted to a and b: (2/3 + 1/2) / 2 = 7/12; the c prediction still counts as an error for b
    assert macro_f1(pred, gold, labels=["a", "b"]) == pytest.approx(7 / 12)
    # d has neither gold nor predicted items: skipped, not averaged in as 0
    assert macro_f1(pred, gold, labels=["a", "b", "d"]) == pytest.approx(7 / 12)
    assert macro_f1([0, 1, 2], [0, 1, 2]) == 1.0


def test_macro_f1_edge_cases() -> None:
    with pytest.raises(ValueError):
        macro_f1([], [])
    with pytest.raises(ValueError):
        macro_f1(["a"], ["a"], labels=["z"])  # nothing left to average


def test_macro_f1_matches_sklearn() -> None:
    sk_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        gold = rng.integers(0, 4, size=30)
        pred = np.where(rng.random(30) < 0.5, gold, rng.integers(0, 4, size=30))
        expected = sk_metrics.f1_score(gold, pred, average="macro")
        assert macro_f1(pred, gold) == pytest.approx(expected)


def test_metrics_registry_holds_the_scalar_metrics() -> None:
    assert METRICS["accuracy"].function is accuracy and METRICS["macro_f1"].function is macro_f1
    assert {"spearman", "pearson"} <= METRICS.keys()
    assert METRICS["accuracy"].function(np.array([1, 2]), np.array([1, 1])) == pytest.approx(0.5)


# --- entity F1 and token accuracy --------------------------------------------------------------------------


def test_iob2_spans_follow_conlleval() -> None:
    # spans are (type, start, end exclusive)
    assert iob2_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    # an I- tag after O starts an entity
    assert iob2_spans(["O", "I-PER", "I-PER", "O"]) == {("PER", 1, 3)}
    assert iob2_spans(["I-ORG"]) == {("ORG", 0, 1)}
    # an I- tag after a different type starts a new entity
    assert iob2_spans(["B-PER", "I-LOC", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 3)}
    # B- after B- of the same type: two entities
    assert iob2_spans(["B-PER", "B-PER"]) == {("PER", 0, 1), ("PER", 1, 2)}
    assert iob2_spans(["B-MISC-X", "I-MISC-X"]) == {("MISC-X", 0, 2)}
    assert iob2_spans([]) == set()
    for bad in ("E-PER", "S-PER", "B", "B-", "o"):
        with pytest.raises(ValueError):
            iob2_spans([bad])


def test_entity_f1_by_hand() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "I-LOC"], ["O", "B-ORG", "O"]]
    # gold spans: PER 0-2, LOC 3-4 | ORG 1-3                 -> 3
    # pred spans: PER 0-2, LOC 3-4 (I- after O starts one) | ORG 1-2 -> 3
    # correct: PER and LOC -> 2;  P = 2/3, R = 2/3, F1 = 2/3
    scores = entity_f1(pred, gold)
    assert scores == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    # a span must match exactly: pred PER 0-2 (ok), LOC 2-4 (wrong start) | ORG 1-2 (wrong end)
    # -> 1 correct of 3 predicted and 3 gold: P = R = F1 = 1/3
    pred_wide = [["B-PER", "I-PER", "B-LOC", "I-LOC"], ["O", "B-ORG", "O"]]
    assert entity_f1(pred_wide, gold) == pytest.approx({"precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3})
    # pred PER 0-2 (ok), LOC 2-3 (wrong), LOC 3-4 (ok) | ORG 1-2 (wrong): 2 correct of 4 predicted, 3 gold
    # P = 2/4, R = 2/3, F1 = 2 * (1/2 * 2/3) / (1/2 + 2/3) = (2/3) / (7/6) = 4/7
    pred_more = [["B-PER", "I-PER", "B-LOC", "B-LOC"], ["O", "B-ORG", "O"]]
    assert entity_f1(pred_more, gold) == pytest.approx({"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7})


def test_entity_f1_edge_cases() -> None:
    # no entity anywhere: every ratio has a zero denominator and is 0, as in seqeval
    assert entity_f1([["O", "O"]], [["O", "O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # nothing predicted: precision 0 (not nan), recall 0
    assert entity_f1([["O"]], [["B-PER"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError):
        entity_f1([], [])
    with pytest.raises(ValueError):
        entity_f1([["O"]], [["O", "O"]])
    with pytest.raises(ValueError):
        entity_f1([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError):
        entity_f1(["B-PER"], ["B-PER"])  # a flat list of tags, not one list per sentence


def test_entity_f1_matches_seqeval_on_random_tags() -> None:
    seqeval_metrics = pytest.importorskip("seqeval.metrics")
    tagset = ["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(1, 9, size=rng.integers(1, 6))
        gold = [[tagset[i] for i in rng.integers(0, len(tagset), size=n)] for n in lengths]
        pred = [[tagset[i] for i in rng.integers(0, len(tagset), size=n)] for n in lengths]
        # half of the time, copy gold and perturb it so that many spans match
        if rng.random() < 0.5:
            pred = [
                [g if rng.random() < 0.8 else p for g, p in zip(gs, ps, strict=True)]
                for gs, ps in zip(gold, pred, strict=True)
            ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns when a denominator is 0
            expected = {
                "precision": seqeval_metrics.precision_score(gold, pred),
                "recall": seqeval_metrics.recall_score(gold, pred),
                "f1": seqeval_metrics.f1_score(gold, pred),
            }
        assert entity_f1(pred, gold) == pytest.approx(expected)


def test_token_accuracy_pools_tokens() -> None:
    pred = [["NOUN", "VERB"], ["DET", "NOUN", "PUNCT"]]
    gold = [["NOUN", "NOUN"], ["DET", "NOUN", "PUNCT"]]
    # 4 of 5 tokens right -> 0.8 (a mean of per-sentence accuracies would give (1/2 + 1) / 2 = 0.75)
    assert token_accuracy(pred, gold) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        token_accuracy([["NOUN"]], [["NOUN", "VERB"]])
    with pytest.raises(ValueError):
        token_accuracy([], [])
    with pytest.raises(ValueError):
        token_accuracy([[]], [[]])  # no tokens


# --- extractive QA -----------------------------------------------------------------------------------------


def test_normalize_answer_english_like_squad() -> None:
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("U.S. $5") == "us 5"  # ASCII symbols of string.punctuation go too, as in SQuAD
    assert normalize_answer("an apple, a pear", "en") == "apple pear"
    # only English articles are implemented: other languages keep every word
    assert normalize_answer("The Beatles", "de") == "the beatles"


def test_normalize_answer_removes_non_ascii_punctuation() -> None:
    assert "،" not in string.punctuation and "「" not in string.punctuation
    assert normalize_answer("القاهرة، مصر", "ar") == "القاهرة مصر"  # Arabic comma U+060C
    assert normalize_answer("「東京」", "ja") == "東 京"
    assert normalize_answer("«Paris» — France", "fr") == "paris france"
    assert normalize_answer("Москва.", "ru") == "москва"


def test_answer_tokens_segment_scripts_without_spaces() -> None:
    assert answer_tokens("北京大学", "zh") == ["北", "京", "大", "学"]
    # CJK characters are split whatever the language; other runs stay whitespace tokens
    assert answer_tokens("2008年北京 Olympics") == ["2008", "年", "北", "京", "olympics"]
    assert answer_tokens("ひらがなカタカナ", "ja") == ["ひ", "ら", "が", "な", "カ", "タ", "カ", "ナ"]
    # a Thai combining vowel stays with its consonant: ก + ิ (U+0E34), then น
    assert answer_tokens("กิน", "th") == ["กิ", "น"]
    assert answer_tokens("서울 대학교", "ko") == ["서울", "대학교"]  # Korean is written with spaces
    assert answer_tokens("the", "en") == []
    assert normalize_answer("北京 大学") == normalize_answer("北京大学") == "北 京 大 学"


def test_qa_f1_em_by_hand() -> None:
    predictions = {"q1": "Eiffel Tower in Paris", "q2": "a dog."}
    references = {"q1": ["the Eiffel Tower", "Paris"], "q2": ["Dog"]}
    # q1: pred tokens [eiffel tower in paris]
    #     vs [eiffel tower]: 2 common, P = 2/4, R = 2/2, F1 = 2 * (1/2 * 1) / (3/2) = 2/3
    #     vs [paris]:        1 common, P = 1/4, R = 1/1, F1 = 2 * (1/4) / (5/4) = 2/5  -> max 2/3, EM 0
    # q2: "dog" == "dog": F1 1, EM 1
    # means: F1 = (2/3 + 1) / 2 = 5/6, EM = 1/2
    scores = qa_f1_em(predictions, references, "en")
    assert scores == pytest.approx({"exact_match": 0.5, "f1": 5 / 6})


def test_qa_f1_em_cjk_per_character() -> None:
    # tokens 北 京 大 学 vs 北 京: 2 common, P = 2/4, R = 2/2, F1 = 2 * (2/4 * 2/2) / (2/4 + 2/2) = 2/3
    assert qa_f1_em({"q": "北京大学"}, {"q": ["北京"]}, "zh") == pytest.approx(
        {"exact_match": 0.0, "f1": 2 / 3}
    )
    # segmentation and punctuation do not change an exact match
    assert qa_f1_em({"q": "「北京 大学」"}, {"q": ["北京大学。"]}, "zh") == {"exact_match": 1.0, "f1": 1.0}


def test_qa_f1_em_edge_cases() -> None:
    # an answer that normalises to nothing matches exactly but has F1 0, as in the SQuAD script
    assert qa_f1_em({"q": "The"}, {"q": ["the"]}) == {"exact_match": 1.0, "f1": 0.0}
    # predictions for other ids are ignored
    assert qa_f1_em({"q": "x", "other": "y"}, {"q": ["x"]}) == {"exact_match": 1.0, "f1": 1.0}
    with pytest.raises(ValueError):
        qa_f1_em({}, {"q": ["x"]})  # missing prediction
    with pytest.raises(ValueError):
        qa_f1_em({"q": "x"}, {})
    with pytest.raises(ValueError):
        qa_f1_em({"q": "x"}, {"q": []})


# --- retrieval ---------------------------------------------------------------------------------------------


def test_retrieval_accuracy_by_hand() -> None:
    # target 0 = (1, 1) is a hub; rows are scaled on purpose (cosine must normalise them)
    source = np.array([[2.0, 2.0], [1.0, 0.9], [0.0, 3.0]])
    target = np.array([[1.0, 1.0], [5.0, 0.0], [0.0, 1.0]])
    # source -> target:  s0 = (1,1)/√2: cos 1 with t0 -> 0 right
    #   s1 = (1, .9): cos with t0 = 1.9 / (√2 · √1.81) = .9989, with t1 = 1 / √1.81 = .743 -> 0, wrong
    #   s2 = (0, 1): cos 1 with t2 -> right                                                  => 2/3
    # target -> source: t0 -> s0 (1 > .9989 > .707) right; t1 = (1,0) -> s0 .707, s1 .743, s2 0: s1 right
    #   t2 = (0,1) -> s2 right                                                               => 3/3
    scores = retrieval_accuracy(source, target)
    assert scores == pytest.approx({"source_to_target": 2 / 3, "target_to_source": 1.0, "mean": 5 / 6})


def test_retrieval_accuracy_permuted() -> None:
    rng = np.random.default_rng(0)
    source = rng.normal(size=(6, 8))
    assert retrieval_accuracy(source, 3 * source) == {
        "source_to_target": 1.0,
        "target_to_source": 1.0,
        "mean": 1.0,
    }
    # swapping target rows 0 and 1 makes items 0 and 1 wrong both ways: 4/6 right
    permuted = source[[1, 0, 2, 3, 4, 5]]
    scores = retrieval_accuracy(source, permuted)
    assert scores == pytest.approx({"source_to_target": 4 / 6, "target_to_source": 4 / 6, "mean": 4 / 6})
    # a full cyclic shift: nothing right
    assert retrieval_accuracy(source, np.roll(source, 1, axis=0))["mean"] == 0.0


def test_retrieval_accuracy_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        retrieval_accuracy(np.zeros((0, 4)), np.zeros((0, 4)))
    with pytest.raises(ValueError):
        retrieval_accuracy(np.ones((3, 4)), np.ones((2, 4)))  # not line-aligned
    with pytest.raises(ValueError):
        retrieval_accuracy(np.array([[0.0, 0.0], [1.0, 0.0]]), np.eye(2))  # all-zero row
    with pytest.raises(ValueError):
        retrieval_accuracy(np.array([[np.nan, 0.0], [1.0, 0.0]]), np.eye(2))
