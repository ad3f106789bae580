"""Text perturbations for robust training and robustness evaluation (PROTOCOLS.md, "Robustness").

Every random function takes a `numpy.random.Generator` and is deterministic given its state. Words are
maximal runs of non-whitespace characters; the whitespace between, before and after them is kept exactly,
so a perturbation that changes nothing returns the input string unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from xlt.robustness.neighbours import Neighbours

_WORD = re.compile(r"\S+")

CharOp = Literal["delete", "insert", "substitute", "swap"]
T = TypeVar("T")


# ---- words ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """A text cut into words: `lead + words[0] + gaps[0] + words[1] + ... + words[-1] + tail == text`
    (`gaps[i]` is the whitespace between words i and i + 1). A text without words is all `lead`."""

    lead: str
    words: tuple[str, ...]
    gaps: tuple[str, ...]
    tail: str


def split_words(text: str) -> Words:
    """Cut `text` into whitespace-separated words and the exact whitespace around them."""
    spans = [match.span() for match in _WORD.finditer(text)]
    if not spans:
        return Words(text, (), (), "")
    words = tuple(text[start:end] for start, end in spans)
    gaps = tuple(text[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1))
    return Words(text[: spans[0][0]], words, gaps, text[spans[-1][1] :])


def join_words(parts: Words) -> str:
    """The inverse of `split_words`."""
    pieces = [parts.lead]
    for index, word in enumerate(parts.words):
        if index > 0:
            pieces.append(parts.gaps[index - 1])
        pieces.append(word)
    pieces.append(parts.tail)
    return "".join(pieces)


def _check_rate(rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")


# ---- RS-DA synonym substitution ---------------------------------------------------------------------------


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def split_punctuation(word: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation) of a word; punctuation is any Unicode P* character.
    A word made only of punctuation is all prefix."""
    start = 0
    while start < len(word) and _is_punctuation(word[start]):
        start += 1
    end = len(word)
    while end > start and _is_punctuation(word[end - 1]):
        end -= 1
    return word[:start], word[start:end], word[end:]


def match_case(original: str, replacement: str) -> str:
    """`replacement` in the casing pattern of `original`: upper case if `original` is all capitals with at
    least two letters ("USA"), capitalised if `original` starts with a capital ("Movie", "I"), else as is."""
    letters = [char for char in original if char.isalpha()]
    if len(letters) >= 2 and all(char.isupper() for char in letters):
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def substitute_word(word: str, neighbours: Neighbours, rng: np.random.Generator) -> str:
    """One RS-DA draw for one whitespace word: its core (punctuation stripped) is replaced by a uniform draw
    from {core} ∪ neighbours(core lowercased), in the core's casing, with the punctuation re-attached. A word
    without neighbours is returned unchanged and consumes no random numbers."""
    prefix, core, suffix = split_punctuation(word)
    candidates = neighbours.of(core) if core else ()
    if not candidates:
        return word
    choice = int(rng.integers(len(candidates) + 1))
    if choice == 0:
        return word
    return prefix + match_case(core, candidates[choice - 1]) + suffix


def synonym_substitute(text: str, neighbours: Neighbours, rng: np.random.Generator) -> str:
    """Randomized-smoothing data augmentation (RS-DA; Dong et al. 2021, after Huang et al. 2019): every
    whitespace word independently becomes a uniform draw from itself and its counter-fitted neighbours
    (see `substitute_word`). Whitespace is kept exactly."""
    parts = split_words(text)
    words = tuple(substitute_word(word, neighbours, rng) for word in parts.words)
    return join_words(Words(parts.lead, words, parts.gaps, parts.tail))


def augment_copies(text: str, neighbours: Neighbours, k: int, rng: np.random.Generator) -> list[str]:
    """`k` independent RS-DA copies of `text` (the original itself is not among them)."""
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    return [synonym_substitute(text, neighbours, rng) for _ in range(k)]


# ---- character noise --------------------------------------------------------------------------------------


def text_alphabet(text: str) -> tuple[str, ...]:
    """The distinct alphabetic characters (`str.isalpha`) of `text`, sorted."""
    return tuple(sorted({char for char in text if char.isalpha()}))


def _char_ops(chars: list[str], index: int, alphabet: tuple[str, ...]) -> tuple[CharOp, ...]:
    """The operations applicable to the letter at `index`: substitution needs a second letter in the
    alphabet, a swap needs a letter right after this one (so non-letters never move)."""
    ops: list[CharOp] = ["delete", "insert"]
    if len(alphabet) > 1:
        ops.append("substitute")
    if index + 1 < len(chars) and chars[index + 1].isalpha():
        ops.append("swap")
    return tuple(ops)


def _pick(options: Sequence[T], rng: np.random.Generator) -> T:
    """A uniform draw from a non-empty sequence."""
    return options[int(rng.integers(len(options)))]


def char_noise(text: str, rate: float, rng: np.random.Generator) -> str:
    """Character-level noise on letters only.

    Reading left to right, each alphabetic character (a Unicode code point for which `str.isalpha` holds)
    is, with probability `rate`, subjected to one operation drawn uniformly from those applicable to it:
    deletion; insertion of a letter drawn from the text's own alphabet right after it; substitution by a
    different letter of that alphabet (only if the alphabet has two or more letters); swap with the next
    character (only if that is a letter too; the swapped-in letter is then not perturbed again). Inserted
    letters are never perturbed.

    Guarantees: with `rate` 0 the text is returned unchanged; the non-letter characters of the output are
    exactly those of the input, in the same order (only letters are deleted, inserted or moved, and only
    among letters); every letter of the output belongs to the input's alphabet. Combining marks are not
    letters: deleting a base letter leaves its marks on the preceding character.
    """
    _check_rate(rate)
    alphabet = text_alphabet(text)
    chars = list(text)
    out: list[str] = []
    index = 0
    while index < len(chars):
        char = chars[index]
        if not char.isalpha() or rng.random() >= rate:
            out.append(char)
            index += 1
            continue
        op = _pick(_char_ops(chars, index, alphabet), rng)
        if op == "insert":
            out.extend((char, _pick(alphabet, rng)))
        elif op == "substitute":
            out.append(_pick(tuple(letter for letter in alphabet if letter != char), rng))
        elif op == "swap":
            out.extend((chars[index + 1], char))
            index += 1
        index += 1
    return "".join(out)


# ---- diacritics -------------------------------------------------------------------------------------------


def _is_nonspacing_mark(char: str) -> bool:
    return unicodedata.category(char) == "Mn"


def strip_diacritics(text: str) -> str:
    """Remove diacritics: NFD-decompose, drop the non-spacing combining marks (Unicode category Mn),
    NFC-recompose. Yoruba "Ọ̀yọ́" becomes "Oyo" and French "élève" "eleve".

    Letters that are distinct letters rather than a base letter plus a mark have no decomposition and stay:
    the Hausa hooked letters ɓ, ɗ, ƙ, ƴ (and e.g. ø, ł, đ). Spacing marks (Mc) and enclosing marks (Me)
    stay too. In scripts that write vowels or other signs as Mn marks (Arabic harakat, Devanagari virama
    and some vowel signs, Hebrew points) these are removed as well: for such scripts this is vowel
    stripping, not only accent stripping. The result is idempotent: `has_diacritics` is False on it.
    """
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if not _is_nonspacing_mark(char))
    return unicodedata.normalize("NFC", kept)


def has_diacritics(text: str) -> bool:
    """Whether `strip_diacritics` would remove anything: the NFD form holds a combining mark (Mn)."""
    return any(_is_nonspacing_mark(char) for char in unicodedata.normalize("NFD", text))


# ---- word-level perturbations -----------------------------------------------------------------------------


def word_drop(text: str, rate: float, rng: np.random.Generator) -> str:
    """Drop each whitespace word independently with probability `rate`, but never every word: if all were
    drawn for dropping, one of them, chosen uniformly, is kept. A kept word keeps the whitespace that
    preceded it in the input (the first kept word gets the input's leading whitespace); the trailing
    whitespace is kept. A text without words is returned unchanged."""
    _check_rate(rate)
    parts = split_words(text)
    if not parts.words:
        return text
    keep = rng.random(len(parts.words)) >= rate
    if not keep.any():
        keep[int(rng.integers(len(parts.words)))] = True
    kept = [index for index in range(len(parts.words)) if keep[index]]
    words = tuple(parts.words[index] for index in kept)
    gaps = tuple(parts.gaps[index - 1] for index in kept[1:])
    return join_words(Words(parts.lead, words, gaps, parts.tail))


def swap_plan(n_words: int, rate: float, rng: np.random.Generator) -> list[int]:
    """The left indices i of the adjacent pairs (i, i + 1) to swap: scanning left to right, the pair at the
    current word is swapped with probability `rate`; after a swap the scan moves past both words, so each
    word is in at most one swap."""
    _check_rate(rate)
    plan: list[int] = []
    index = 0
    while index + 1 < n_words:
        if rng.random() < rate:
            plan.append(index)
            index += 2
        else:
            index += 1
    return plan


def word_swap(text: str, rate: float, rng: np.random.Generator) -> str:
    """Swap adjacent whitespace words following `swap_plan`; whitespace stays where it was, so the words
    (as a multiset) and every gap are preserved."""
    parts = split_words(text)
    words = list(parts.words)
    for index in swap_plan(len(words), rate, rng):
        words[index], words[index + 1] = words[index + 1], words[index]
    return join_words(Words(parts.lead, tuple(words), parts.gaps, parts.tail))
