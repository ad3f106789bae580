"""The one language-code scheme of task files, built-in and the user's own, so that a typo ('sw' vs 'sww')
is caught before anything runs, while any real language is accepted.

The table is the official ISO 639-3 code table as shipped by `pycountry` (every individual language and
macrolanguage, with its ISO 639-1 code and ISO 639-2/B code where it has them), plus the ISO 639-5 codes of
language groups (Tatoeba's 'ber') and the withdrawn codes still found in data: 'bh' (Bihari) and Tatoeba's
'kzj' (Coastal Kadazan, merged into 'dtp' in 2016). A task keeps the codes
of its upstream files in its results (semrel 'eng', masakhaner 'hau', xnli 'de'); `canonical` maps every
code of one language to one code for comparisons across tasks. The built-in tasks are checked against this
table like any task file, never against themselves.
"""

from __future__ import annotations

import difflib

import pycountry


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(code -> English name for every ISO 639-1/-2/-3/-5 code, 639-2/639-3 code -> its 639-1 code)."""
    names: dict[str, str] = {"bh": "Bihari", "bih": "Bihari", "kzj": "Coastal Kadazan"}
    to_639_1: dict[str, str] = {"bh": "bh", "bih": "bh"}
    for family in pycountry.language_families:
        names[family.alpha_3] = family.name
    for language in pycountry.languages:
        codes = [language.alpha_3]
        for attribute in ("alpha_2", "bibliographic"):
            if hasattr(language, attribute):
                codes.append(getattr(language, attribute))
        for code in codes:
            names[code] = language.name
            if hasattr(language, "alpha_2"):
                to_639_1[code] = language.alpha_2
    return names, to_639_1


LANGUAGE_NAMES, TO_639_1 = _tables()
KNOWN_CODES = frozenset(LANGUAGE_NAMES)
# lower-case English name -> code (the 639-1 code where there is one), for 'German' written for 'de'
_CODE_BY_NAME: dict[str, str] = {}
for _code, _name in sorted(LANGUAGE_NAMES.items(), key=lambda item: (len(item[0]), item[0])):
    _CODE_BY_NAME.setdefault(_name.lower(), _code)

# ISO 639-3 codes of individual languages (and dataset-specific codes) inside a 639-1 macrolanguage
ALIASES = {
    "swh": "sw", "cmn": "zh", "zsm": "ms", "pes": "fa", "lvs": "lv", "arb": "ar", "nob": "no", "ekk": "et",
    "plt": "mg", "kmr": "ku", "uzn": "uz", "npi": "ne", "tgl": "tl", "fil": "tl",
}  # fmt: skip


def canonical(code: str) -> str:
    """The 639-1 code of a language where it has one, else its (lower-case) 639-3 code."""
    lowered = code.lower()
    lowered = ALIASES.get(lowered, lowered)
    return TO_639_1.get(lowered, lowered)


def language_problem(code: str) -> str | None:
    """None for a known code, else what is wrong with it and, where the code meant is clear, that code.

    Almost every three-letter string is one letter away from a real code, so a guess by spelling would name
    an unrelated language (bzd -> Tibetan); only a different case, a language's name, or an unknown
    three-letter code that starts with a 639-1 code ('yoo': 'yo', typed for 'yor') gets a suggestion."""
    if code in KNOWN_CODES:
        return None
    lowered = code.strip().lower()
    suggestion: str | None = None
    if lowered in KNOWN_CODES:
        suggestion = lowered
    elif lowered in _CODE_BY_NAME:
        suggestion = _CODE_BY_NAME[lowered]
    elif len(lowered) == 3 and len(TO_639_1.get(lowered[:2], "")) == 2:
        suggestion = lowered[:2]
    elif len(lowered) > 3:
        close = difflib.get_close_matches(lowered, list(_CODE_BY_NAME), n=1, cutoff=0.85)
        suggestion = _CODE_BY_NAME[close[0]] if close else None
    hint = f" (did you mean '{suggestion}', {LANGUAGE_NAMES[suggestion]}?)" if suggestion else ""
    return (
        f"unknown language code '{code}'{hint}; use an ISO 639-1 or ISO 639-3 code "
        "(the code table: https://iso639-3.sil.org/code_tables/639/data)"
    )
