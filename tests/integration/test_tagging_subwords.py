"""Which sub-word carries a word's tag, on me5-small's real XLM-R tokenizer (and a WordPiece one)."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from xlt.models.encoders import model_path, prepare
from xlt.study.plan import Stage
from xlt.training.config import TrainingConfig
from xlt.training.kinds.tagging import boundary_pieces, word_positions

# UD Chinese-GSD test style: words without spaces; XLM-R has no "▁人民", so the word becomes "▁" + "人民"
WORDS = ["中国", "人民", "很", "高兴", "。", "Hello", "world"]


@pytest.fixture(scope="module")
def xlmr_tokenizer():  # type: ignore[no-untyped-def]
    path = prepare("me5-small")
    assert path is not None
    return AutoTokenizer.from_pretrained(path)


def test_a_word_after_a_bare_boundary_piece_is_labelled_at_its_content(xlmr_tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoded = xlmr_tokenizer([WORDS], is_split_into_words=True)
    pieces = encoded.tokens(0)
    skip = boundary_pieces(xlmr_tokenizer)
    assert skip == {xlmr_tokenizer.convert_tokens_to_ids("\u2581")}
    first = word_positions(encoded, 0)
    content = word_positions(encoded, 0, skip)
    assert sorted(first) == sorted(content) == list(range(len(WORDS)))
    bare = [w for w in range(len(WORDS)) if pieces[first[w]] == "\u2581"]
    assert bare, f"the test needs words split as '\u2581' + pieces: {pieces}"
    for word in range(len(WORDS)):
        if word in bare:  # the next piece, still of the same word
            assert content[word] == first[word] + 1 and encoded.word_ids(0)[content[word]] == word
            assert pieces[content[word]] != "\u2581"
        else:  # a word whose first piece has content keeps it ("▁Hello")
            assert content[word] == first[word]


def test_a_word_that_is_only_a_boundary_piece_keeps_it(xlmr_tokenizer) -> None:  # type: ignore[no-untyped-def]
    class Encoded(dict):  # type: ignore[type-arg]
        def word_ids(self, row: int) -> list[int | None]:
            return [None, 0, 1, 1, None]

    space = xlmr_tokenizer.convert_tokens_to_ids("\u2581")
    encoded = Encoded(input_ids=[[0, space, space, 7, 2]])
    assert word_positions(encoded, 0, frozenset({space})) == {0: 1, 1: 3}


def test_wordpiece_has_no_boundary_piece() -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_path("minilm-l6-en"))
    assert boundary_pieces(tokenizer) == frozenset()
    encoded = tokenizer([["unbelievable", "words", "."]], is_split_into_words=True)
    assert word_positions(encoded, 0, boundary_pieces(tokenizer)) == word_positions(encoded, 0)


def test_the_rule_enters_tagging_stage_ids_only() -> None:
    """Tagging stages built before the rule existed (ids without it) are never reused for the new rule;
    the ids of stages of other task types do not change."""
    default, xtreme = TrainingConfig(), TrainingConfig(word_labels="first")
    assert default.identity() == xtreme.identity() == {}
    assert default.identity(tagging=True) == {"word_labels": "first-content"}
    assert xtreme.identity(tagging=True) == {"word_labels": "first"}

    def stage(task: str, training: TrainingConfig) -> Stage:
        return Stage(
            kind="intermediate",
            encoder="me5-small",
            encoder_weights="w",
            task=task,
            seed=1,
            training=training,
        )

    assert stage("conll-ner", default).stage_id != stage("conll-ner", xtreme).stage_id
    assert stage("sst2", default).stage_id == stage("sst2", xtreme).stage_id
