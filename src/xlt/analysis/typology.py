"""What distinguishes a target language from English: typological distance (URIEL), script, data size.

Distance is the cosine distance between the language's and English's URIEL syntax vectors as lang2vec
ships them (`syntax_knn`: WALS, SSWL and Ethnologue syntax features with missing values imputed by
k-nearest-neighbour languages; Littell et al. 2017), i.e. 1 - cos(v_lang, v_eng). lang2vec is optional
(`pip install 'xlt[analysis]'`); without it distances are None.
"""

from __future__ import annotations

import os
import sys
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from xlt.tasks.iso639 import canonical

FEATURE_SET = "syntax_knn"
# a 639-1 code -> the ISO 639-3 code URIEL knows (macrolanguages -> their main individual language)
_URIEL_OF_MACRO = {
    "sw": "swh", "zh": "cmn", "ar": "arb", "ms": "zsm", "fa": "pes", "et": "ekk", "lv": "lvs", "no": "nob",
    "uz": "uzn", "ne": "npi", "mg": "plt", "ku": "kmr", "om": "gaz", "ps": "pbt", "sq": "als", "qu": "quy",
}  # fmt: skip


@lru_cache(maxsize=1)
def _lang2vec() -> object | None:
    """lang2vec's module, or None if it is not installed. Its wheel also installs a script
    `bin/lang2vec.py`, which shadows the package whenever a console script (`xlt`) runs from that
    directory: such sys.path entries are left out while it is imported."""
    shadowing = [p for p in sys.path if os.path.isfile(os.path.join(p or ".", "lang2vec.py"))]
    loaded = sys.modules.get("lang2vec")
    if loaded is not None and not hasattr(loaded, "__path__"):  # the script, imported as a module
        del sys.modules["lang2vec"]
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if p not in shadowing]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lang2vec.lang2vec as l2v
    except ImportError:
        return None
    finally:
        sys.path[:] = saved
    return l2v


def uriel_code(code: str) -> str | None:
    """The ISO 639-3 code under which URIEL has this language, or None."""
    l2v = _lang2vec()
    if l2v is None:
        return None
    known = l2v.LANGUAGES  # type: ignore[attr-defined]
    lowered = code.lower()
    if len(lowered) == 3 and lowered in known:
        return lowered
    short = canonical(lowered)
    if short in _URIEL_OF_MACRO and _URIEL_OF_MACRO[short] in known:
        return _URIEL_OF_MACRO[short]
    from xlt.tasks.iso639 import TO_639_1

    for three, two in TO_639_1.items():
        if two == short and len(three) == 3 and three in known:
            return three
    return None


@lru_cache(maxsize=512)
def distance_to_english(code: str) -> float | None:
    """1 - cosine(URIEL syntax_knn vector of the language, that of English); None if unknown."""
    l2v = _lang2vec()
    uriel = uriel_code(code)
    if l2v is None or uriel is None:
        return None
    if uriel == "eng":
        return 0.0
    features = l2v.get_features([uriel, "eng"], FEATURE_SET)  # type: ignore[attr-defined]
    a, b = (np.asarray(features[c], dtype=float) for c in (uriel, "eng"))
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 - float(a @ b) / denominator if denominator > 0 else None


def dominant_script(texts: Iterable[str]) -> str:
    """The Unicode script of most letters in `texts` (first word of the character names: LATIN, ARABIC,
    ETHIOPIC, DEVANAGARI, CJK, HANGUL, ...); 'unknown' when there are no letters."""
    counts: Counter[str] = Counter()
    for text in texts:
        for char in text:
            if char.isalpha():
                name = unicodedata.name(char, "")
                if name:
                    counts[name.split()[0]] += 1
    return counts.most_common(1)[0][0] if counts else "unknown"
