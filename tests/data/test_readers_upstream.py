"""The upstream-layout readers on the real mirrored files: counts must match MANIFEST.json and the README."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from xlt.core.errors import ConfigError, DataError
from xlt.data.readers.conll import (
    keep_entity_types,
    read_conll2003,
    read_conllu_upos,
    read_masakhaner,
    read_panx,
)
from xlt.data.readers.copa import read_copa_jsonl
from xlt.data.readers.glue import (
    read_cola,
    read_mrpc,
    read_mrpc_dev_ids,
    read_mrpc_train,
    read_rte,
    read_sst2,
)
from xlt.data.readers.sick import SEMEVAL_SETS, read_sick_entailment, read_sick_relatedness
from xlt.data.readers.squad import read_squad_json
from xlt.data.readers.tatoeba import read_tatoeba
from xlt.data.readers.tweet import read_tweet_classification
from xlt.data.readers.xtreme_pairs import aligned_split, read_pawsx_tsv, read_xnli_tsv, split_aligned

Manifest = dict[str, dict[str, Any]]
GLUE = "glue/glue_data"


@pytest.fixture(scope="module")
def manifest(data_dir: Path) -> Manifest:
    """Every mirrored file's manifest entry, by its path inside the data directory."""
    document = json.loads((data_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    return {entry["local_path"]: entry for dataset in document["datasets"] for entry in dataset["paths"]}


def _entries(manifest: Manifest, pattern: str, key: str = "examples") -> dict[str, Any]:
    """The manifest's `key` for every file matching `pattern` that records it."""
    found = {path: entry[key] for path, entry in manifest.items() if fnmatch(path, pattern) and key in entry}
    assert found, f"no manifest entry matches {pattern}"
    return found


def test_glue_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    readers: dict[str, Callable[[Path], list[dict[str, Any]]]] = {
        f"{GLUE}/CoLA/train.tsv": read_cola,
        f"{GLUE}/CoLA/dev.tsv": read_cola,
        f"{GLUE}/SST-2/train.tsv": read_sst2,
        f"{GLUE}/SST-2/dev.tsv": read_sst2,
        f"{GLUE}/RTE/train.tsv": read_rte,
        f"{GLUE}/RTE/dev.tsv": read_rte,
        f"{GLUE}/MRPC/dev.tsv": read_mrpc,
        f"{GLUE}/MRPC/msr_paraphrase_train.txt": read_mrpc,
        f"{GLUE}/MRPC/msr_paraphrase_test.txt": read_mrpc,
    }
    measured = {path: len(reader(data_dir / path)) for path, reader in readers.items()}
    assert measured == {path: manifest[path]["examples"] for path in readers}
    assert measured[f"{GLUE}/CoLA/train.tsv"] == 8551
    assert measured[f"{GLUE}/SST-2/dev.tsv"] == 872
    assert measured[f"{GLUE}/RTE/train.tsv"] == 2490


def test_glue_rows_are_canonical(data_dir: Path) -> None:
    cola = read_cola(data_dir / GLUE / "CoLA/dev.tsv")
    assert cola[0] == {"id": "0", "text": "The sailors rode the breeze clear of the rocks.", "label": 1}
    assert Counter(row["label"] for row in read_rte(data_dir / GLUE / "RTE/dev.tsv")).keys() == {0, 1}
    first_rte = read_rte(data_dir / GLUE / "RTE/dev.tsv")[0]
    assert (first_rte["id"], first_rte["label"]) == ("0", 1)
    mrpc_dev = read_mrpc(data_dir / GLUE / "MRPC/dev.tsv")
    assert mrpc_dev[0]["id"] == "1355540-1355592"
    assert mrpc_dev[0]["sentence2"].startswith('" The foodservice')


def test_mrpc_train_is_msr_train_minus_dev(data_dir: Path) -> None:
    mrpc = data_dir / GLUE / "MRPC"
    train = read_mrpc_train(mrpc / "msr_paraphrase_train.txt", mrpc / "dev_ids.tsv")
    dev_ids = {row["id"] for row in read_mrpc(mrpc / "dev.tsv")}
    assert len(train) == 3668
    assert read_mrpc_dev_ids(mrpc / "dev_ids.tsv") == dev_ids
    assert len(dev_ids) == 408
    assert not dev_ids & {row["id"] for row in train}


def test_sick_splits(data_dir: Path, manifest: Manifest) -> None:
    path = data_dir / "sick/SICK.txt"
    entry = manifest["sick/SICK.txt"]
    relatedness = {name: read_sick_relatedness(path, name) for name in SEMEVAL_SETS}
    entailment = {name: read_sick_entailment(path, name) for name in SEMEVAL_SETS}
    sizes = {name: len(rows) for name, rows in relatedness.items()}
    assert sizes == {"TRAIN": 4439, "TRIAL": 495, "TEST": 4906} == entry["SemEval_set_counts"]
    assert {name: len(rows) for name, rows in entailment.items()} == sizes
    scores = [row["label"] for rows in relatedness.values() for row in rows]
    assert min(scores) == 0.0 and max(scores) == 1.0
    assert relatedness["TRAIN"][0]["label"] == pytest.approx((4.5 - 1) / 4)
    labels = Counter(row["label"] for rows in entailment.values() for row in rows)
    expected = entry["entailment_label_counts"]
    assert labels == {0: expected["ENTAILMENT"], 1: expected["NEUTRAL"], 2: expected["CONTRADICTION"]}


def test_sick_unknown_set_is_a_config_error(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'TRAIN'"):
        read_sick_relatedness(data_dir / "sick/SICK.txt", "TRAINS")


def test_tweet_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    expected = {
        **_entries(manifest, "tweeteval/datasets/*_text.txt"),
        **_entries(manifest, "xlm_t_umsab/data/sentiment/*_text.txt"),
    }
    measured = {}
    for text_path in expected:
        labels_path = text_path.replace("_text.txt", "_labels.txt")
        rows = read_tweet_classification(data_dir / text_path, data_dir / labels_path)
        assert Counter(str(row["label"]) for row in rows) == manifest[labels_path]["label_counts"]
        measured[text_path] = len(rows)
    assert measured == expected
    assert (
        len(expected) == 8 * 3 + 5 * 3 + 4 * 3 + 2
    )  # UMSAB; stance; emotion/hate/irony/offensive; sentiment
    assert measured["xlm_t_umsab/data/sentiment/hindi/train_text.txt"] == 1839
    assert measured["tweeteval/datasets/hate/train_text.txt"] == 9000


def test_xnli_and_pawsx_counts_and_labels(data_dir: Path, manifest: Manifest) -> None:
    for pattern, reader, names in (
        ("xnli_xtreme/data/xnli/dev-*.tsv", read_xnli_tsv, ["entailment", "neutral", "contradiction"]),
        ("pawsx_xtreme/data/pawsx/dev-*.tsv", read_pawsx_tsv, ["0", "1"]),
    ):
        expected = _entries(manifest, pattern)
        for path in expected:
            rows = reader(data_dir / path)
            assert len(rows) == expected[path], path
            measured_labels = Counter(names[row["label"]] for row in rows)
            assert measured_labels == manifest[path]["label_counts"], path


def test_pawsx_quoted_fields_are_unquoted(data_dir: Path) -> None:
    rows = read_pawsx_tsv(data_dir / "pawsx_xtreme/data/pawsx/dev-fr.tsv")
    assert not [row for row in rows if '""' in row["sentence1"] + row["sentence2"]]
    assert rows[39]["sentence1"].startswith('" T " est similaire')
    assert any('"Rang De Basanti"' in row["sentence1"] for row in rows)


def test_aligned_split_sizes(data_dir: Path) -> None:
    assert {part: len(indices) for part, indices in aligned_split(2490).items()} == {
        "train": 1494,
        "dev": 249,
        "test": 747,
    }
    assert {part: len(indices) for part, indices in aligned_split(2000).items()} == {
        "train": 1200,
        "dev": 200,
        "test": 600,
    }
    # 90 * 0.7 is 62.999... in floating point; the split must still use floor(63.0) = 63
    assert aligned_split(90)["test"] == range(63, 90)
    english = split_aligned(read_xnli_tsv(data_dir / "xnli_xtreme/data/xnli/dev-en.tsv"))
    swahili = split_aligned(read_xnli_tsv(data_dir / "xnli_xtreme/data/xnli/dev-sw.tsv"))
    assert [row["id"] for row in english["test"]] == [row["id"] for row in swahili["test"]]
    assert [row["label"] for row in english["test"]] == [row["label"] for row in swahili["test"]]
    assert english["test"][0]["id"] == "1743"


def test_copa_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    expected = {**_entries(manifest, "copa_en/*.jsonl"), **_entries(manifest, "xcopa/data*/*.jsonl")}
    for path, count in expected.items():
        rows = read_copa_jsonl(data_dir / path)
        assert len(rows) == count, path
        assert Counter(str(row["label"]) for row in rows) == manifest[path]["label_counts"], path
        assert all(len(row["choices"]) == 2 for row in rows)
    assert len(expected) == 2 + 11 * 2 + 10 * 2
    first = read_copa_jsonl(data_dir / "copa_en/data/xcopa/train-en.jsonl")[0]
    assert first == {
        "id": "0",
        "premise": "My body cast a shadow over the grass.",
        "question": "cause",
        "choices": ["The sun was rising.", "The grass was cut."],
        "label": 0,
    }


def _sentences_and_tokens(rows: list[dict[str, Any]]) -> tuple[int, int]:
    return len(rows), sum(len(row["tokens"]) for row in rows)


def test_conll2003_counts_and_tag_mapping(data_dir: Path, manifest: Manifest) -> None:
    for path, sentences in _entries(manifest, "conll2003/conll2003/*.txt", "sentences").items():
        rows = read_conll2003(data_dir / path)
        assert _sentences_and_tokens(rows) == (sentences, manifest[path]["tokens"]), path
        assert {tag for row in rows for tag in row["tags"]} == {
            "O",
            "B-PER",
            "I-PER",
            "B-ORG",
            "I-ORG",
            "B-LOC",
            "I-LOC",
        }
    train = read_conll2003(data_dir / "conll2003/conll2003/train.txt", entity_types=None)
    assert _sentences_and_tokens(train) == (14041, 203621)
    assert "B-MISC" in {tag for row in train for tag in row["tags"]}
    assert train[0]["tokens"][:3] == ["EU", "rejects", "German"]
    assert train[0]["tags"][:3] == ["B-ORG", "O", "B-MISC"]


def test_keep_entity_types() -> None:
    assert [keep_entity_types(tag) for tag in ("B-MISC", "I-MISC", "B-DATE", "I-DATE")] == ["O"] * 4
    assert [keep_entity_types(tag) for tag in ("O", "B-PER", "I-ORG", "B-LOC")] == [
        "O",
        "B-PER",
        "I-ORG",
        "B-LOC",
    ]
    assert keep_entity_types("B-DATE", ("DATE",)) == "B-DATE"


def test_masakhaner_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    expected = {
        **_entries(manifest, "masakhaner/data/*.txt", "sentences"),
        **_entries(manifest, "masakhaner2/MasakhaNER2.0/data/*.txt", "sentences"),
    }
    assert len(expected) == 10 * 3 + 20 * 2
    for path, sentences in expected.items():
        rows = read_masakhaner(data_dir / path)
        assert _sentences_and_tokens(rows) == (sentences, manifest[path]["tokens"]), path
        assert not any(tag.endswith("DATE") for row in rows for tag in row["tags"]), path
    luo = read_masakhaner(data_dir / "masakhaner/data/luo/train.txt")
    assert luo[0]["tokens"][0] == "Jii"
    assert len(luo) == 644
    assert len(read_masakhaner(data_dir / "masakhaner2/MasakhaNER2.0/data/mos/test.txt")) == 1294


def test_panx_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    expected = _entries(manifest, "panx/download/panx/*.tsv", "sentences")
    assert len(expected) == 2 + 56  # English train and dev, and 56 test languages (no Thai)
    for path, sentences in expected.items():
        rows = read_panx(data_dir / path)
        assert len(rows) == sentences, path
        # every line is a token, or the blank line after a sentence (the last one may lack it)
        assert manifest[path]["lines"] - sum(len(row["tokens"]) for row in rows) in (sentences, sentences - 1)
        tags = {tag for row in rows for tag in row["tags"]}
        assert tags <= {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}, path
    panx = "panx/download/panx"
    assert {split: expected[f"{panx}/{split}-en.tsv"] for split in ("train", "dev")} == {
        "train": 20000,
        "dev": 10000,
    }
    assert expected[f"{panx}/test-rw.tsv"] == 100 and expected[f"{panx}/test-sw.tsv"] == 1000
    train = read_panx(data_dir / panx / "train-en.tsv")
    assert sum(len(row["tokens"]) for row in train) == 160394
    assert train[0]["tokens"][:3] == ["R.H.", "Saunders", "("]
    assert train[0]["tags"][:3] == ["B-ORG", "I-ORG", "O"]
    kinyarwanda = read_panx(data_dir / panx / "test-rw.tsv")
    assert kinyarwanda[0] == {
        "id": "0",
        "tokens": ["Antipas", "Mbusa", "Nyamwisi"],
        "tags": ["B-PER", "I-PER", "I-PER"],
    }


def test_ud_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    expected = _entries(manifest, "ud/*.conllu", "sentences")
    assert len(expected) == 3 + 8
    for path, sentences in expected.items():
        rows = read_conllu_upos(data_dir / path)
        assert _sentences_and_tokens(rows) == (sentences, manifest[path]["syntactic_words"]), path
        assert len({row["id"] for row in rows}) == len(rows), path
    lines_train = read_conllu_upos(data_dir / "ud/UD_English-LinES/en_lines-ud-train.conllu")
    assert len(lines_train) == 3457
    assert lines_train[0] == {
        "id": "en_lines-ud-train-doc1-1",
        "tokens": ["Show", "All"],
        "tags": ["VERB", "PRON"],
    }


def test_squad_counts(data_dir: Path, manifest: Manifest) -> None:
    xquad = {path: read_squad_json(data_dir / path) for path in _entries(manifest, "xquad/xquad.*.json")}
    assert len(xquad) == 12
    assert {len(rows) for rows in xquad.values()} == {1190}
    ids = {tuple(row["id"] for row in rows) for rows in xquad.values()}
    assert len(ids) == 1, "XQuAD languages must share question ids"
    assert all(len(row["answers"]["text"]) == 1 for rows in xquad.values() for row in rows)
    train = read_squad_json(
        data_dir / "tydiqa_goldp_xtreme/data/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json"
    )
    assert len(train) == 3696
    assert len({row["id"] for row in train}) == 3696
    assert train[0]["id"] == "0-12"
    assert train[0]["answers"] == {"text": ["1920s"], "answer_start": [159]}


def test_tydiqa_dev_has_no_gold_answers(data_dir: Path, manifest: Manifest) -> None:
    expected = _entries(manifest, "tydiqa_goldp_xtreme/*/tydiqa.goldp.*.dev.json")
    assert len(expected) == 9
    for path, count in expected.items():
        with pytest.raises(DataError, match="no gold answer"):
            read_squad_json(data_dir / path)
        rows = read_squad_json(data_dir / path, require_answers=False)
        assert len(rows) == count, path
        assert all(row["answers"] == {"text": [], "answer_start": []} for row in rows), path


TYDIQA_LANGUAGES = {
    "ar": "arabic", "bn": "bengali", "en": "english", "fi": "finnish", "id": "indonesian", "ko": "korean",
    "ru": "russian", "sw": "swahili", "te": "telugu",
}  # fmt: skip


def test_labelled_tydiqa_dev_matches_xtreme_dev_question_for_question(
    data_dir: Path, manifest: Manifest
) -> None:
    """tydiqa_goldp/ is the TyDiQA-GoldP dev set with its answers: the same questions, ids and contexts as
    XTREME's answer-blanked tydiqa_goldp_xtreme/ dev files, so it can stand for them as a test set."""
    expected = _entries(manifest, "tydiqa_goldp/language_data/*/*_tydiqa_dev.json")
    assert len(expected) == len(TYDIQA_LANGUAGES) == 9
    xtreme_dir = data_dir / "tydiqa_goldp_xtreme/data/tydiqa/tydiqa-goldp-v1.1-dev"
    answers_per_question: Counter[int] = Counter()
    for code, name in TYDIQA_LANGUAGES.items():
        path = f"tydiqa_goldp/language_data/{name}/{name}_tydiqa_dev.json"
        rows = read_squad_json(data_dir / path)
        assert len(rows) == expected[path], path
        xtreme = read_squad_json(xtreme_dir / f"tydiqa.goldp.{code}.dev.json", require_answers=False)
        blanked = {row["id"]: row for row in xtreme}
        assert len(blanked) == len(xtreme) == len(rows), code
        for row in rows:
            assert row["id"] in blanked, (code, row["id"])
            assert (row["question"], row["context"]) == (
                blanked[row["id"]]["question"],
                blanked[row["id"]]["context"],
            ), (code, row["id"])
            answers_per_question[len(row["answers"]["text"])] += 1
    assert sum(answers_per_question.values()) == 921 + 113 + 440 + 782 + 565 + 276 + 812 + 499 + 669
    assert set(answers_per_question) == {1, 2}  # several gold answers: F1 takes the best of them


def test_tatoeba_counts_match_manifest(data_dir: Path, manifest: Manifest) -> None:
    sources = {
        path: count
        for path, count in _entries(manifest, "tatoeba/data/tatoeba/v1/tatoeba.*-eng.*").items()
        if not path.endswith(".eng")
    }
    assert len(sources) == 112
    measured = {}
    for path in sources:
        english = path.rsplit(".", 1)[0] + ".eng"
        rows = read_tatoeba(data_dir / path, data_dir / english)
        assert len(rows) == manifest[english]["examples"], path
        measured[path] = len(rows)
    assert measured == sources
    amharic = read_tatoeba(
        data_dir / "tatoeba/data/tatoeba/v1/tatoeba.amh-eng.amh",
        data_dir / "tatoeba/data/tatoeba/v1/tatoeba.amh-eng.eng",
    )
    assert len(amharic) == 168
    assert amharic[0]["target"] == "It's truly frightening."


def test_conllu_skips_ranges_and_empty_nodes(tmp_path: Path) -> None:
    path = tmp_path / "x.conllu"
    words = [
        "# sent_id = s1",
        "1\tDu\tde\tADP\t_\t_\t0\troot\t_\t_",
        "2-3\tdu\t_\t_\t_\t_\t_\t_\t_\t_",
        "2\tde\tde\tADP\t_\t_\t1\tcase\t_\t_",
        "3\tle\tle\tDET\t_\t_\t1\tdet\t_\t_",
        "3.1\tvu\tvoir\tVERB\t_\t_\t_\t_\t1:conj\t_",
    ]
    path.write_text("\n".join(words) + "\n\n", encoding="utf-8")
    assert read_conllu_upos(path) == [
        {"id": "s1", "tokens": ["Du", "de", "le"], "tags": ["ADP", "ADP", "DET"]}
    ]


def test_line_files_with_crlf_and_no_final_newline(tmp_path: Path) -> None:
    text, labels = tmp_path / "t_text.txt", tmp_path / "t_labels.txt"
    text.write_bytes("a\u2028b\r\n\r\nc".encode())
    labels.write_bytes(b"0\r\n1\r\n2")
    rows = read_tweet_classification(text, labels)
    assert [(row["text"], row["label"]) for row in rows] == [("a\u2028b", 0), ("", 1), ("c", 2)]


TSV_ROW = "a\tb\tentailment\n"
MALFORMED: list[tuple[str, dict[str, str], Callable[[Path], object]]] = [
    ("cola.tsv", {"cola.tsv": "gj04\t1\t\tfine\ngj04\t1\tonly three\n"}, lambda d: read_cola(d / "cola.tsv")),
    ("sst.tsv", {"sst.tsv": "sentence\tlabel\nok\t2\n"}, lambda d: read_sst2(d / "sst.tsv")),
    (
        "rte.tsv",
        {"rte.tsv": "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tcontradiction\n"},
        lambda d: read_rte(d / "rte.tsv"),
    ),
    (
        "msr.txt",
        {
            "msr.txt": "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\ta\tb\n",
            "ids.tsv": "3\t4\n",
        },
        lambda d: read_mrpc_train(d / "msr.txt", d / "ids.tsv"),
    ),
    ("ids.tsv", {"msr.txt": "", "ids.tsv": "3 4\n"}, lambda d: read_mrpc_train(d / "msr.txt", d / "ids.tsv")),
    (
        "SICK.txt",
        {
            "SICK.txt": "pair_ID\tsentence_A\tsentence_B\tentailment_label\trelatedness_score"
            "\tSemEval_set\r\n1\ta\tb\tNEUTRAL\t7\tTRAIN"
        },
        lambda d: read_sick_relatedness(d / "SICK.txt", "TRAIN"),
    ),
    (
        "labels.txt",
        {"text.txt": "a\nb\n", "labels.txt": "0\n"},
        lambda d: read_tweet_classification(d / "text.txt", d / "labels.txt"),
    ),
    (
        "labels.txt",
        {"text.txt": "a\n", "labels.txt": "pos\n"},
        lambda d: read_tweet_classification(d / "text.txt", d / "labels.txt"),
    ),
    ("dev.tsv", {"dev.tsv": TSV_ROW + "a\tb\tmaybe\n"}, lambda d: read_xnli_tsv(d / "dev.tsv")),
    ("dev.tsv", {"dev.tsv": "a\tb\n"}, lambda d: read_pawsx_tsv(d / "dev.tsv")),
    ("c.jsonl", {"c.jsonl": '{"premise": "p"\r\n'}, lambda d: read_copa_jsonl(d / "c.jsonl")),
    (
        "c.jsonl",
        {
            "c.jsonl": json.dumps(
                {"premise": "p", "choice1": "a", "choice2": "b", "question": "why", "label": 0, "idx": 1}
            )
        },
        lambda d: read_copa_jsonl(d / "c.jsonl"),
    ),
    ("ner.txt", {"ner.txt": "EU NNP B-ORG\n"}, lambda d: read_conll2003(d / "ner.txt")),
    ("ner.txt", {"ner.txt": "Abuja LOC\n"}, lambda d: read_masakhaner(d / "ner.txt")),
    ("ner.tsv", {"ner.tsv": "Abuja B-LOC\n"}, lambda d: read_panx(d / "ner.tsv")),
    (
        "x.conllu",
        {"x.conllu": "# sent_id = 1\n1\tword\tword\tNOUN\n\n"},
        lambda d: read_conllu_upos(d / "x.conllu"),
    ),
    (
        "x.conllu",
        {"x.conllu": "1\tword\tword\tNOUNS\t_\t_\t0\troot\t_\t_\n\n"},
        lambda d: read_conllu_upos(d / "x.conllu"),
    ),
    (
        "q.json",
        {"q.json": '{"data": [{"paragraphs": [{"context": "abc", "qas": []}]'},
        lambda d: read_squad_json(d / "q.json"),
    ),
    (
        "q.json",
        {
            "q.json": json.dumps(
                {
                    "data": [
                        {
                            "paragraphs": [
                                {
                                    "context": "abc",
                                    "qas": [
                                        {
                                            "id": "q",
                                            "question": "?",
                                            "answers": [{"text": "c", "answer_start": 1}],
                                        }
                                    ],
                                }
                            ]
                        }
                    ]
                }
            )
        },
        lambda d: read_squad_json(d / "q.json"),
    ),
    ("q.json", {"q.json": '{"data": [{"paras": []}]}'}, lambda d: read_squad_json(d / "q.json")),
    ("t.eng", {"t.xxx": "a\nb\n", "t.eng": "a\n"}, lambda d: read_tatoeba(d / "t.xxx", d / "t.eng")),
]


@pytest.mark.parametrize(("bad_file", "files", "read"), MALFORMED)
def test_malformed_input_names_the_file(
    tmp_path: Path, bad_file: str, files: dict[str, str], read: Callable[[Path], object]
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read(tmp_path)
    assert str(tmp_path / bad_file) in str(raised.value)
