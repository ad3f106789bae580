"""The PROTOCOLS task catalogue beyond the foundation tasks of builtin.py: the English intermediate tasks and
the zero-shot target tasks, each defined once over the mirrored upstream files.

Conventions: English is "en" in every task here (semrel keeps SemRel's "eng"). Tasks that train on the same
English data share `english_data`, so a study never uses a target's own training data as its intermediate.
Taxonomy domains use the PROTOCOLS tags where one fits; two more are used where none does honestly:
"mixed" (several genres, as for SemRel) and "constructed" (sentences written by researchers or volunteers to
illustrate something, not drawn from a corpus: CoLA, COPA, Tatoeba).

There is deliberately no `tydiqa` target. The mirror holds TyDiQA-GoldP dev only in XTREME's processed copy,
whose gold answers are blanked (text '' at offset 0) in every language, so no TyDiQA evaluation language can
be scored; `xquad` covers extractive-QA transfer with the same English training data (`tydiqa-en`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from xlt.data.files import DataFile
from xlt.data.readers.conll import (
    SHARED_ENTITY_TYPES,
    UPOS_TAGS,
    read_conll2003,
    read_conllu_upos,
    read_masakhaner,
)
from xlt.data.readers.copa import read_copa_jsonl
from xlt.data.readers.glue import RTE_LABELS, read_cola, read_mrpc, read_mrpc_train, read_rte, read_sst2
from xlt.data.readers.sick import ENTAILMENT_LABELS, read_sick_entailment, read_sick_relatedness
from xlt.data.readers.squad import read_squad_json
from xlt.data.readers.tatoeba import read_tatoeba
from xlt.data.readers.tweet import read_tweet_classification
from xlt.data.readers.xtreme_pairs import XNLI_LABELS, read_pawsx_tsv, read_xnli_tsv, split_aligned
from xlt.data.schema import TaskType
from xlt.tasks.registry import register
from xlt.tasks.spec import (
    Reader,
    Split,
    TaskSpec,
    Taxonomy,
    data_source,
    pinned_file,
    pinned_sources,
    read_each,
)

Rows = list[dict[str, Any]]
Languages = dict[Split, tuple[str, ...]]

EN = ("en",)
XNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
XCOPA_LANGUAGES = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
XQUAD_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
MASAKHANER_LANGUAGES = ("amh", "hau", "ibo", "kin", "lug", "luo", "pcm", "swa", "wol", "yor")
# MasakhaNER 2.0 has the 1.0 languages except Amharic, plus eleven more
MASAKHANER2_LANGUAGES = tuple(
    sorted(
        set(MASAKHANER_LANGUAGES) - {"amh"}
        | {"bam", "bbj", "ewe", "fon", "mos", "nya", "sna", "tsn", "twi", "xho", "zul"}
    )
)
# ISO 639-1 code -> (treebank directory, file prefix) of the UD test files PROTOCOLS evaluates POS on; Arabic
# is PUD because PADT's files are too large for the mirror
UD_TEST_TREEBANKS: Mapping[str, tuple[str, str]] = {
    "yo": ("UD_Yoruba-YTB", "yo_ytb"),
    "wo": ("UD_Wolof-WTB", "wo_wtb"),
    "af": ("UD_Afrikaans-AfriBooms", "af_afribooms"),
    "am": ("UD_Amharic-ATT", "am_att"),
    "de": ("UD_German-GSD", "de_gsd"),
    "fr": ("UD_French-GSD", "fr_gsd"),
    "zh": ("UD_Chinese-GSD", "zh_gsd"),
    "ar": ("UD_Arabic-PUD", "ar_pud"),
}
# ISO 639-1 code -> UMSAB directory name
UMSAB_LANGUAGES: Mapping[str, str] = {
    "ar": "arabic",
    "en": "english",
    "fr": "french",
    "de": "german",
    "hi": "hindi",
    "it": "italian",
    "pt": "portuguese",
    "es": "spanish",
}
STANCE_TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")


def _label_names(mapping: Mapping[str, int]) -> tuple[str, ...]:
    """A reader's raw-label -> id mapping as lowercase class names in id order."""
    return tuple(name.lower() for name in sorted(mapping, key=mapping.__getitem__))


NLI_LABELS = _label_names(XNLI_LABELS)
NER_LABELS = ("O", *(f"{prefix}-{kind}" for kind in SHARED_ENTITY_TYPES for prefix in ("B", "I")))
UPOS_LABELS = tuple(sorted(UPOS_TAGS))
PARAPHRASE_LABELS = ("not_paraphrase", "paraphrase")
SENTIMENT3_LABELS = ("negative", "neutral", "positive")
# class names of each TweetEval task's mapping.txt, in id order
TWEET_LABELS: Mapping[str, tuple[str, ...]] = {
    "emotion": ("anger", "joy", "optimism", "sadness"),
    "hate": ("not-hate", "hate"),
    "irony": ("non_irony", "irony"),
    "offensive": ("not-offensive", "offensive"),
    "stance": ("none", "against", "favor"),
}

# English training data shared by an intermediate task and a target task (see the module docstring)
COPA_EN = "copa-en"
CONLL_EN = "conll2003-per-org-loc"
UD_EN = "ud-english-lines"
UMSAB_EN = "umsab-english"
TYDIQA_EN = "tydiqa-goldp-en-train-90"
XNLI_EN = "xnli-dev-en-aligned-train"
PAWSX_EN = "pawsx-dev-en-aligned-train"


def _english(*splits: Split) -> Languages:
    return {split: EN for split in splits}


def _by_split(train_dev: Reader, test: Reader) -> Reader:
    """A reader for targets whose English train/dev files and evaluation files have different formats."""
    return lambda paths, split: test(paths, split) if split == "test" else train_dev(paths, split)


def _intermediate(
    *,
    name: str,
    description: str,
    type: TaskType,
    metric: str,
    splits: tuple[Split, ...],
    taxonomy: Taxonomy,
    dataset: str,
    english_data: str,
    layout: Callable[[Split, str], list[DataFile]],
    reader: Reader,
    labels: tuple[str, ...] | None = None,
) -> None:
    """Register an English-only intermediate task: every intermediate has the same role and language, and
    its source is the mirrored dataset directory it reads."""
    register(
        TaskSpec(
            name=name,
            description=description,
            type=type,
            roles=("intermediate",),
            metric=metric,
            languages=_english(*splits),
            taxonomy=taxonomy,
            source=data_source(dataset),
            english_data=english_data,
            labels=labels,
            layout=layout,
            reader=reader,
        )
    )


# ---- SICK -----------------------------------------------------------------------------------------------

SICK_SETS: Mapping[Split, str] = {"train": "TRAIN", "dev": "TRIAL", "test": "TEST"}
SICK_DOMAIN = ("captions",)  # SICK pairs are built from image and video captions


def _sick(split: Split, language: str) -> list[DataFile]:
    return [pinned_file("sick", "SICK.txt")]


_intermediate(
    name="sick-relatedness",
    description="SICK relatedness 1-5 rescaled to [0, 1]; SemEval_set TRAIN/TRIAL/TEST as train/dev/test",
    type=TaskType.PAIR_REGRESSION,
    metric="spearman",
    splits=("train", "dev", "test"),
    taxonomy=Taxonomy(family="similarity", input_format="pair", domain=SICK_DOMAIN, label_type="regression"),
    dataset="sick",
    english_data="sick-relatedness",
    layout=_sick,
    reader=lambda paths, split: read_sick_relatedness(paths[0], SICK_SETS[split]),
)
_intermediate(
    name="sick-entailment",
    description="SICK entailment (3 classes); SemEval_set TRAIN/TRIAL/TEST as train/dev/test",
    type=TaskType.PAIR_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev", "test"),
    taxonomy=Taxonomy(family="inference", input_format="pair", domain=SICK_DOMAIN, label_type="classes"),
    dataset="sick",
    english_data="sick-entailment",
    layout=_sick,
    reader=lambda paths, split: read_sick_entailment(paths[0], SICK_SETS[split]),
    labels=_label_names(ENTAILMENT_LABELS),
)

# ---- GLUE -----------------------------------------------------------------------------------------------


def _glue(task: str, name: str) -> DataFile:
    return pinned_file("glue", f"glue_data/{task}/{name}")


def _glue_split(task: str) -> Callable[[Split, str], list[DataFile]]:
    """train.tsv / dev.tsv of a GLUE task (its test.tsv has no labels)."""
    return lambda split, language: [_glue(task, f"{split}.tsv")]


def _mrpc(split: Split, language: str) -> list[DataFile]:
    """Train is rebuilt from the raw MSR train minus dev_ids.tsv because the mirrored train.tsv is defective;
    the raw MSR test file keeps the labels that GLUE's test.tsv drops."""
    if split == "train":
        return [_glue("MRPC", "msr_paraphrase_train.txt"), _glue("MRPC", "dev_ids.tsv")]
    return [_glue("MRPC", "dev.tsv" if split == "dev" else "msr_paraphrase_test.txt")]


_intermediate(
    name="mrpc",
    description="MRPC paraphrase: train = MSR train minus the 408 GLUE dev pairs (3668), dev = GLUE dev, "
    "test = the labelled MSR test file",
    type=TaskType.PAIR_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev", "test"),
    taxonomy=Taxonomy(family="paraphrase", input_format="pair", domain=("news",), label_type="classes"),
    dataset="glue",
    english_data="glue-mrpc",
    layout=_mrpc,
    reader=lambda paths, split: (
        read_mrpc_train(paths[0], paths[1]) if split == "train" else read_mrpc(paths[0])
    ),
    labels=("not_equivalent", "equivalent"),
)
_intermediate(
    name="rte",
    description="GLUE RTE (entailment / not_entailment); train/dev only, GLUE withholds the test labels",
    type=TaskType.PAIR_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=Taxonomy(family="inference", input_format="pair", domain=("news", "wiki"), label_type="classes"),
    dataset="glue",
    english_data="glue-rte",
    layout=_glue_split("RTE"),
    reader=read_each(read_rte),
    labels=_label_names(RTE_LABELS),
)
_intermediate(
    name="cola",
    description="GLUE CoLA acceptability of example sentences from linguistics publications; train/dev only",
    type=TaskType.SINGLE_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=Taxonomy(
        family="acceptability", input_format="single", domain=("constructed",), label_type="classes"
    ),
    dataset="glue",
    english_data="glue-cola",
    layout=_glue_split("CoLA"),
    reader=read_each(read_cola),
    labels=("unacceptable", "acceptable"),
)
_intermediate(
    name="sst2",
    description="GLUE SST-2 binary movie-review sentiment; train/dev only",
    type=TaskType.SINGLE_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=Taxonomy(family="sentiment", input_format="single", domain=("reviews",), label_type="classes"),
    dataset="glue",
    english_data="glue-sst2",
    layout=_glue_split("SST-2"),
    reader=read_each(read_sst2),
    labels=("negative", "positive"),
)

# ---- TweetEval ------------------------------------------------------------------------------------------

_TWEET_SPLIT_FILE: Mapping[Split, str] = {"train": "train", "dev": "val", "test": "test"}
# PROTOCOLS has no toxicity or stance family: hate, offensive language and stance are attitudes towards a
# person, group or issue, so all TweetEval tasks share the sentiment family with emotion and irony
TWEET_TAXONOMY = Taxonomy(
    family="sentiment", input_format="single", domain=("social media",), label_type="classes"
)


def _tweet_files(directory: str, split: Split) -> list[DataFile]:
    """The line-aligned text and labels files of one TweetEval split, in that order."""
    prefix = f"datasets/{directory}/{_TWEET_SPLIT_FILE[split]}"
    return [pinned_file("tweeteval", f"{prefix}_text.txt"), pinned_file("tweeteval", f"{prefix}_labels.txt")]


def _tweet_layout(directories: tuple[str, ...]) -> Callable[[Split, str], list[DataFile]]:
    return lambda split, language: [f for d in directories for f in _tweet_files(d, split)]


def _read_tweet_pairs(paths: list[Path], split: Split) -> Rows:
    """Rows of consecutive (text, labels) file pairs; with several pairs (stance) each id is prefixed by the
    pair's directory, since every file numbers its rows from 0."""
    pairs = list(zip(paths[::2], paths[1::2], strict=True))
    rows: Rows = []
    for text_path, labels_path in pairs:
        for row in read_tweet_classification(text_path, labels_path):
            if len(pairs) > 1:
                row["id"] = f"{text_path.parent.name}-{row['id']}"
            rows.append(row)
    return rows


def _tweeteval(task: str, description: str, directories: tuple[str, ...]) -> None:
    _intermediate(
        name=f"tweet-{task}",
        description=description,
        type=TaskType.SINGLE_CLASSIFICATION,
        metric="macro_f1",
        splits=("train", "dev", "test"),
        taxonomy=TWEET_TAXONOMY,
        dataset="tweeteval",
        english_data=f"tweeteval-{task}",
        layout=_tweet_layout(directories),
        reader=_read_tweet_pairs,
        labels=TWEET_LABELS[task],
    )


_tweeteval("emotion", "TweetEval emotion (anger, joy, optimism, sadness) in English tweets", ("emotion",))
_tweeteval("hate", "TweetEval hate speech against immigrants and women in English tweets", ("hate",))
_tweeteval("irony", "TweetEval irony in English tweets", ("irony",))
_tweeteval("offensive", "TweetEval offensive language in English tweets", ("offensive",))
_tweeteval(
    "stance",
    "TweetEval stance (none / against / favor): its five targets (abortion, atheism, climate, feminist, "
    "hillary) combined into one task by concatenating their files per split; ids are '<target>-<row>'",
    tuple(f"stance/{target}" for target in STANCE_TARGETS),
)

# ---- UMSAB (XLM-T multilingual tweet sentiment) ---------------------------------------------------------

UMSAB_TAXONOMY = Taxonomy(
    family="sentiment", input_format="single", domain=("social media",), label_type="classes"
)


def _umsab(split: Split, language: str) -> list[DataFile]:
    directory = UMSAB_LANGUAGES[language if split == "test" else "en"]
    prefix = f"data/sentiment/{directory}/{_TWEET_SPLIT_FILE[split]}"
    return [
        pinned_file("xlm_t_umsab", f"{prefix}_text.txt"),
        pinned_file("xlm_t_umsab", f"{prefix}_labels.txt"),
    ]


_intermediate(
    name="umsab-en",
    description="XLM-T UMSAB English tweet sentiment (negative / neutral / positive); train/val/test",
    type=TaskType.SINGLE_CLASSIFICATION,
    metric="macro_f1",
    splits=("train", "dev", "test"),
    taxonomy=UMSAB_TAXONOMY,
    dataset="xlm_t_umsab",
    english_data=UMSAB_EN,
    layout=_umsab,
    reader=_read_tweet_pairs,
    labels=SENTIMENT3_LABELS,
)
register(
    TaskSpec(
        name="umsab",
        description="XLM-T UMSAB tweet sentiment: English train/val, zero-shot on the 8 UMSAB test sets",
        type=TaskType.SINGLE_CLASSIFICATION,
        roles=("target",),
        metric="macro_f1",
        languages={"train": EN, "dev": EN, "test": tuple(UMSAB_LANGUAGES)},
        taxonomy=UMSAB_TAXONOMY,
        source=data_source("xlm_t_umsab"),
        english_data=UMSAB_EN,
        labels=SENTIMENT3_LABELS,
        layout=_umsab,
        reader=_read_tweet_pairs,
    )
)

# ---- NER: CoNLL-2003 (English) and MasakhaNER 1.0 / 2.0 ------------------------------------------------

_CONLL_SPLIT_FILE: Mapping[Split, str] = {"train": "train.txt", "dev": "valid.txt", "test": "test.txt"}
NER_TAXONOMY = Taxonomy(family="tagging", input_format="token", domain=("news",), label_type="tags")


def _conll(split: Split) -> DataFile:
    return pinned_file("conll2003", f"conll2003/{_CONLL_SPLIT_FILE[split]}")


_intermediate(
    name="conll-ner",
    description="CoNLL-2003 English NER over PER/ORG/LOC (MISC -> O: the types MasakhaNER shares)",
    type=TaskType.TOKEN_TAGGING,
    metric="entity_f1",
    splits=("train", "dev", "test"),
    taxonomy=NER_TAXONOMY,
    dataset="conll2003",
    english_data=CONLL_EN,
    layout=lambda split, language: [_conll(split)],
    reader=read_each(read_conll2003),
    labels=NER_LABELS,
)


def _masakhaner_target(name: str, version: str, test_dir: str, languages: tuple[str, ...]) -> None:
    """Register a MasakhaNER target: CoNLL-2003 English train/dev, MasakhaNER `version` test sets. 1.0 and
    2.0 are separate tasks because they share language codes (hau, ibo, ...) but not test sets."""

    def layout(split: Split, language: str) -> list[DataFile]:
        if split == "test":
            return [pinned_file(name, f"{test_dir}/{language}/test.txt")]
        return [_conll(split)]

    register(
        TaskSpec(
            name=name,
            description=f"NER trained on CoNLL-2003 English (MISC -> O), zero-shot on the MasakhaNER "
            f"{version} test sets (DATE -> O); PER/ORG/LOC only",
            type=TaskType.TOKEN_TAGGING,
            roles=("target",),
            metric="entity_f1",
            languages={"train": EN, "dev": EN, "test": languages},
            taxonomy=NER_TAXONOMY,
            source=data_source(name),
            english_data=CONLL_EN,
            labels=NER_LABELS,
            layout=layout,
            reader=_by_split(read_each(read_conll2003), read_each(read_masakhaner)),
        )
    )


_masakhaner_target("masakhaner", "1.0", "data", MASAKHANER_LANGUAGES)
_masakhaner_target("masakhaner2", "2.0", "MasakhaNER2.0/data", MASAKHANER2_LANGUAGES)

# ---- POS: Universal Dependencies -----------------------------------------------------------------------

# LinES: fiction, a software manual and Europarl (UD metadata: "fiction nonfiction spoken")
POS_TAXONOMY = Taxonomy(
    family="tagging", input_format="token", domain=("fiction", "mixed"), label_type="tags"
)


def _ud(split: Split, language: str) -> list[DataFile]:
    if split == "test" and language != "en":
        treebank, prefix = UD_TEST_TREEBANKS[language]
        return [pinned_file(f"ud/{treebank}", f"{prefix}-ud-test.conllu")]
    return [pinned_file("ud/UD_English-LinES", f"en_lines-ud-{split}.conllu")]


_intermediate(
    name="udpos-en",
    description="UPOS tagging on UD English-LinES train/dev/test",
    type=TaskType.TOKEN_TAGGING,
    metric="upos_accuracy",
    splits=("train", "dev", "test"),
    taxonomy=POS_TAXONOMY,
    dataset="ud/UD_English-LinES",
    english_data=UD_EN,
    layout=_ud,
    reader=read_each(read_conllu_upos),
    labels=UPOS_LABELS,
)
register(
    TaskSpec(
        name="udpos",
        description="UPOS tagging trained on UD English-LinES, zero-shot on UD test treebanks (yo YTB, "
        "wo WTB, af AfriBooms, am ATT, de/fr/zh GSD, ar PUD); `source` is the training treebank, each test "
        "file is pinned to its own treebank's commit",
        type=TaskType.TOKEN_TAGGING,
        roles=("target",),
        metric="upos_accuracy",
        languages={"train": EN, "dev": EN, "test": tuple(UD_TEST_TREEBANKS)},
        taxonomy=POS_TAXONOMY,
        source=data_source("ud/UD_English-LinES"),
        english_data=UD_EN,
        labels=UPOS_LABELS,
        layout=_ud,
        reader=read_each(read_conllu_upos),
    )
)

# ---- COPA / XCOPA ---------------------------------------------------------------------------------------

COPA_TAXONOMY = Taxonomy(
    family="commonsense", input_format="choice", domain=("constructed",), label_type="classes"
)


def _copa(split: Split, language: str) -> list[DataFile]:
    if split == "test":
        return [pinned_file("xcopa", f"data/{language}/test.{language}.jsonl")]
    return [pinned_file("copa_en", f"data/xcopa/{'train' if split == 'train' else 'val'}-en.jsonl")]


_intermediate(
    name="copa",
    description="English COPA (choose the more plausible cause or effect): train 400 / val 100 as train/dev",
    type=TaskType.MULTIPLE_CHOICE,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=COPA_TAXONOMY,
    dataset="copa_en",
    english_data=COPA_EN,
    layout=_copa,
    reader=read_each(read_copa_jsonl),
)
register(
    TaskSpec(
        name="xcopa",
        description="COPA trained in English (train 400 / val 100), zero-shot on the 11 XCOPA test sets",
        type=TaskType.MULTIPLE_CHOICE,
        roles=("target",),
        metric="accuracy",
        languages={"train": EN, "dev": EN, "test": XCOPA_LANGUAGES},
        taxonomy=COPA_TAXONOMY,
        source=data_source("xcopa"),
        english_data=COPA_EN,
        layout=_copa,
        reader=read_each(read_copa_jsonl),
    )
)

# ---- Extractive QA: TyDiQA-GoldP English, XQuAD ----------------------------------------------------------

QA_TAXONOMY = Taxonomy(family="QA", input_format="span", domain=("wiki",), label_type="spans")
TYDIQA_EN_TRAIN = pinned_file(
    "tydiqa_goldp_xtreme", "data/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json"
)


def tydiqa_held_out(rows: Rows, split: Split) -> Rows:
    """The English dev set is the last 10% of the train file's questions in file order (train the first
    90%), because the mirror's English dev copy has blanked answers; file order makes the cut reproducible."""
    cut = len(rows) * 9 // 10
    return rows[:cut] if split == "train" else rows[cut:]


def _tydiqa_en(paths: list[Path], split: Split) -> Rows:
    return tydiqa_held_out(read_squad_json(paths[0]), split)


def _xquad(split: Split, language: str) -> list[DataFile]:
    if split == "test":
        return [pinned_file("xquad", f"xquad.{language}.json")]
    return [TYDIQA_EN_TRAIN]


_intermediate(
    name="tydiqa-en",
    description="TyDiQA-GoldP English extractive QA: the English train file cut by position into train "
    "(first 90%) and dev (last 10%), since the mirror's English dev answers are blanked",
    type=TaskType.EXTRACTIVE_QA,
    metric="squad_f1",
    splits=("train", "dev"),
    taxonomy=QA_TAXONOMY,
    dataset="tydiqa_goldp_xtreme",
    english_data=TYDIQA_EN,
    layout=lambda split, language: [TYDIQA_EN_TRAIN],
    reader=_tydiqa_en,
)
register(
    TaskSpec(
        name="xquad",
        description="Extractive QA trained on TyDiQA-GoldP English (train/dev as tydiqa-en), zero-shot on "
        "the 12 XQuAD languages",
        type=TaskType.EXTRACTIVE_QA,
        roles=("target",),
        metric="squad_f1",
        languages={"train": EN, "dev": EN, "test": XQUAD_LANGUAGES},
        taxonomy=QA_TAXONOMY,
        source=data_source("xquad"),
        english_data=TYDIQA_EN,
        layout=_xquad,
        reader=_by_split(_tydiqa_en, read_each(read_squad_json)),
    )
)

# ---- XNLI / PAWS-X aligned splits -----------------------------------------------------------------------

# XNLI items come from ten MultiNLI-style genres (fiction, government, telephone speech, travel, ...)
NLI_TAXONOMY = Taxonomy(family="inference", input_format="pair", domain=("mixed",), label_type="classes")
PAWSX_TAXONOMY = Taxonomy(family="paraphrase", input_format="pair", domain=("wiki",), label_type="classes")


def _aligned(read_file: Callable[[Path], Rows]) -> Reader:
    """The split's item range of the aligned split (PROTOCOLS) of a line-aligned translated dev file."""
    return lambda paths, split: split_aligned(read_file(paths[0]))[split]


def _xnli(split: Split, language: str) -> list[DataFile]:
    return [pinned_file("xnli_xtreme", f"data/xnli/dev-{language}.tsv")]


def _pawsx(split: Split, language: str) -> list[DataFile]:
    return [pinned_file("pawsx_xtreme", f"data/pawsx/dev-{language}.tsv")]


_intermediate(
    name="xnli-en",
    description="XNLI English dev, aligned split: items [0, 60%) train, [60%, 70%) dev; the [70%, 100%) "
    "part is reserved as the xnli target's test set",
    type=TaskType.PAIR_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=NLI_TAXONOMY,
    dataset="xnli_xtreme",
    english_data=XNLI_EN,
    layout=_xnli,
    reader=_aligned(read_xnli_tsv),
    labels=NLI_LABELS,
)
_intermediate(
    name="pawsx-en",
    description="PAWS-X English dev, aligned split: items [0, 60%) train, [60%, 70%) dev; the [70%, 100%) "
    "part is reserved as the pawsx target's test set",
    type=TaskType.PAIR_CLASSIFICATION,
    metric="accuracy",
    splits=("train", "dev"),
    taxonomy=PAWSX_TAXONOMY,
    dataset="pawsx_xtreme",
    english_data=PAWSX_EN,
    layout=_pawsx,
    reader=_aligned(read_pawsx_tsv),
    labels=PARAPHRASE_LABELS,
)
register(
    TaskSpec(
        name="xnli",
        description="XNLI aligned split of the 15-language dev set: English items [0, 60%) train, "
        "[60%, 70%) dev; items [70%, 100%) tested in every language, English included",
        type=TaskType.PAIR_CLASSIFICATION,
        roles=("target",),
        metric="accuracy",
        languages={"train": EN, "dev": EN, "test": XNLI_LANGUAGES},
        taxonomy=NLI_TAXONOMY,
        source=data_source("xnli_xtreme"),
        english_data=XNLI_EN,
        labels=NLI_LABELS,
        layout=_xnli,
        reader=_aligned(read_xnli_tsv),
    )
)
register(
    TaskSpec(
        name="pawsx",
        description="PAWS-X aligned split of the 7-language dev set: English items [0, 60%) train, "
        "[60%, 70%) dev; items [70%, 100%) tested in every language, English included",
        type=TaskType.PAIR_CLASSIFICATION,
        roles=("target",),
        metric="accuracy",
        languages={"train": EN, "dev": EN, "test": PAWSX_LANGUAGES},
        taxonomy=PAWSX_TAXONOMY,
        source=data_source("pawsx_xtreme"),
        english_data=PAWSX_EN,
        labels=PARAPHRASE_LABELS,
        layout=_pawsx,
        reader=_aligned(read_pawsx_tsv),
    )
)

# ---- Tatoeba retrieval ----------------------------------------------------------------------------------

_TATOEBA_DIR = "data/tatoeba/v1"


def _tatoeba_languages() -> tuple[str, ...]:
    """The non-English side of every pinned LASER pair (tatoeba.xxx-eng.eng -> xxx), so that the task lists
    exactly the pairs whose files are pinned."""
    prefix, suffix = f"tatoeba/{_TATOEBA_DIR}/tatoeba.", "-eng.eng"
    files = pinned_sources()["tatoeba"]["files"]
    return tuple(sorted(path[len(prefix) : -len(suffix)] for path in files if path.endswith(suffix)))


def _tatoeba(split: Split, language: str) -> list[DataFile]:
    stem = f"{_TATOEBA_DIR}/tatoeba.{language}-eng"
    return [pinned_file("tatoeba", f"{stem}.{language}"), pinned_file("tatoeba", f"{stem}.eng")]


register(
    TaskSpec(
        name="tatoeba",
        description="LASER Tatoeba bitext retrieval (xxx <-> eng, accuracy@1 in both directions) with the "
        "encoder as its stages left it; no training data",
        type=TaskType.RETRIEVAL,
        roles=("target",),
        metric="retrieval_accuracy",
        languages={"test": _tatoeba_languages()},
        # retrieval picks one of N candidate sentences (1-of-N classes); Tatoeba sentences are short
        # volunteer-written examples rather than corpus text
        taxonomy=Taxonomy(
            family="retrieval", input_format="pair", domain=("constructed",), label_type="classes"
        ),
        source=data_source("tatoeba"),
        english_data="none",
        layout=_tatoeba,
        reader=lambda paths, split: read_tatoeba(paths[0], paths[1]),
    )
)
