"""Known language codes, so that a typo in a task file ('sw' vs 'sww') is caught before anything runs.

A compact table of every ISO 639-1 code (the withdrawn but still common 'bh' and 'sh' included), each with
its ISO 639-2 code(s) (bibliographic/terminological where they differ) and English name. Three-letter
codes are accepted when they are a 639-2 code of the table or a language of a built-in task (the ISO 639-3
codes of SemRel, MasakhaNER, Tatoeba, ...), read from the registry at run time so the two never disagree.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

_TABLE = """
aa aar Afar|ab abk Abkhazian|ae ave Avestan|af afr Afrikaans|ak aka Akan|am amh Amharic|an arg Aragonese
ar ara Arabic|as asm Assamese|av ava Avaric|ay aym Aymara|az aze Azerbaijani|ba bak Bashkir
be bel Belarusian|bg bul Bulgarian|bh bih Bihari|bi bis Bislama|bm bam Bambara|bn ben Bengali
bo tib/bod Tibetan|br bre Breton|bs bos Bosnian|ca cat Catalan|ce che Chechen|ch cha Chamorro
co cos Corsican|cr cre Cree|cs cze/ces Czech|cu chu Church Slavonic|cv chv Chuvash|cy wel/cym Welsh
da dan Danish|de ger/deu German|dv div Divehi|dz dzo Dzongkha|ee ewe Ewe|el gre/ell Greek|en eng English
eo epo Esperanto|es spa Spanish|et est Estonian|eu baq/eus Basque|fa per/fas Persian|ff ful Fula
fi fin Finnish|fj fij Fijian|fo fao Faroese|fr fre/fra French|fy fry Western Frisian|ga gle Irish
gd gla Scottish Gaelic|gl glg Galician|gn grn Guarani|gu guj Gujarati|gv glv Manx|ha hau Hausa
he heb Hebrew|hi hin Hindi|ho hmo Hiri Motu|hr hrv Croatian|ht hat Haitian Creole|hu hun Hungarian
hy arm/hye Armenian|hz her Herero|ia ina Interlingua|id ind Indonesian|ie ile Interlingue|ig ibo Igbo
ii iii Sichuan Yi|ik ipk Inupiaq|io ido Ido|is ice/isl Icelandic|it ita Italian|iu iku Inuktitut
ja jpn Japanese|jv jav Javanese|ka geo/kat Georgian|kg kon Kongo|ki kik Kikuyu|kj kua Kwanyama
kk kaz Kazakh|kl kal Kalaallisut|km khm Khmer|kn kan Kannada|ko kor Korean|kr kau Kanuri|ks kas Kashmiri
ku kur Kurdish|kv kom Komi|kw cor Cornish|ky kir Kyrgyz|la lat Latin|lb ltz Luxembourgish|lg lug Ganda
li lim Limburgish|ln lin Lingala|lo lao Lao|lt lit Lithuanian|lu lub Luba-Katanga|lv lav Latvian
mg mlg Malagasy|mh mah Marshallese|mi mao/mri Maori|mk mac/mkd Macedonian|ml mal Malayalam
mn mon Mongolian|mr mar Marathi|ms may/msa Malay|mt mlt Maltese|my bur/mya Burmese|na nau Nauru
nb nob Norwegian Bokmal|nd nde North Ndebele|ne nep Nepali|ng ndo Ndonga|nl dut/nld Dutch
nn nno Norwegian Nynorsk|no nor Norwegian|nr nbl South Ndebele|nv nav Navajo|ny nya Chichewa
oc oci Occitan|oj oji Ojibwe|om orm Oromo|or ori Odia|os oss Ossetian|pa pan Punjabi|pi pli Pali
pl pol Polish|ps pus Pashto|pt por Portuguese|qu que Quechua|rm roh Romansh|rn run Kirundi
ro rum/ron Romanian|ru rus Russian|rw kin Kinyarwanda|sa san Sanskrit|sc srd Sardinian|sd snd Sindhi
se sme Northern Sami|sg sag Sango|sh hbs Serbo-Croatian|si sin Sinhala|sk slo/slk Slovak
sl slv Slovenian|sm smo Samoan|sn sna Shona|so som Somali|sq alb/sqi Albanian|sr srp Serbian
ss ssw Swati|st sot Southern Sotho|su sun Sundanese|sv swe Swedish|sw swa Swahili|ta tam Tamil
te tel Telugu|tg tgk Tajik|th tha Thai|ti tir Tigrinya|tk tuk Turkmen|tl tgl Tagalog|tn tsn Tswana
to ton Tonga|tr tur Turkish|ts tso Tsonga|tt tat Tatar|tw twi Twi|ty tah Tahitian|ug uig Uyghur
uk ukr Ukrainian|ur urd Urdu|uz uzb Uzbek|ve ven Venda|vi vie Vietnamese|vo vol Volapuk|wa wln Walloon
wo wol Wolof|xh xho Xhosa|yi yid Yiddish|yo yor Yoruba|za zha Zhuang|zh chi/zho Chinese|zu zul Zulu
"""


def _parse_table() -> tuple[dict[str, str], dict[str, str]]:
    """(code -> English name for every 639-1 and 639-2 code, lowercase name -> 639-1 code)."""
    names: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for entry in _TABLE.replace("\n", "|").split("|"):
        if not entry.strip():
            continue
        two, three, name = entry.split(" ", 2)
        for code in (two, *three.split("/")):
            names[code] = name
        by_name[name.lower()] = two
    return names, by_name


LANGUAGE_NAMES, _CODE_BY_NAME = _parse_table()
# 639-2 (and 639-1) code -> 639-1 code
TO_639_1 = {
    code: two
    for entry in _TABLE.replace("\n", "|").split("|")
    if entry.strip()
    for two, three, _ in [entry.split(" ", 2)]
    for code in (two, *three.split("/"))
}
ISO_639_1 = frozenset(code for code in LANGUAGE_NAMES if len(code) == 2)
ISO_639_2 = frozenset(code for code in LANGUAGE_NAMES if len(code) == 3)

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


@lru_cache(maxsize=1)
def builtin_task_languages() -> frozenset[str]:
    """Every language code a built-in task uses (mostly ISO 639-3 codes of low-resource languages)."""
    from xlt.tasks.registry import list_tasks

    return frozenset(lang for task in list_tasks() for langs in task.languages.values() for lang in langs)


def known_codes() -> frozenset[str]:
    return ISO_639_1 | ISO_639_2 | builtin_task_languages()


def language_problem(code: str) -> str | None:
    """None for a known code, else what is wrong with it and, where one is close, the code meant."""
    known = known_codes()
    if code in known:
        return None
    lowered = code.strip().lower()
    if lowered in known:
        suggestion: str | None = lowered
    elif lowered in _CODE_BY_NAME:
        suggestion = _CODE_BY_NAME[lowered]
    else:
        close_names = difflib.get_close_matches(lowered, list(_CODE_BY_NAME), n=1, cutoff=0.75)
        close_codes = difflib.get_close_matches(lowered, sorted(known), n=1, cutoff=0.6)
        if len(lowered) > 3 and close_names:
            suggestion = _CODE_BY_NAME[close_names[0]]
        else:
            suggestion = close_codes[0] if close_codes else None
    hint = ""
    if suggestion is not None:
        name = LANGUAGE_NAMES.get(suggestion)
        hint = f" (did you mean '{suggestion}'{f', {name}' if name else ''}?)"
    return f"unknown language code '{code}'{hint}; use an ISO 639-1 or 639-3 code"
