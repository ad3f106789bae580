"""The one language-code scheme of task files, built-in and the user's own, so that a typo ('sw' vs 'sww')
is caught before anything runs.

A compact table of every ISO 639-1 code (the withdrawn but still common 'bh' and 'sh' included), each with
its ISO 639-2 code(s) (bibliographic/terminological where they differ) and English name, and a second table
of the ISO 639-3 codes of individual languages the built-in tasks use beyond those (SemRel, MasakhaNER,
Tatoeba). A task keeps the codes of its upstream files in its results (semrel 'eng', masakhaner 'hau',
xnli 'de'); `canonical` maps every code of one language to one code for comparisons across tasks. The
built-in tasks are checked against these tables like any task file, never against themselves.
"""

from __future__ import annotations

import difflib

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

# ISO 639-3 codes (and Tatoeba's 'ber', the 639-5 code of the Berber languages) used by built-in tasks that
# are not 639-2 codes of the table above
_TABLE_639_3 = """
ang Old English|arb Standard Arabic|arq Algerian Arabic|ary Moroccan Arabic|arz Egyptian Arabic
ast Asturian|awa Awadhi|bbj Ghomala|ber Berber|cbk Chavacano|ceb Cebuano|cmn Mandarin Chinese
csb Kashubian|dsb Lower Sorbian|dtp Central Dusun|fon Fon|gsw Swiss German|hsb Upper Sorbian|kab Kabyle
kzj Coastal Kadazan|lfn Lingua Franca Nova|luo Luo|lvs Standard Latvian|max North Moluccan Malay
mhr Eastern Mari|mos Mossi|nds Low German|nov Novial|orv Old Russian|pam Kapampangan|pcm Nigerian Pidgin
pes Iranian Persian|pms Piedmontese|swg Swabian|swh Swahili|tzl Talossan|war Waray|wuu Wu Chinese
yue Cantonese|zsm Standard Malay
"""


def _entries(table: str) -> list[str]:
    return [entry for entry in table.replace("\n", "|").split("|") if entry.strip()]


def _parse_table() -> tuple[dict[str, str], dict[str, str]]:
    """(code -> English name for every code of both tables, lowercase name -> the code of that name, its
    639-1 code where it has one)."""
    names: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for entry in _entries(_TABLE):
        two, three, name = entry.split(" ", 2)
        for code in (two, *three.split("/")):
            names[code] = name
        by_name[name.lower()] = two
    for entry in _entries(_TABLE_639_3):
        code, name = entry.split(" ", 1)
        names[code] = name
        by_name.setdefault(name.lower(), code)
    return names, by_name


LANGUAGE_NAMES, _CODE_BY_NAME = _parse_table()
# 639-2 (and 639-1) code -> 639-1 code
TO_639_1 = {
    code: two
    for entry in _entries(_TABLE)
    for two, three, _ in [entry.split(" ", 2)]
    for code in (two, *three.split("/"))
}
ISO_639_1 = frozenset(code for code in LANGUAGE_NAMES if len(code) == 2)
ISO_639_2 = frozenset(code for code in TO_639_1 if len(code) == 3)
ISO_639_3_EXTRA = frozenset(entry.split(" ", 1)[0] for entry in _entries(_TABLE_639_3))

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


KNOWN_CODES = ISO_639_1 | ISO_639_2 | ISO_639_3_EXTRA


def language_problem(code: str) -> str | None:
    """None for a known code, else what is wrong with it and, where one is close, the code meant."""
    if code in KNOWN_CODES:
        return None
    lowered = code.strip().lower()
    if lowered in KNOWN_CODES:
        suggestion: str | None = lowered
    elif lowered in _CODE_BY_NAME:
        suggestion = _CODE_BY_NAME[lowered]
    else:
        close_names = difflib.get_close_matches(lowered, list(_CODE_BY_NAME), n=1, cutoff=0.75)
        close_codes = difflib.get_close_matches(lowered, sorted(KNOWN_CODES), n=1, cutoff=0.6)
        if len(lowered) > 3 and close_names:
            suggestion = _CODE_BY_NAME[close_names[0]]
        else:
            suggestion = close_codes[0] if close_codes else None
    hint = ""
    if suggestion is not None:
        name = LANGUAGE_NAMES.get(suggestion)
        hint = f" (did you mean '{suggestion}'{f', {name}' if name else ''}?)"
    return f"unknown language code '{code}'{hint}; use an ISO 639-1 or 639-3 code"
