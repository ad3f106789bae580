"""LAReQA answer retrieval and BUCC bitext mining: the readers against MANIFEST.json, mAP@20 and margin mining
against hand-computed cases, and the pooled evaluation (one embedding of the pool for every language)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.core.errors import ConfigError, DataError
from xlt.data.readers.bucc import read_bucc
from xlt.data.readers.xquad_r import read_xquad_r
from xlt.data.schema import CANDIDATE, QUERY, TaskType
from xlt.evaluation.pooled import EmbeddingCache, evaluate_pooled
from xlt.evaluation.zero_shot import evaluate_languages
from xlt.metrics import get_metric
from xlt.metrics.retrieval import (
    average_precision_at_k,
    best_threshold,
    map_at_k,
    margin_candidates,
    mine_bitext,
    mining_f1,
    top_k,
)
from xlt.tasks import get_task
from xlt.tasks.fetch import datasets_for_tasks, pinned_datasets

runner = CliRunner()
LAREQA = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
BUCC = "bucc2018/data/bucc2018/zh-en.dev"


def manifest_files(data_dir: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((data_dir / "MANIFEST.json").read_text())
    return {f["local_path"]: f for d in manifest["datasets"] for f in d["paths"]}


# --- readers and task files on the mirror --------------------------------------------------------------


def test_lareqa_slices_hold_their_questions_and_the_whole_pool(data_dir: Path) -> None:
    files = manifest_files(data_dir)
    task = get_task("lareqa")
    assert task.type == TaskType.ANSWER_RETRIEVAL and task.metric == "map_at_20"
    assert task.languages == {"test": LAREQA}
    pool_size = None
    for language in ("en", "th"):
        rows = task.load(data_dir, "test", language)
        roles = Counter(rows["role"])
        assert roles[QUERY] == files[f"lareqa/xquad-r/{language}.json"]["questions"] == 1190
        queries = rows.select(range(roles[QUERY]))
        assert set(queries["language"]) == {language}
        # every question has its answer sentence in each of the 11 languages
        assert {len(r) for r in queries["relevant"]} == {11}
        assert {r.split("/")[0] for r in queries[0]["relevant"]} == set(LAREQA)
        candidates = rows.select(range(roles[QUERY], len(rows)))
        assert set(candidates["role"]) == {CANDIDATE}
        pool_size = pool_size or len(candidates)
        assert len(candidates) == pool_size  # one pool whatever the question language
        # the pinned files of a slice are its question file and the 11 pool files
        assert len(task.file_hashes("test", language)) == 11
    assert pool_size == 13014  # the mirror's README: e.g. 1,180 English and 852 Thai sentences
    by_language = Counter(row.split("/")[0] for row in candidates["id"])
    assert by_language["en"] == 1180 and by_language["th"] == 852


def test_lareqa_relevant_sentence_holds_the_answer(data_dir: Path) -> None:
    """The relevant English candidate of an English question is the sentence its answer starts in."""
    rows = read_xquad_r(data_dir / "lareqa/xquad-r/en.json", data_dir / "lareqa/xquad-r/en.json")
    text = {row["id"]: row["text"] for row in rows if row["role"] == CANDIDATE}
    squad = json.loads((data_dir / "lareqa/xquad-r/en.json").read_text())
    answers = {
        qa["id"]: qa["answers"][0]["text"]
        for article in squad["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    queries = [row for row in rows if row["role"] == QUERY]
    inside = sum(answers[q["id"]] in text[q["relevant"][0]] for q in queries)
    assert len(queries) == 1190 and inside >= 1190 - 3  # 3 English answers run into the next sentence
    first = queries[0]
    assert first["id"] == "56beb4343aeaaa14008c925b" and first["relevant"] == ["en/1/0"]


def test_bucc_sample_counts_match_the_manifest(data_dir: Path) -> None:
    files = manifest_files(data_dir)
    task = get_task("bucc-zh")
    assert task.type == TaskType.BITEXT_MINING and task.metric == "mining_f1"
    assert task.languages == {"test": ("zh",)}
    rows = task.load(data_dir, "test", "zh")
    roles = Counter(rows["role"])
    assert roles[QUERY] == files[f"{BUCC}.zh"]["lines"] == 8624
    assert roles[CANDIDATE] == files[f"{BUCC}.en"]["lines"] == 13589
    assert sum(len(r) for r in rows["relevant"]) == files[f"{BUCC}.gold"]["lines"] == 257
    assert Counter(rows["language"]) == {"zh": 8624, "en": 13589}
    assert "bucc" in task.description.lower() and "not the full bucc task" in task.description.lower()


@pytest.mark.parametrize(
    ("task", "summary"),
    [
        ("lareqa", "task lareqa: 1 split, 11 languages, 13090 examples: OK"),  # questions; pools not counted
        ("bucc-zh", "task bucc-zh: 1 split, 1 language, 8624 examples: OK"),
    ],
)
def test_the_tasks_validate_and_are_targets_only(data_dir: Path, task: str, summary: str) -> None:
    result = runner.invoke(app, ["validate", task, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert summary in result.output
    spec = get_task(task)
    assert spec.roles == ("target",) and set(spec.languages) == {"test"}


def test_the_new_files_are_pinned_for_data_fetch(data_dir: Path) -> None:
    files = manifest_files(data_dir)
    pinned = pinned_datasets()
    assert datasets_for_tasks(["lareqa", "bucc-zh"]) == ["bucc2018", "lareqa"]
    for name, count in (("lareqa", 12), ("bucc2018", 3)):  # lareqa: 11 languages and its LICENSE
        dataset = pinned[name]
        assert len(dataset.files) == count
        assert {path: files[path]["sha256"] for path in dataset.files} == dataset.files
    assert pinned["lareqa"].upstream_repo == "google-research-datasets/lareqa"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pooled_task_is_read_by_its_named_reader_only(tmp_path: Path) -> None:
    write(tmp_path, "q.jsonl", '{"role": "query", "language": "en", "text": "a", "relevant": []}\n')
    generic = "name: mine\ntype: bitext_mining\nfiles: {test: {en: q.jsonl}}\n"
    with pytest.raises(ConfigError, match="read by a named reader"):
        get_task(str(write(tmp_path, "mine.yaml", generic)))
    as_intermediate = (
        "name: mine\ntype: answer_retrieval\nroles: [intermediate]\nreader: xquad-r\n"
        "files: {train: {en: {path: q.json, partners: [q.json]}},\n"
        "        dev: {en: {path: q.json, partners: [q.json]}}}\n"
    )
    with pytest.raises(ConfigError, match="answer_retrieval task has nothing to train"):
        get_task(str(write(tmp_path, "mine.yaml", as_intermediate)))
    no_pool = "name: mine\ntype: answer_retrieval\nreader: xquad-r\nfiles: {test: {en: q.json}}\n"
    with pytest.raises(ConfigError, match="reader 'xquad-r' reads a file with its partner files, given none"):
        get_task(str(write(tmp_path, "mine.yaml", no_pool)))


def test_bucc_reader_rejects_gold_ids_it_does_not_have(tmp_path: Path) -> None:
    zh = write(tmp_path, "x-en.dev.zh", "zh-1\t你好\nzh-2\t再见\n")
    en = write(tmp_path, "x-en.dev.en", "en-1\thello\n")
    rows = read_bucc(zh, en, write(tmp_path, "x-en.dev.gold", "zh-1\ten-1\n"))
    assert [(r["id"], r["role"], r["language"], r["relevant"]) for r in rows] == [
        ("zh-1", QUERY, "zh", ["en-1"]),
        ("zh-2", QUERY, "zh", []),
        ("en-1", CANDIDATE, "en", []),
    ]
    with pytest.raises(DataError, match=r"x-en.dev.gold:1: en-9 is not an id of x-en.dev.en"):
        read_bucc(zh, en, write(tmp_path, "x-en.dev.gold", "zh-1\ten-9\n"))
    with pytest.raises(DataError, match=r"x-en.dev.zh:2: id zh-1 occurs twice"):
        read_bucc(write(tmp_path, "x-en.dev.zh", "zh-1\ta\nzh-1\tb\n"), en, tmp_path / "x-en.dev.gold")


# --- the metrics by hand ---------------------------------------------------------------------------------


def test_average_precision_at_20_by_hand() -> None:
    # relevant a, b, c; a at rank 1, b at rank 3, c not in the 20: (1/1 + 2/3) / 3
    ranking = ["a", "x", "b", "y"] + [f"n{i}" for i in range(16)] + ["c"]
    assert average_precision_at_k(ranking, {"a", "b", "c"}, 20) == pytest.approx((1 + 2 / 3) / 3)
    # 25 relevant, the 20 ranked all relevant: divided by min(25, 20), so a perfect 1
    many = [f"r{i}" for i in range(25)]
    assert average_precision_at_k(many, set(many), 20) == 1.0
    # a repeated item counts once: a at 1, b at 3 -> (1 + 2/3) / 2
    assert average_precision_at_k(["a", "a", "b"], ["a", "b"], 20) == pytest.approx(5 / 6)
    assert average_precision_at_k(["x", "y"], ["a"], 20) == 0.0
    with pytest.raises(ValueError):
        average_precision_at_k(["a"], [], 20)
    # the registry's mAP@20 is the mean over queries, and its bootstrap form agrees on every resample
    rankings, relevant = [ranking, ["a", "a", "b"], ["x", "y"]], [["a", "b", "c"], ["a", "b"], ["a"]]
    expected = ((1 + 2 / 3) / 3 + 5 / 6 + 0) / 3
    assert map_at_k(rankings, relevant) == pytest.approx(expected)
    spec = get_metric("map_at_20")
    assert spec.function(rankings, relevant) == pytest.approx(expected)
    whole, resampled = spec.bootstrap.resampled(rankings, relevant, np.array([[0, 1, 2], [2, 2, 1]]))
    assert whole == pytest.approx(expected) and resampled == pytest.approx([expected, (0 + 0 + 5 / 6) / 3])


def test_top_k_ranks_by_cosine_and_breaks_ties_by_position() -> None:
    candidates = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])  # 0 and 2 point the same way
    indices, similarities = top_k(np.array([[3.0, 0.1]]), candidates, 3)
    assert indices.tolist() == [[0, 2, 3]]
    assert similarities[0] == pytest.approx(
        [math.cos(math.atan(0.1 / 3))] * 2 + [math.cos(math.pi / 4 - math.atan(0.1 / 3))]
    )
    assert top_k(np.eye(2), candidates, 10)[0].shape == (2, 4)  # k is capped at the pool size


def degrees(*angles: float) -> np.ndarray:
    return np.array([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in angles])


def test_ratio_margin_prefers_the_true_translation_over_a_hub() -> None:
    # sources at 0, 30 and 60 degrees; targets at -20, 15 (a hub between sources 0 and 1), 32 and 60
    source, target = degrees(0, 30, 60), degrees(-20, 15, 32, 60)
    cos = lambda a: math.cos(math.radians(a))  # noqa: E731
    assert int(np.argmax(source[0] @ target.T)) == 1  # by cosine, source 0's nearest target is the hub
    # k = 2. source 0's 2 nearest targets: 15 and 20 degrees away; target 0's 2 nearest sources: 20 and 50;
    # the hub's: 15 and 15. margin = cos / ((mean over x's k nearest + mean over y's k nearest) / 2)
    to_true = cos(20) / (((cos(15) + cos(20)) / 2 + (cos(20) + cos(50)) / 2) / 2)
    to_hub = cos(15) / (((cos(15) + cos(20)) / 2 + (cos(15) + cos(15)) / 2) / 2)
    assert to_true == pytest.approx(1.0776, abs=1e-4) and to_hub == pytest.approx(1.0068, abs=1e-4)
    best_target, margin, best_source, _ = margin_candidates(source, target, k=2)
    assert best_target.tolist() == [0, 2, 3] and margin[0] == pytest.approx(to_true, rel=1e-5)
    assert best_source.tolist() == [0, 0, 1, 2]  # the hub's best by margin is source 0 (1.0068)
    # greedy one-to-one mining over both directions, best margin first
    mined = mine_bitext(source, target, k=2)
    assert list(zip(mined.source.tolist(), mined.target.tolist(), strict=True)) == [(0, 0), (2, 3), (1, 2)]
    assert np.all(np.diff(mined.score) <= 0) and mined.score[0] == pytest.approx(to_true, rel=1e-5)


def test_threshold_of_best_f1_by_hand() -> None:
    scores = np.array([3.0, 2.5, 2.0])
    # two gold pairs, the 1st and 3rd mined are right: keep 1 -> F1 2/3, 2 -> 1/2, 3 -> 2*2/(3+2) = 0.8
    choice = best_threshold(scores, np.array([True, False, True]), 2)
    assert (choice.kept, choice.correct, choice.threshold) == (3, 2, 2.0)
    assert (choice.precision, choice.recall, choice.f1) == pytest.approx((2 / 3, 1.0, 0.8))
    # three gold pairs, the first two right: keep 2 -> 2*2/(2+3) = 0.8 beats 1/2 and 2/3; midway threshold
    choice = best_threshold(scores, np.array([True, True, False]), 3)
    assert (choice.kept, choice.threshold, choice.f1) == (2, 2.25, pytest.approx(0.8))
    # equal scores are kept or dropped together: the cut after the two 2.0s, never between them
    choice = best_threshold(np.array([3.0, 2.0, 2.0, 1.0]), np.array([True, False, True, False]), 2)
    assert (choice.kept, choice.threshold, choice.f1) == (3, 1.5, pytest.approx(0.8))
    nothing = best_threshold(scores, np.zeros(3, dtype=bool), 2)
    assert (nothing.kept, nothing.f1, nothing.threshold) == (0, 0.0, math.inf)
    # F1 of the registry: per source sentence, the mined target id ('' none) against its gold ids
    assert mining_f1(["t1", "", "t9", ""], [["t1"], ["t2"], [], []]) == pytest.approx(2 * 1 / (2 + 2))
    spec = get_metric("mining_f1")
    pred, gold = ["t1", "", "t9", ""], [["t1"], ["t2"], [], []]
    whole, resampled = spec.bootstrap.resampled(pred, gold, np.array([[0, 0, 3, 3], [2, 3, 3, 3]]))
    assert whole == pytest.approx(0.5) and resampled == pytest.approx([1.0, 0.0])


# --- pooled evaluation -----------------------------------------------------------------------------------


class WordEncoder:
    """Embeds a text as the counts of a few topic words (one dimension each), plus a constant; counts
    the texts it embeds per language."""

    WORDS = ("river", "bridge", "castle", "forest")
    dim = len(WORDS) + 1

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def encode(
        self, texts: list[str], *, batch_size: int, precision: str, language: str | None
    ) -> np.ndarray:
        self.calls[str(language)] += 1
        rows = [[text.lower().count(w) * 10.0 for w in self.WORDS] + [1.0] for text in texts]
        matrix = np.asarray(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def xquad_r(questions: list[tuple[str, str, int]], sentences: list[str]) -> str:
    """A one-paragraph XQuAD-R file: (id, question, answer sentence) questions over `sentences`."""
    context, breaks = "", []
    for sentence in sentences:
        breaks.append([len(context), len(context) + len(sentence)])
        context += sentence + " "
    qas = [
        {"id": i, "question": q, "answers": [{"text": sentences[s][:3], "answer_start": breaks[s][0]}]}
        for i, q, s in questions
    ]
    paragraph = {"context": context, "qas": qas, "sentences": sentences, "sentence_breaks": breaks}
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [paragraph]}]})


def test_pooled_evaluation_embeds_the_pool_once_for_every_language(tmp_path: Path) -> None:
    write(
        tmp_path,
        "en.json",
        xquad_r([("q1", "Which river?", 0), ("q2", "What castle?", 1)], ["The river runs.", "A castle."]),
    )
    write(
        tmp_path,
        "de.json",
        xquad_r([("q1", "Welcher river?", 1), ("q2", "Welche castle?", 0)], ["Eine castle.", "Der river."]),
    )
    task_file = write(
        tmp_path,
        "mini-lareqa.yaml",
        "name: mini-lareqa\ntype: answer_retrieval\nreader: xquad-r\n"
        "files:\n  test:\n    languages: [en, de]\n"
        "    pattern: {path: '{lang}.json', partners: [en.json, de.json]}\n",
    )
    task = get_task(str(task_file))
    assert task.metric == "map_at_20"
    result = runner.invoke(app, ["validate", str(task_file)])
    assert "task mini-lareqa: 1 split, 2 languages, 4 examples: OK" in result.output, result.output
    encoder = WordEncoder()
    results = list(evaluate_languages(task, tmp_path, ["en", "de"], encoder=encoder))  # type: ignore[arg-type]
    # q1 (river) ranks en/1/0 and de/1/1 first (the two river sentences), q2 the castles: mAP 1 both ways
    assert [r.score for r in results] == [1.0, 1.0]
    assert results[0].ids == ["q1", "q2"] and results[0].gold[0] == ["en/1/0", "de/1/1"]
    assert set(results[1].pred[0][:2]) == {"en/1/0", "de/1/1"} and len(results[1].pred[0]) == 4
    # the pool's two languages once each, then the queries of each language: 2 calls per language
    assert encoder.calls == {"en": 2, "de": 2}


def test_mining_drops_repeated_texts_and_scores_at_the_best_threshold() -> None:
    from datasets import Dataset

    from xlt.data.schema import FEATURES

    rows = [
        {"id": "s1", "role": QUERY, "language": "xx", "text": "river", "relevant": ["t1"]},
        {"id": "s2", "role": QUERY, "language": "xx", "text": "castle", "relevant": ["t2"]},
        {"id": "s3", "role": QUERY, "language": "xx", "text": "forest", "relevant": []},
        {"id": "s4", "role": QUERY, "language": "xx", "text": "forest", "relevant": []},  # a repeated text
        {"id": "t1", "role": CANDIDATE, "language": "en", "text": "river", "relevant": []},
        {"id": "t2", "role": CANDIDATE, "language": "en", "text": "castle", "relevant": []},
        {"id": "t3", "role": CANDIDATE, "language": "en", "text": "forest", "relevant": []},
        {"id": "t4", "role": CANDIDATE, "language": "en", "text": "bridge", "relevant": []},
    ]
    data = Dataset.from_list(rows, features=FEATURES[TaskType.BITEXT_MINING])
    cache = EmbeddingCache(WordEncoder(), 8, "auto")  # type: ignore[arg-type]
    result = evaluate_pooled(TaskType.BITEXT_MINING, data, cache, max_examples=1)  # mining ignores the limit
    assert result.ids == ["s1", "s2", "s3", "s4"]
    # s3 / s4 and t3 are the same text, but s3's text is repeated on its side: that pair is dropped
    assert result.pred == ["t1", "t2", "", ""] and result.score == 1.0
    assert result.extra["candidate_pairs"] == 2 and result.extra["mined"] == 2
