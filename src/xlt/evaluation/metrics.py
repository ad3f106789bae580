"""Metrics as pure functions of predictions and gold labels."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


def spearman(predictions: ArrayLike, gold: ArrayLike) -> float:
    """Spearman's rho with average ranks for ties (as the SemRel and STS organisers compute it)."""
    pred, ref = np.asarray(predictions, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if pred.shape != ref.shape or pred.ndim != 1:
        raise ValueError(f"spearman needs two 1-d arrays of one length, got {pred.shape} and {ref.shape}")
    if len(pred) < 2 or np.all(pred == pred[0]) or np.all(ref == ref[0]):
        return float("nan")
    return float(stats.spearmanr(pred, ref).statistic)


def pearson(predictions: ArrayLike, gold: ArrayLike) -> float:
    pred, ref = np.asarray(predictions, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if len(pred) < 2 or np.all(pred == pred[0]) or np.all(ref == ref[0]):
        return float("nan")
    return float(stats.pearsonr(pred, ref).statistic)


def rowwise_spearman(predictions: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman of each row of two (n_rows, n) arrays at once (used by the bootstrap)."""
    pred = stats.rankdata(predictions, axis=1)
    ref = stats.rankdata(gold, axis=1)
    pred -= pred.mean(axis=1, keepdims=True)
    ref -= ref.mean(axis=1, keepdims=True)
    denom = np.sqrt((pred**2).sum(axis=1) * (ref**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((pred * ref).sum(axis=1) / denom)


# ---------------------------------------------------------------------------------------------------------
# Conventions shared by the metrics below
# - Every score is a fraction in [0, 1] (QA included, unlike the official SQuAD / MLQA scripts, which
#   print percentages), so all metrics of a study are on one scale.
# - Empty input (no items, no sentences, no tokens, no questions) raises ValueError: a metric of nothing
#   is undefined and in practice means an upstream bug (a wrong language or split filter). This differs
#   from spearman / pearson above, which return nan for degenerate-but-nonempty input.
# - Inputs whose lengths disagree raise ValueError rather than being truncated.
# ---------------------------------------------------------------------------------------------------------

Metric = Callable[[ArrayLike, ArrayLike], float]


def _labels_1d(values: ArrayLike, name: str) -> list[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {array.shape}")
    return list(array.tolist())


def _paired_labels(predictions: ArrayLike, gold: ArrayLike) -> tuple[list[Any], list[Any]]:
    pred, ref = _labels_1d(predictions, "predictions"), _labels_1d(gold, "gold")
    if len(pred) != len(ref):
        raise ValueError(f"predictions and gold differ in length: {len(pred)} != {len(ref)}")
    if not ref:
        raise ValueError("cannot score empty input")
    return pred, ref


def accuracy(predictions: ArrayLike, gold: ArrayLike) -> float:
    """Fraction of items whose predicted label equals the gold label (XNLI, PAWS-X, XCOPA).

    Labels are compared as Python values, so ints and strings both work; empty input raises ValueError.
    """
    pred, ref = _paired_labels(predictions, gold)
    return sum(p == g for p, g in zip(pred, ref, strict=True)) / len(ref)


def macro_f1(predictions: ArrayLike, gold: ArrayLike, labels: Sequence[Hashable] | None = None) -> float:
    """Unweighted mean of per-class F1 (UMSAB sentiment), so rare classes weigh as much as frequent ones.

    Classes are the union of gold and predicted labels, or `labels` if given (items with other labels then
    still count as errors, as in sklearn). A class with neither gold nor predicted items is skipped (sklearn
    would count it as F1 = 0); a class with precision + recall = 0 has F1 = 0. Per class,
    F1 = 2 tp / (n_predicted + n_gold), which equals 2PR / (P + R). Empty input, or `labels` none of which
    occurs, raises ValueError.
    """
    pred, ref = _paired_labels(predictions, gold)
    n_pred, n_gold = Counter(pred), Counter(ref)
    true_pos = Counter(g for p, g in zip(pred, ref, strict=True) if p == g)
    classes = list(dict.fromkeys(labels)) if labels is not None else list(dict.fromkeys([*ref, *pred]))
    scores = [2 * true_pos[c] / (n_pred[c] + n_gold[c]) for c in classes if n_pred[c] + n_gold[c] > 0]
    if not scores:
        raise ValueError("none of the given labels occurs in predictions or gold")
    return float(np.mean(scores))


# --- token tagging -----------------------------------------------------------------------------------------


def _paired_sentences(
    pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]
) -> list[tuple[Sequence[str], Sequence[str]]]:
    if len(pred_tags) != len(gold_tags):
        raise ValueError(f"{len(pred_tags)} predicted sentences but {len(gold_tags)} gold sentences")
    if not gold_tags:
        raise ValueError("cannot score empty input")
    pairs = list(zip(pred_tags, gold_tags, strict=True))
    for i, (pred, gold) in enumerate(pairs):
        if isinstance(pred, str) or isinstance(gold, str):
            raise ValueError("tags must be given as one list of tags per sentence, not as strings")
        if len(pred) != len(gold):
            raise ValueError(f"sentence {i}: {len(pred)} predicted tags but {len(gold)} gold tags")
    return pairs


def iob2_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Entity spans (type, start, end exclusive) of one IOB2 tag sequence, with conlleval semantics.

    As conlleval and seqeval's default mode do, an I- tag that does not continue an entity of its own type
    (after O, or after a different type) starts a new entity instead of being dropped. Tags other than
    "O", "B-<type>" and "I-<type>" raise ValueError.
    """
    spans: set[tuple[str, int, int]] = set()
    open_type: str | None = None
    open_start = 0
    for i, tag in enumerate(tags):
        if tag == "O":
            prefix, entity_type = "O", None
        elif tag[:2] in ("B-", "I-") and len(tag) > 2:
            prefix, entity_type = tag[0], tag[2:]
        else:
            raise ValueError(f"not an IOB2 tag: {tag!r}")
        if prefix == "I" and entity_type == open_type:
            continue  # the open entity goes on
        if open_type is not None:
            spans.add((open_type, open_start, i))
        open_type, open_start = entity_type, i
    if open_type is not None:
        spans.add((open_type, open_start, len(tags)))
    return spans


def entity_f1(pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision / recall / F1 over entity spans of IOB2-tagged sentences (MasakhaNER, CoNLL).

    Same numbers as seqeval's default (conlleval) mode: spans come from `iob2_spans`, and a predicted span
    is correct only if start, end and type all match a gold span of the same sentence. As in seqeval, a
    ratio with a zero denominator (no predicted / no gold entities) is 0. Sentences must pair up with
    equal lengths; no sentences at all raises ValueError.
    """
    n_pred = n_gold = n_correct = 0
    for pred, gold in _paired_sentences(pred_tags, gold_tags):
        pred_spans, gold_spans = iob2_spans(pred), iob2_spans(gold)
        n_pred += len(pred_spans)
        n_gold += len(gold_spans)
        n_correct += len(pred_spans & gold_spans)
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def token_accuracy(pred_tags: Sequence[Sequence[str]], gold_tags: Sequence[Sequence[str]]) -> float:
    """Fraction of correct tags over all tokens of all sentences pooled (UPOS), not a mean per sentence.

    Each predicted sentence must have as many tags as its gold sentence (else ValueError), since a length
    mismatch means the tokenisation was not preserved; no tokens at all raises ValueError.
    """
    correct = total = 0
    for pred, gold in _paired_sentences(pred_tags, gold_tags):
        correct += sum(p == g for p, g in zip(pred, gold, strict=True))
        total += len(gold)
    if total == 0:
        raise ValueError("cannot score empty input: no tokens")
    return correct / total


# --- extractive QA -----------------------------------------------------------------------------------------

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_ENGLISH_ARTICLES = re.compile(r"\b(a|an|the)\b")

# Scripts written without spaces between words. Each character of these is its own token (MLQA's "mixed
# segmentation", which MLQA applies to Chinese only and to U+4E00-U+9FA5 only; here to all of them).
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x20000, 0x323AF),  # CJK unified ideographs extensions B-H and compatibility supplement
)


def _is_punctuation(char: str) -> bool:
    """Punctuation as MLQA defines it: every character of a Unicode P* category, plus string.punctuation
    (adding the ASCII symbols $ + < = > ^ ` | ~), so ASCII text normalises exactly as in SQuAD v1.1."""
    return char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P")


def _is_no_space_char(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _NO_SPACE_RANGES)


def _segment(text: str) -> list[str]:
    """Whitespace tokens, except that each no-space-script character (with its combining marks) is one."""
    tokens: list[str] = []
    word: list[str] = []
    last_was_char_token = False
    for char in text:
        if char.isspace():
            if word:
                tokens.append("".join(word))
                word = []
            last_was_char_token = False
        elif _is_no_space_char(char) and not unicodedata.category(char).startswith("M"):
            if word:
                tokens.append("".join(word))
                word = []
            tokens.append(char)
            last_was_char_token = True
        elif unicodedata.category(char).startswith("M") and last_was_char_token and not word:
            tokens[-1] += char  # a Thai vowel or tone mark, a kana voicing mark: part of the character
        else:
            word.append(char)
            last_was_char_token = False
    if word:
        tokens.append("".join(word))
    return tokens


def normalize_answer(text: str, language: str | None = None) -> str:
    """Normalise an answer for SQuAD-style comparison, in a way that also works for non-Latin scripts.

    Following MLQA's evaluation: lowercase; delete every Unicode punctuation character (category P*) and
    ASCII string.punctuation; remove the English articles a / an / the when `language` is None, "en" or
    "eng" (MLQA also removes es / de / vi / ar articles; only English is implemented, so no articles are
    removed for any other language); then segment with `_segment` (whitespace tokens, but one token per
    Chinese / Japanese / Thai / Lao / Khmer / Myanmar character, whatever `language` is) and join the
    tokens with single spaces. Thus "北京 大学" and "北京大学" both normalise to "北 京 大 学".
    """
    text = "".join(char for char in text.lower() if not _is_punctuation(char))
    if language is None or language in ("en", "eng"):
        text = _ENGLISH_ARTICLES.sub(" ", text)
    return " ".join(_segment(text))


def answer_tokens(text: str, language: str | None = None) -> list[str]:
    """Tokens of a normalised answer, as used by the token-overlap F1 (see `normalize_answer`)."""
    return _split_normalized(normalize_answer(text, language))


def _split_normalized(normalized: str) -> list[str]:
    return normalized.split(" ") if normalized else []


def _overlap_f1(prediction: list[str], reference: list[str]) -> float:
    common = sum((Counter(prediction) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(reference)
    return 2 * precision * recall / (precision + recall)


def qa_f1_em(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str | None = None
) -> dict[str, float]:
    """SQuAD-style token F1 and exact match, each the max over a question's gold answers, then averaged.

    Scores are fractions in [0, 1] (the official SQuAD / MLQA scripts print percentages). Answers are
    compared after `normalize_answer(text, language)`. As in those scripts, an answer that normalises to
    nothing has F1 0 even against an empty gold answer (but exact match 1). Every question of `references`
    needs a prediction (a missing one raises ValueError instead of silently scoring 0 as SQuAD's script
    does); predictions for other ids are ignored. Empty `references` or an empty gold list raise ValueError.
    """
    if not references:
        raise ValueError("cannot score empty input: no questions")
    missing = [qid for qid in references if qid not in predictions]
    if missing:
        raise ValueError(f"{len(missing)} questions have no prediction, e.g. {missing[:3]}")
    f1_total = em_total = 0.0
    for qid, answers in references.items():
        if isinstance(answers, str) or not answers:
            raise ValueError(f"question {qid!r}: gold answers must be a non-empty list of strings")
        pred_norm = normalize_answer(predictions[qid], language)
        pred_tokens = _split_normalized(pred_norm)
        gold_norms = [normalize_answer(answer, language) for answer in answers]
        em_total += max(float(pred_norm == gold) for gold in gold_norms)
        f1_total += max(_overlap_f1(pred_tokens, _split_normalized(gold)) for gold in gold_norms)
    return {"exact_match": em_total / len(references), "f1": f1_total / len(references)}


# --- retrieval ---------------------------------------------------------------------------------------------


def retrieval_accuracy(source_emb: np.ndarray, target_emb: np.ndarray) -> dict[str, float]:
    """Accuracy@1 of nearest-neighbour search by cosine similarity, both ways (Tatoeba).

    Rows i of the two (n, d) arrays embed a translation pair, so item i's correct match is i. Rows are
    L2-normalised here. Ties go to the lowest index (np.argmax), which matters only for identical
    embeddings such as duplicate sentences. Returns "source_to_target" (each source row queries all target
    rows), "target_to_source" and their "mean". No rows, an all-zero row (it has no direction, and the
    tie rule would silently match it to row 0) or a non-finite value raises ValueError.
    """
    source, target = np.asarray(source_emb, dtype=np.float64), np.asarray(target_emb, dtype=np.float64)
    if source.ndim != 2 or source.shape != target.shape:
        raise ValueError(f"need two (n, d) arrays of one shape, got {source.shape} and {target.shape}")
    if len(source) == 0:
        raise ValueError("cannot score empty input: no sentences")
    if not (np.isfinite(source).all() and np.isfinite(target).all()):
        raise ValueError("embeddings contain nan or inf")

    def unit_rows(matrix: np.ndarray, name: str) -> np.ndarray:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not (norms > 0).all():
            raise ValueError(f"{name} has all-zero rows, e.g. row {int(np.argmin(norms[:, 0] > 0))}")
        return np.asarray(matrix / norms)

    similarity = unit_rows(source, "source_emb") @ unit_rows(target, "target_emb").T
    expected = np.arange(len(source))
    forward = float(np.mean(similarity.argmax(axis=1) == expected))
    backward = float(np.mean(similarity.argmax(axis=0) == expected))
    return {"source_to_target": forward, "target_to_source": backward, "mean": (forward + backward) / 2}


METRICS: dict[str, Metric] = {
    "spearman": spearman,
    "pearson": pearson,
    "accuracy": accuracy,
    "macro_f1": macro_f1,
}
