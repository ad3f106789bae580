"""SQuAD-style token F1 and exact match of extractive answers, normalised so that non-Latin scripts work."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

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
