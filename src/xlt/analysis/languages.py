"""Language groups of the gains table: African, low- and high-resource, and XTREME-R's languages.

Tasks name languages by ISO 639-1 (xnli: 'sw') or ISO 639-3 codes (semrel: 'hau', tatoeba: 'swh'); each is
mapped to one canonical code (639-1 where it exists) before it is looked up here.

Resource level is the size of the encoder's pre-training data in the language. xlt uses CC-100, the corpus
of XLM-R, for every encoder: the sizes below are those of Conneau et al. (2020), "Unsupervised Cross-lingual
Representation Learning at Scale", Appendix A, Table 6 (GiB of text). multilingual-e5-small (me5-small)
starts from Multilingual-MiniLM, which was distilled from XLM-R on this corpus; e5's own contrastive
pre-training pairs are not counted. For mBERT (Wikipedia) these sizes are a proxy. A language that is not
in CC-100 (Yoruba, Wolof, Kinyarwanda, the Arabic dialects arq/ary/arz, ...) counts as 0 GiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlt.tasks.iso639 import canonical as canonical  # re-exported: groups are looked up by it

SIZE_SOURCE = (
    "CC-100 GiB per language, Conneau et al. 2020 (XLM-R), Appendix A Table 6; "
    "absent languages count as 0 GiB"
)
HIGH_RESOURCE_GIB = 10.0

# Table 6 of the XLM-R paper; zh is Simplified Chinese (the script of the test sets), my adds both
# Burmese encodings, and the romanised variants are left out.
CC100_GIB: dict[str, float] = {
    "en": 300.8, "vi": 137.3, "ru": 278.0, "id": 148.3, "fa": 111.6, "sv": 85.0, "ro": 61.4, "de": 66.6,
    "fr": 56.8, "es": 53.3, "no": 49.0, "pt": 49.1, "da": 45.6, "hu": 58.4, "uk": 84.6, "fi": 54.3,
    "pl": 44.6, "ko": 54.2, "bg": 57.5, "nl": 29.3, "it": 30.2, "el": 46.9, "sk": 23.2, "he": 31.6,
    "hr": 20.5, "ar": 28.0, "tr": 20.9, "cs": 16.3, "lt": 13.7, "th": 71.7, "ca": 10.1, "hi": 20.2,
    "sl": 10.3, "ms": 8.5, "lv": 8.8, "sq": 5.4, "et": 6.1, "sr": 9.1, "az": 6.5, "ur": 5.7, "ta": 12.2,
    "tl": 3.1, "ja": 69.3, "bn": 8.4, "is": 3.2, "gl": 2.9, "kk": 6.4, "ka": 9.1, "mk": 4.8, "hy": 5.5,
    "la": 2.5, "be": 4.3, "ml": 7.6, "sw": 1.6, "eu": 2.0, "zh": 46.9, "te": 4.7, "mn": 3.0, "si": 3.6,
    "af": 1.3, "ne": 3.8, "mr": 2.8, "kn": 3.3, "eo": 0.9, "cy": 0.8, "gu": 1.9, "ps": 0.7, "ky": 1.2,
    "uz": 0.7, "ga": 0.5, "am": 0.8, "pa": 0.8, "ku": 0.4, "so": 0.4, "ha": 0.3, "my": 2.0, "sd": 0.4,
    "km": 1.5, "or": 0.6, "yi": 0.3, "fy": 0.2, "ug": 0.4, "mg": 0.2, "jv": 0.2, "gd": 0.1, "lo": 0.6,
    "sa": 0.3, "br": 0.1, "bs": 0.1, "xh": 0.1, "su": 0.1, "om": 0.1, "as": 0.1,
}  # fmt: skip

AFRICAN = frozenset(
    {
        # with an ISO 639-1 code
        "af", "am", "ha", "rw", "sw", "yo", "wo", "ig", "lg", "zu", "xh", "sn", "ny", "tn", "ee", "tw",
        "om", "so", "ln", "mg", "ff", "bm", "st", "ti", "rn", "ss", "ts", "ve", "nr", "nd", "kg", "ki",
        "ak", "sg",
        # ISO 639-3 only: North African Arabic varieties, Berber languages and others of the mirror
        "arq", "ary", "arz", "aeb", "ber", "kab", "tzm", "luo", "pcm", "bbj", "fon", "mos", "dag",
    }
)  # fmt: skip

# the 50 languages of XTREME-R (Ruder et al., 2021); PROTOCOLS asks Tatoeba to be reported on them
_XTREME_R = """af ar az bg bn de el en es et eu fa fi fr gu he hi ht hu id it ja jv ka kk ko lt ml mr ms my
nl pa
pl pt qu ro ru sw ta te th tl tr uk ur vi wo yo zh"""
XTREME_R = frozenset(_XTREME_R.split())


def pretraining_gib(code: str) -> float:
    return CC100_GIB.get(canonical(code), 0.0)


# the group of the generalized robustness suite, whose rows are language pairs (sentence 1 > sentence 2)
# that the groups above do not take: their mean over every pair stands where the non-English mean would
ALL_PAIRS = "all pairs"


@dataclass(frozen=True)
class LanguageGroup:
    name: str
    description: str
    members: tuple[str, ...]


def language_groups(
    languages: list[str] | tuple[str, ...],
    *,
    high_resource_gib: float = HIGH_RESOURCE_GIB,
    xtreme_r: bool = False,
) -> list[LanguageGroup]:
    """The non-empty groups of `languages` (in their given codes); a group may hold all of them, so that
    every target of a study has the same rows (masakhaner's African row is its macro average)."""
    langs = list(languages)
    candidates = [
        LanguageGroup(
            "non-English", "every language but English", tuple(x for x in langs if canonical(x) != "en")
        ),
        LanguageGroup("African", "languages of Africa", tuple(x for x in langs if canonical(x) in AFRICAN)),
        LanguageGroup(
            "low-resource",
            f"non-English, under {high_resource_gib:g} GiB of pre-training text ({SIZE_SOURCE})",
            tuple(x for x in langs if canonical(x) != "en" and pretraining_gib(x) < high_resource_gib),
        ),
        LanguageGroup(
            "high-resource",
            f"non-English, at least {high_resource_gib:g} GiB of pre-training text ({SIZE_SOURCE})",
            tuple(x for x in langs if canonical(x) != "en" and pretraining_gib(x) >= high_resource_gib),
        ),
    ]
    if xtreme_r:
        candidates.append(
            LanguageGroup(
                "XTREME-R",
                "non-English languages of XTREME-R",
                tuple(x for x in langs if canonical(x) in XTREME_R and canonical(x) != "en"),
            )
        )
    return [g for g in candidates if g.members]
