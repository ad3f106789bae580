"""Robustness: counter-fitted neighbours, RS-DA synonym substitution, character/diacritic/word perturbations
and generalized cross-lingual pairs, on the real data mirror where the data matters."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections import Counter
from itertools import pairwise, permutations
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xlt.core.errors import ConfigError, DataError
from xlt.data.readers.squad import read_squad_json
from xlt.robustness.generalized import (
    CROSS_LANGUAGE_FILES,
    CrossLanguageFiles,
    check_labels,
    generalized_pairs,
    index_by_id,
    sample_ids,
    shared_ids,
)
from xlt.robustness.neighbours import (
    Neighbours,
    build_neighbours,
    load_neighbours,
    load_neighbours_from,
    neighbours_file,
)
from xlt.robustness.perturb import (
    augment_copies,
    char_noise,
    has_diacritics,
    join_words,
    match_case,
    split_punctuation,
    split_words,
    strip_diacritics,
    swap_plan,
    synonym_substitute,
    word_drop,
    word_swap,
)
from xlt.tasks import get_task
from xlt.tasks.spec import pinned_sources

Row = dict[str, Any]


@pytest.fixture(scope="module")
def neighbours(data_dir: Path) -> Neighbours:
    return load_neighbours(data_dir)


@pytest.fixture(scope="module")
def english_sentences(data_dir: Path) -> list[str]:
    """The first 100 XNLI English test items' premises and hypotheses."""
    rows = get_task("xnli").load(data_dir, "test", "en", limit=100).to_list()
    return [row[column] for row in rows for column in ("sentence1", "sentence2")]


@pytest.fixture(scope="module")
def multilingual_sentences(data_dir: Path) -> list[str]:
    """Premises in scripts with and without diacritics, digits and punctuation (20 per language)."""
    task = get_task("xnli")
    return [
        row["sentence1"]
        for language in ("en", "fr", "vi", "ar", "hi", "zh", "ru")
        for row in task.load(data_dir, "test", language, limit=20).to_list()
    ]


# ---- neighbours -------------------------------------------------------------------------------------------


def test_neighbours_file_is_pinned_and_counts_match_the_manifest(neighbours: Neighbours) -> None:
    pinned = pinned_sources()["robust_xlt"]["files"]
    assert neighbours_file().sha256 == pinned["robust_xlt/counterfitted_neighbors.json"]
    assert len(neighbours) == 49_975
    assert neighbours.with_neighbours() == 25_591


def test_neighbour_lookup_is_lowercase_and_lists_are_clean(neighbours: Neighbours) -> None:
    assert "film" in neighbours.of("movie")
    assert neighbours.of("MOVIE") == neighbours.of("Movie") == neighbours.of("movie") == neighbours["Movie"]
    assert "Movie" in neighbours
    assert neighbours.of("they") == ()  # listed without neighbours
    assert neighbours.of("xyzzyqq") == ()  # not listed
    for word, listed in neighbours.items():
        assert word == word.lower()
        assert word not in listed and len(set(listed)) == len(listed)


def test_build_neighbours_merges_case_collisions_and_drops_self_and_duplicates() -> None:
    built = build_neighbours({"Big": ["large", "big", "large"], "big": ["huge", "large"], "x": []})
    assert built.of("BIG") == ("large", "huge")
    assert built.of("x") == ()
    mutable = {"a": ("b",)}
    frozen = Neighbours(mutable)
    mutable["a"] = ("c",)
    assert frozen.of("a") == ("b",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"movie": ["film",', "not valid JSON"),
        ('["movie", "film"]', "expected a JSON object"),
        ('{"movie": "film"}', "neighbours of 'movie' are not a list"),
        ('{"movie": ["film", 3]}', "neighbour 3 of 'movie'"),
        ('{"movie": ["motion picture"]}', "neighbour 'motion picture' of 'movie'"),
    ],
)
def test_malformed_neighbour_file_is_a_data_error_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "neighbours.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*" + re.escape(message)):
        load_neighbours_from(path)


def test_changed_neighbour_file_fails_the_pin_check(data_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "robust_xlt" / "counterfitted_neighbors.json"
    copy.parent.mkdir()
    shutil.copyfile(data_dir / "robust_xlt" / "counterfitted_neighbors.json", copy)
    copy.write_text(json.dumps({"movie": ["film"]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"counterfitted_neighbors\.json: content differs from the pinned"):
        load_neighbours(tmp_path)


# ---- RS-DA synonym substitution ---------------------------------------------------------------------------


def _allowed(word: str, neighbours: Neighbours) -> set[str]:
    """Every output a single RS-DA draw may give for `word`."""
    prefix, core, suffix = split_punctuation(word)
    return {word} | {prefix + match_case(core, other) + suffix for other in neighbours.of(core)}


def test_rsda_output_words_are_the_original_or_a_neighbour(
    neighbours: Neighbours, english_sentences: list[str]
) -> None:
    rng = np.random.default_rng(0)
    changed = 0
    for draw in range(200):
        text = english_sentences[draw % len(english_sentences)]
        out = synonym_substitute(text, neighbours, rng)
        before, after = split_words(text), split_words(out)
        assert (after.lead, after.gaps, after.tail) == (before.lead, before.gaps, before.tail)
        assert len(after.words) == len(before.words)
        for original, new in zip(before.words, after.words, strict=True):
            assert new in _allowed(original, neighbours), (original, new)
            if not neighbours.of(split_punctuation(original)[1]):
                assert new == original
            changed += new != original
    assert changed > 200  # the property is not vacuous: many words were replaced


def test_words_without_neighbours_never_change_and_use_no_randomness(neighbours: Neighbours) -> None:
    text = "They  xyzzyqq , from the\tQwertzuiop... 12345"
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    assert all(synonym_substitute(text, neighbours, rng) == text for _ in range(100))
    assert rng.bit_generator.state == state


def test_every_neighbour_of_a_word_with_few_neighbours_is_drawn_about_uniformly(
    neighbours: Neighbours,
) -> None:
    word = "above"
    candidates = (word, *neighbours.of(word))
    assert 2 <= len(candidates) <= 4
    rng = np.random.default_rng(1)
    draws = 300 * len(candidates)
    counts = Counter(synonym_substitute(word, neighbours, rng) for _ in range(draws))
    assert set(counts) == set(candidates)
    for candidate in candidates:  # expected 300 each, sd about 14
        assert 240 <= counts[candidate] <= 360, counts


def test_rsda_keeps_casing_and_punctuation() -> None:
    table = build_neighbours({"movie": ["film"], "usa": ["america"], "it's": ["tis"], "good": ["fine"]})
    rng = np.random.default_rng(0)
    outputs = {synonym_substitute('"Movie," USA it\'s (good)!', table, rng) for _ in range(200)}
    assert '"Film," AMERICA tis (fine)!' in outputs
    assert '"Movie," USA it\'s (good)!' in outputs
    assert len(outputs) == 2**4
    assert split_punctuation("...") == ("...", "", "")
    assert split_punctuation("«l'été»") == ("«", "l'été", "»")
    assert match_case("I", "me") == "Me"
    assert match_case("iPhone", "phone") == "phone"


def test_augment_copies_gives_k_deterministic_copies(
    neighbours: Neighbours, english_sentences: list[str]
) -> None:
    text = english_sentences[0]
    copies = augment_copies(text, neighbours, 5, np.random.default_rng(7))
    assert len(copies) == 5
    assert copies == augment_copies(text, neighbours, 5, np.random.default_rng(7))
    assert len(set(copies)) > 1
    for copy in copies:
        for original, new in zip(split_words(text).words, split_words(copy).words, strict=True):
            assert new in _allowed(original, neighbours)
    assert augment_copies(text, neighbours, 0, np.random.default_rng(7)) == []
    with pytest.raises(ValueError, match="non-negative"):
        augment_copies(text, neighbours, -1, np.random.default_rng(7))


# ---- character noise --------------------------------------------------------------------------------------


def _non_letters(text: str) -> list[str]:
    return [char for char in text if not char.isalpha()]


def test_char_noise_rate_zero_is_identity(multilingual_sentences: list[str]) -> None:
    rng = np.random.default_rng(0)
    assert all(char_noise(text, 0.0, rng) == text for text in multilingual_sentences)


@pytest.mark.parametrize("rate", [0.05, 0.3, 1.0])
def test_char_noise_touches_only_letters(multilingual_sentences: list[str], rate: float) -> None:
    """Exact guarantee: the non-letters are the same, in the same order; letters come from the alphabet."""
    rng = np.random.default_rng(11)
    changed = 0
    for text in [*multilingual_sentences, "Room 101, floor 3: 12.5% off!", "a1b2 c3"]:
        out = char_noise(text, rate, rng)
        assert _non_letters(out) == _non_letters(text)
        assert {char for char in out if char.isalpha()} <= {char for char in text if char.isalpha()}
        changed += out != text
    assert changed >= len(multilingual_sentences) * (0.8 if rate < 0.1 else 1.0)


def test_char_noise_operations_on_a_lone_letter() -> None:
    """'a' between digits with alphabet {a}: no substitution (no other letter), no swap (next is a digit),
    so rate 1 gives exactly deletion or insertion of 'a'."""
    rng = np.random.default_rng(2)
    assert {char_noise("1a2", 1.0, rng) for _ in range(100)} == {"12", "1aa2"}


def test_char_noise_is_deterministic_and_checks_the_rate() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    assert char_noise(text, 0.2, np.random.default_rng(5)) == char_noise(text, 0.2, np.random.default_rng(5))
    with pytest.raises(ValueError, match="rate"):
        char_noise(text, 1.5, np.random.default_rng(5))


# ---- diacritics -------------------------------------------------------------------------------------------

DIACRITIC_EXAMPLES = [
    # Yoruba: tone marks and under-dots go
    ("\u1ecc\u0300y\u1ecd\u0301", "Oyo"),  # Ọ̀yọ́ as NFC (Ọ has a precomposed form, the grave does not)
    ("O\u0323\u0300yo\u0323\u0301", "Oyo"),  # the same word fully decomposed
    ("Ẹ kú àárọ̀, ṣé dáadáa ni?", "E ku aaro, se daadaa ni?"),
    ("Ìbàdàn", "Ibadan"),
    # Hausa: the hooked letters are letters of their own and stay; tone marks (when written) go
    ("Ƙasar Najeriya", "Ƙasar Najeriya"),
    ("ɗan ɓera ƴaƴa ƙasa", "ɗan ɓera ƴaƴa ƙasa"),
    ("màcè ƙàsā", "mace ƙasa"),
    # French
    ("Où est l'élève ? Noël, garçon, naïve, Œuvre.", "Ou est l'eleve ? Noel, garcon, naive, Œuvre."),
    ("À bientôt, ça va être génial", "A bientot, ca va etre genial"),
]


@pytest.mark.parametrize(("text", "stripped"), DIACRITIC_EXAMPLES)
def test_strip_diacritics_examples(text: str, stripped: str) -> None:
    assert strip_diacritics(text) == stripped
    assert has_diacritics(text) == (text != stripped)
    assert not has_diacritics(stripped)


def test_strip_diacritics_is_idempotent(multilingual_sentences: list[str]) -> None:
    for text in [*multilingual_sentences, *(text for text, _ in DIACRITIC_EXAMPLES)]:
        once = strip_diacritics(text)
        assert strip_diacritics(once) == once
        assert not has_diacritics(once)
        assert unicodedata.is_normalized("NFC", once)


def test_has_diacritics_letters() -> None:
    assert has_diacritics("é") and has_diacritics("e\u0301")
    assert not has_diacritics("e") and not has_diacritics("ɗƙɓ") and not has_diacritics("")


# ---- word-level perturbations -----------------------------------------------------------------------------

SPACED = "  Hello,\tworld  of\nwords  and more words "


def test_split_and_join_words_round_trip(english_sentences: list[str]) -> None:
    for text in [*english_sentences, SPACED, "", "   ", "one"]:
        assert join_words(split_words(text)) == text
    assert split_words(SPACED).words == ("Hello,", "world", "of", "words", "and", "more", "words")


def test_word_perturbations_with_rate_zero_are_identity(english_sentences: list[str]) -> None:
    rng = np.random.default_rng(0)
    for text in [*english_sentences, SPACED]:
        assert word_drop(text, 0.0, rng) == text
        assert word_swap(text, 0.0, rng) == text


def test_word_swap_preserves_words_and_whitespace(english_sentences: list[str]) -> None:
    rng = np.random.default_rng(4)
    changed = 0
    for text in [*english_sentences, SPACED]:
        out = word_swap(text, 0.3, rng)
        before, after = split_words(text), split_words(out)
        assert Counter(after.words) == Counter(before.words)
        assert (after.lead, after.gaps, after.tail) == (before.lead, before.gaps, before.tail)
        changed += out != text
    assert changed > len(english_sentences) // 2


def test_word_swap_puts_each_word_in_at_most_one_swap() -> None:
    assert word_swap("a b c d e", 1.0, np.random.default_rng(0)) == "b a d c e"
    rng = np.random.default_rng(9)
    for _ in range(200):
        plan = swap_plan(12, 0.5, rng)
        assert all(right - left >= 2 for left, right in pairwise(plan))
        assert all(0 <= index <= 10 for index in plan)


def _is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    remaining = iter(long)
    return all(word in remaining for word in short)


@pytest.mark.parametrize("rate", [0.2, 0.6, 1.0])
def test_word_drop_keeps_at_least_one_word_in_order(english_sentences: list[str], rate: float) -> None:
    rng = np.random.default_rng(8)
    for text in [*english_sentences, SPACED, "single"]:
        before, after = split_words(text), split_words(word_drop(text, rate, rng))
        assert 1 <= len(after.words) <= len(before.words)
        assert _is_subsequence(after.words, before.words)
        if rate == 1.0:
            assert len(after.words) == 1
    assert word_drop("   ", 1.0, rng) == "   "


# ---- generalized cross-lingual pairs ----------------------------------------------------------------------

GENERALIZED_CASES = [("xnli", ("en", "de", "sw", "zh")), ("stsb-multi", ("en", "de", "ru", "zh"))]


def _items(data_dir: Path, task: str, language: str) -> dict[str, Row]:
    return {row["id"]: row for row in get_task(task).load(data_dir, "test", language).to_list()}


def _numbers(row: Row) -> set[str]:
    return set(re.findall(r"\d+", f"{row['sentence1']} {row['sentence2']}"))


@pytest.mark.parametrize(("task", "languages"), GENERALIZED_CASES)
def test_test_sets_share_item_ids_and_are_aligned_translations(
    data_dir: Path, task: str, languages: tuple[str, ...]
) -> None:
    """What generalized pairs rely on: the same ids in every language, naming translations of one item
    (numbers in the English item reappear in the same-id item, but not in another item), with one label."""
    english = _items(data_dir, task, "en")
    ids = list(english)
    with_numbers = [k for k, item in enumerate(ids) if _numbers(english[item])]
    assert len(with_numbers) >= 100
    for language in languages[1:]:
        other = _items(data_dir, task, language)
        assert list(other) == ids
        assert all(other[item]["label"] == english[item]["label"] for item in ids)
        same = sum(_numbers(english[ids[k]]) <= _numbers(other[ids[k]]) for k in with_numbers)
        shifted = sum(
            _numbers(english[ids[k]]) <= _numbers(other[ids[(k + 7) % len(ids)]]) for k in with_numbers
        )
        assert same >= 0.7 * len(with_numbers) and shifted <= 0.1 * len(with_numbers), (
            language,
            same,
            shifted,
        )


@pytest.mark.parametrize(("task", "languages"), GENERALIZED_CASES)
def test_generalized_pairs_match_items_by_identity(
    data_dir: Path, task: str, languages: tuple[str, ...]
) -> None:
    pairs = generalized_pairs(task, data_dir, languages)
    assert set(pairs) == set(permutations(languages, 2))
    items = {language: _items(data_dir, task, language) for language in languages}
    expected_ids = list(items[languages[0]])
    for (first, second), dataset in pairs.items():
        assert dataset.column_names == ["id", "sentence1", "sentence2", "label"]
        assert dataset["id"] == expected_ids
        for row in dataset.to_list():
            own_first, own_second = items[first][row["id"]], items[second][row["id"]]
            assert row["sentence1"] == own_first["sentence1"]
            assert row["sentence2"] == own_second["sentence2"]
            assert row["label"] == own_first["label"] == own_second["label"]


def test_generalized_subset_is_the_same_in_every_pair_and_fixed_by_seed(data_dir: Path) -> None:
    languages = ("en", "fr", "ru")
    pairs = generalized_pairs("stsb-multi", data_dir, languages, max_examples=50, seed=3)
    id_lists = {tuple(dataset["id"]) for dataset in pairs.values()}
    assert len(id_lists) == 1
    (chosen,) = id_lists
    assert len(chosen) == 50 and list(chosen) == sorted(chosen, key=int)
    again = generalized_pairs("stsb-multi", data_dir, languages, max_examples=50, seed=3)
    assert again[("fr", "ru")].to_list() == pairs[("fr", "ru")].to_list()
    other_seed = generalized_pairs("stsb-multi", data_dir, languages, max_examples=50, seed=4)
    assert other_seed[("en", "fr")]["id"] != list(chosen)


def test_generalized_pawsx_leaves_out_untranslated_items(data_dir: Path) -> None:
    languages = ("en", "de", "ko")
    pairs = generalized_pairs("pawsx", data_dir, languages)
    items = {language: _items(data_dir, "pawsx", language) for language in languages}
    untranslated = {
        item
        for rows in items.values()
        for item, row in rows.items()
        if "NS" in (row["sentence1"], row["sentence2"])
    }
    assert untranslated  # PAWS-X de and ko each mark some sentences "NS"
    for (first, second), dataset in pairs.items():
        assert set(dataset["id"]) == set(items["en"]) - untranslated
        for row in dataset.to_list():
            assert row["sentence1"] == items[first][row["id"]]["sentence1"]
            assert row["sentence2"] == items[second][row["id"]]["sentence2"]
            assert row["label"] == items["en"][row["id"]]["label"]


def test_generalized_pairs_reject_bad_requests(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"task 'semrel' has no generalized.*xnli, pawsx, stsb-multi"):
        generalized_pairs("semrel", data_dir, ["eng", "hau"])
    with pytest.raises(ConfigError, match="at least two languages"):
        generalized_pairs("xnli", data_dir, ["en"])
    with pytest.raises(ConfigError, match="repeat a language"):
        generalized_pairs("xnli", data_dir, ["en", "de", "en"])
    with pytest.raises(ConfigError, match="no test data for language 'xx'"):
        generalized_pairs("xnli", data_dir, ["en", "xx"])
    with pytest.raises(ConfigError, match="max_examples"):
        generalized_pairs("xnli", data_dir, ["en", "de"], max_examples=0)


def test_generalized_pairs_reject_disagreeing_labels(data_dir: Path) -> None:
    xnli = get_task("xnli")
    reader = xnli.reader

    def flip_german_label(paths: list[Path], split: Any) -> list[Row]:
        rows = reader(paths, split)
        if paths[0].name == "dev-de.tsv":
            rows[0] = {**rows[0], "label": (rows[0]["label"] + 1) % 3}
        return rows

    broken = xnli.model_copy(update={"reader": flip_german_label})
    with pytest.raises(
        DataError,
        match=re.escape("xnli: item 1743 has different labels across languages: {'en': 1, 'de': 2}"),
    ):
        generalized_pairs(broken, data_dir, ["en", "de"])


MLQA_LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")


def test_mlqa_generalized_pairs_are_its_42_cross_language_files(data_dir: Path) -> None:
    """(A, B): MLQA's dev file with the context in A and the question in B, each question an item of A's
    own test set (its context and answers) asked in B's own words; counts as in MANIFEST.json."""
    manifest = json.loads((data_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    (mlqa,) = [d for d in manifest["datasets"] if d["dir"] == "mlqa"]
    counts = mlqa["splits"]["dev"]  # "<context language>-<question language>" -> questions
    pairs = generalized_pairs("mlqa", data_dir, MLQA_LANGUAGES)
    assert set(pairs) == set(permutations(MLQA_LANGUAGES, 2)) and len(pairs) == 42
    items = {language: _items(data_dir, "mlqa", language) for language in MLQA_LANGUAGES}
    for language, rows in items.items():
        assert len(rows) == counts[f"{language}-{language}"]
    for (context, question), dataset in pairs.items():
        assert dataset.column_names == ["id", "context", "question", "answers"]
        assert len(dataset) == counts[f"{context}-{question}"], (context, question)
        for row in dataset.to_list():
            own = items[context][row["id"]]
            assert (row["context"], row["answers"]) == (own["context"], own["answers"])
            assert row["question"] == items[question][row["id"]]["question"] != own["question"]
    assert len(pairs[("de", "ar")]) == 207 and len(pairs[("en", "zh")]) == 504


def test_mlqa_generalized_subset_is_fixed_by_seed(data_dir: Path) -> None:
    pairs = generalized_pairs("mlqa", data_dir, ("en", "hi"), max_examples=20, seed=1)
    again = generalized_pairs("mlqa", data_dir, ("en", "hi"), max_examples=20, seed=1)
    assert {pair: len(dataset) for pair, dataset in pairs.items()} == {("en", "hi"): 20, ("hi", "en"): 20}
    assert pairs[("hi", "en")].to_list() == again[("hi", "en")].to_list()
    # the same questions in the context language are the clean reference of a pair
    hindi = _items(data_dir, "mlqa", "hi")
    assert all(hindi[row["id"]]["context"] == row["context"] for row in pairs[("hi", "en")].to_list())


def test_mlqa_pair_that_is_not_its_languages_items_is_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = CROSS_LANGUAGE_FILES["mlqa"]

    def reworded(path: Path) -> list[Row]:
        rows = read_squad_json(path)
        rows[0] = {**rows[0], "question": rows[0]["question"] + "?"}
        return rows

    monkeypatch.setitem(CROSS_LANGUAGE_FILES, "mlqa", CrossLanguageFiles(files.pattern, reworded))  # type: ignore[index]
    with pytest.raises(DataError, match=r"mlqa de>es .*is not the es test set's question of item"):
        generalized_pairs("mlqa", data_dir, ("de", "es"))


def test_item_identity_checks() -> None:
    rows = {"en": {"0": {"label": 1}, "1": {"label": 0}}, "de": {"0": {"label": 1}, "1": {"label": 0}}}
    assert shared_ids("t", rows) == ["0", "1"]
    check_labels("t", rows, ["0", "1"])
    with pytest.raises(DataError, match="do not hold the same items"):
        shared_ids("t", {"en": rows["en"], "de": {"0": {"label": 1}}})
    with pytest.raises(DataError, match="item 1 has different labels"):
        check_labels("t", {"en": rows["en"], "de": {"0": {"label": 1}, "1": {"label": 2}}}, ["0", "1"])
    with pytest.raises(DataError, match="id '0' occurs twice"):
        index_by_id([{"id": "0"}, {"id": "0"}], "t test de")
    ids = [str(k) for k in range(10)]
    assert sample_ids(ids, None, 0) == ids and sample_ids(ids, 20, 0) == ids
    assert sample_ids(ids, 4, 0) == sample_ids(ids, 4, 0) and len(sample_ids(ids, 4, 0)) == 4
