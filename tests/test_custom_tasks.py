"""Tasks of the user's own: task files over local CSV/TSV/JSONL/CoNLL files load, train, and validate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.core.errors import ConfigError, DataError
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import write_results
from xlt.study.runner import run_plan
from xlt.tasks import get_task

runner = CliRunner()

NLI_YAML = """\
name: toy-nli
description: a toy inference task
type: pair_classification
columns: {sentence1: premise, sentence2: hypothesis, label: gold}
labels: [entailment, neutral, contradiction]
files:
  train: {en: train.csv}
  dev: {en: dev.csv}
  test: {sw: test_sw.csv, yo: test_yo.csv}
"""
PAIRS = [
    ("A man is playing a guitar.", "Someone is making music.", "entailment"),
    ("A man is playing a guitar.", "The man is asleep.", "contradiction"),
    ("A man is playing a guitar.", "The man is a famous singer.", "neutral"),
    ("Two dogs run on the beach.", "Animals are outside.", "entailment"),
    ("Two dogs run on the beach.", "The dogs are sleeping indoors.", "contradiction"),
    ("Two dogs run on the beach.", "The dogs belong to one family.", "neutral"),
]


def write_csv(path: Path, rows: list[tuple[str, ...]], header: str = "premise,hypothesis,gold") -> None:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")


def nli_task(directory: Path, yaml_text: str = NLI_YAML) -> Path:
    write_csv(directory / "train.csv", PAIRS * 2)
    write_csv(directory / "dev.csv", PAIRS)
    write_csv(directory / "test_sw.csv", PAIRS)
    write_csv(directory / "test_yo.csv", PAIRS[:4])
    task_file = directory / "toy-nli.yaml"
    task_file.write_text(yaml_text, encoding="utf-8")
    return task_file


def test_csv_pair_classification_validates_and_trains(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    task_file = nli_task(tmp_path)
    result = runner.invoke(app, ["validate", str(task_file)])
    assert result.exit_code == 0, result.output
    assert "task toy-nli: 3 splits, 3 languages, 28 examples: OK" in result.output

    args = [
        "train-eval", "--task", str(task_file), "--encoder", str(tiny_encoder_dir), "--limit", "8",
        "--steps", "2", "--data-dir", str(tmp_path), "--output", str(tmp_path / "runs"), "--no-progress",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (study_dir,) = (tmp_path / "runs").iterdir()
    assert study_dir.name.startswith("toy-nli-")
    scores = json.loads((study_dir / "results.json").read_text())["scores"]
    assert sorted((row["target"], row["language"], row["n"]) for row in scores) == [
        ("toy-nli", "sw", 6),
        ("toy-nli", "yo", 4),
    ]
    assert all(str(tmp_path / "test_") in row["data_files"] for row in scores)
    (stage,) = (study_dir / "stages").iterdir()
    assert stage.name.startswith("tgt-toy-nli-")


def test_task_file_is_cached_until_it_changes(tmp_path: Path) -> None:
    task_file = nli_task(tmp_path)
    task = get_task(str(task_file))
    assert get_task(str(task_file)) is task
    assert task.metric == "accuracy" and task.english_data == "toy-nli" and task.roles == ("target",)
    assert task.taxonomy.input_format == "pair" and task.taxonomy.family == "toy-nli"
    task_file.write_text(NLI_YAML.replace("type:", "metric: macro_f1\ntype:"), encoding="utf-8")
    os.utime(task_file, ns=(task_file.stat().st_atime_ns, task_file.stat().st_mtime_ns + 10**9))
    assert get_task(str(task_file)).metric == "macro_f1"


def test_jsonl_single_classification_loads(tmp_path: Path) -> None:
    records = {
        "train": [{"review": f"text {i}", "stars": ["negative", "positive", 0, 1][i % 4]} for i in range(8)],
        "dev": [{"review": "fine", "stars": "positive"}, {"review": "bad", "stars": 0}],
        "test": [{"uid": f"es-{i}", "review": f"texto {i}", "stars": i % 2} for i in range(5)],
    }
    for split, rows in records.items():
        (tmp_path / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    (tmp_path / "sentiment.yml").write_text(
        "name: toy-sentiment\ntype: single_classification\nmetric: macro_f1\n"
        "columns: {text: review, label: stars}\nlabels: [negative, positive]\n"
        "files:\n  train: {en: train.jsonl}\n  dev: {en: dev.jsonl}\n"
        "  test: {es: {path: test.jsonl, columns: {id: uid}}}\n"
    )
    task = get_task(str(tmp_path / "sentiment.yml"))
    train = task.load(tmp_path, "train", "en")
    assert len(train) == 8 and train["label"] == [0, 1, 0, 1] * 2
    assert train["id"][0] == "train.jsonl:1" and train["text"][0] == "text 0"
    assert len(task.load(tmp_path, "dev", "en")) == 2
    test = task.load(tmp_path, "test", "es")
    assert len(test) == 5 and test["id"][0] == "es-0" and set(test.column_names) == {"id", "text", "label"}


def test_conll_token_tagging_loads(tmp_path: Path) -> None:
    (tmp_path / "train.conll").write_text(
        "-DOCSTART- O\n\nJohn B-PER\nSmith I-PER\nlives O\nin O\nParis B-LOC\n\n\nHe O\nleft O\n\n"
        "Mary\tB-PER\nsmiled\t0\n"
    )
    (tmp_path / "dev.conll").write_text("Anna B-PER\nsings O\n")
    (tmp_path / "yo.txt").write_text("Ade B-PER\nlo O\nsi O\nEko B-LOC\n\nO O\ndara O\n")
    (tmp_path / "ner.yaml").write_text(
        "name: toy-ner\ntype: token_tagging\nlabels: [O, B-PER, I-PER, B-LOC, I-LOC]\n"
        "files: {train: {en: train.conll}, dev: {en: dev.conll}, test: {yo: yo.txt}}\n"
    )
    task = get_task(str(tmp_path / "ner.yaml"))
    assert task.metric == "entity_f1" and task.labels == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    train = task.load(tmp_path, "train", "en")
    assert len(train) == 3
    assert train[0]["tokens"] == ["John", "Smith", "lives", "in", "Paris"]
    assert train[0]["tags"] == ["B-PER", "I-PER", "O", "O", "B-LOC"]
    assert train[2]["tags"] == ["B-PER", "O"]  # tag id 0 is the name O
    assert len(task.load(tmp_path, "dev", "en")) == 1
    assert [len(t) for t in task.load(tmp_path, "test", "yo")["tokens"]] == [4, 2]


def test_headerless_tsv_regression_is_rescaled(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text('5\tA cat sits.\tA cat is sitting.\n2.5\tA "big" dog.\tA car.\n')
    (tmp_path / "sts.yaml").write_text(
        "name: toy-sts\ntype: pair_regression\nscore_range: [0, 5]\nhas_header: false\n"
        "columns: {label: 0, sentence1: 1, sentence2: 2}\nroles: [intermediate]\n"
        "files: {train: {en: train.tsv}, dev: {en: train.tsv}}\n"
    )
    task = get_task(str(tmp_path / "sts.yaml"))
    rows = task.load(tmp_path, "train", "en")
    assert rows["label"] == [1.0, 0.5] and rows["sentence1"][1] == 'A "big" dog.'
    assert task.metric == "spearman" and task.file_hashes("train", "en") != {}


STS_ROWS = [
    ("A man is playing a guitar.", "A man plays music.", "4.5"),
    ("A man is playing a guitar.", "A woman is cooking.", "0.5"),
    ("Two dogs run on the beach.", "Dogs are running by the sea.", "4.8"),
    ("Two dogs run on the beach.", "A cat sleeps indoors.", "1.0"),
    ("A child reads a book.", "A kid is reading.", "4.2"),
    ("A child reads a book.", "The market is closed.", "0.2"),
    ("The train leaves at noon.", "The train departs at midday.", "4.9"),
    ("The train leaves at noon.", "A man is playing a guitar.", "0.0"),
]


def test_pearson_task_gets_a_bootstrap_gain(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    """A user's pair-regression target scored by pearson (accepted by the task schema, once refused by the
    gains bootstrap) gets its gain over the baseline with a confidence interval, end to end."""
    write_csv(tmp_path / "sts.csv", STS_ROWS, header="sentence1,sentence2,label")
    files = "files: {train: {en: sts.csv}, dev: {en: sts.csv}"
    (tmp_path / "sts.yaml").write_text(
        f"name: toy-sts\ntype: pair_regression\nmetric: pearson\nscore_range: [0, 5]\n"
        f"{files}, test: {{de: sts.csv, fr: sts.csv}}}}\n"
    )
    (tmp_path / "mid.yaml").write_text(
        f"name: toy-mid\ntype: pair_regression\nroles: [intermediate]\nscore_range: [0, 5]\n{files}}}\n"
    )
    assert get_task(str(tmp_path / "sts.yaml")).metric == "pearson"
    training = "{max_steps: 2, batch_size: 4, evaluations: 1}"
    (tmp_path / "study.yaml").write_text(
        f"name: toy\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\n"
        f"targets:\n  - task: '{tmp_path / 'sts.yaml'}'\n    intermediates: ['{tmp_path / 'mid.yaml'}']\n"
        f"training: {{intermediate: {training}, target: {training}}}\n"
        f"evaluation: {{bootstrap: 100, tatoeba: {{enabled: false}}}}\noutput_dir: '{tmp_path / 'runs'}'\n"
    )
    plan = build_plan(load_study(tmp_path / "study.yaml"))
    store = RunStore(tmp_path / "runs" / "toy")
    outcome = run_plan(plan, store, tmp_path, show_progress=False)
    assert len(outcome.done) == 3 and not outcome.failed
    payload = write_results(plan, store)
    assert {row["metric"] for row in payload["scores"]} == {"pearson"}
    gains = {g["language"]: g for g in payload["gains"] if g["target"] == "toy-sts"}
    assert {"de", "fr"} <= gains.keys()
    for gain in gains.values():
        assert gain["intermediate"] == "toy-mid"
        assert gain["gain"] == pytest.approx(gain["with_intermediate"] - gain["baseline"], abs=1e-9)
        assert gain["ci_low"] <= gain["gain"] <= gain["ci_high"]


def test_choice_qa_and_retrieval_tasks_load(tmp_path: Path) -> None:
    (tmp_path / "mc.csv").write_text(
        "premise,question,c1,c2,answer\nThe glass fell.,effect,It broke.,It sang.,0\n"
        "It rained.,cause,Clouds came.,The sun shone.,1\n"
    )
    (tmp_path / "mc.jsonl").write_text('{"premise": "P", "choices": ["a", "b"], "answer": 1}\n')
    (tmp_path / "mc.yaml").write_text(
        "name: toy-mc\ntype: multiple_choice\ncolumns: {choices: [c1, c2], label: answer}\n"
        "files: {train: {en: mc.csv}, dev: {en: mc.csv}, "
        "test: {sw: {path: mc.jsonl, columns: {choices: choices}}}}\n"
    )
    choice = get_task(str(tmp_path / "mc.yaml"))
    train = choice.load(tmp_path, "train", "en")
    assert train["choices"] == [["It broke.", "It sang."], ["Clouds came.", "The sun shone."]]
    assert train["label"] == [0, 1] and train["question"] == ["effect", "cause"]
    assert choice.load(tmp_path, "test", "sw")[0] == {
        "id": "mc.jsonl:1", "premise": "P", "question": "", "choices": ["a", "b"], "label": 1
    }  # fmt: skip

    (tmp_path / "qa.jsonl").write_text(
        '{"context": "Paris is in France.", "question": "Where?", "answer_text": ["France"], '
        '"answer_start": [12]}\n'
    )
    (tmp_path / "qa.yaml").write_text(
        "name: toy-qa\ntype: extractive_qa\nfiles: {train: {en: qa.jsonl}, dev: {en: qa.jsonl}, "
        "test: {de: qa.jsonl}}\n"
    )
    qa = get_task(str(tmp_path / "qa.yaml"))
    assert qa.metric == "squad_f1"
    assert qa.load(tmp_path, "test", "de")["answers"] == [{"text": ["France"], "answer_start": [12]}]

    (tmp_path / "pairs.tsv").write_text("Hallo\tHello\nDanke\tThanks\n")
    (tmp_path / "rt.yaml").write_text(
        "name: toy-rt\ntype: retrieval\nhas_header: false\nfiles: {test: {de: pairs.tsv}}\n"
    )
    retrieval = get_task(str(tmp_path / "rt.yaml"))
    assert retrieval.metric == "retrieval_accuracy" and retrieval.languages == {"test": ("de",)}
    assert retrieval.load(tmp_path, "test", "de")["target"] == ["Hello", "Thanks"]


PROBLEMS_YAML = """\
name: toy-nli
type: pair_classification
columns: {sentence1: premise, sentence2: hypothesis, label: gold}
labels: [entailment, neutral, contradiction]
files:
  train: {en: train.csv}
  dev: {en: dev.csv}
  test:
    swa: test_sw.csv
    yoo: test_yo.csv
    fr: missing.csv
"""


def test_validate_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    task_file = nli_task(tmp_path, PROBLEMS_YAML)
    write_csv(tmp_path / "train.csv", [*PAIRS, ("A cat sleeps.", "An animal rests.", "maybe"), *PAIRS])
    write_csv(tmp_path / "dev.csv", PAIRS, header="premise,hypothesis,label")
    write_csv(tmp_path / "test_sw.csv", [*PAIRS[:2], ("Only a premise", "", "neutral")])
    result = runner.invoke(app, ["validate", str(task_file)])
    assert result.exit_code == 2, result.output
    out = result.output
    assert "train.csv:8: label 'maybe' not in [entailment, neutral, contradiction]" in out
    assert "dev.csv:1: no column 'gold' for label in the header [premise, hypothesis, label]" in out
    assert "test_sw.csv:4: empty sentence2" in out
    assert "toy-nli.yaml:10: unknown language code 'yoo' (did you mean 'yo', Yoruba?)" in out
    assert "toy-nli.yaml:11: files.test.fr: missing.csv not found" in out
    assert "'swa'" not in out  # an ISO 639-2 code is known
    assert "task toy-nli: 3 splits, 4 languages, 18 examples: 5 problems" in out
    with pytest.raises(DataError, match=r"train\.csv:8: label 'maybe'.*xlt validate"):
        get_task(str(task_file)).load(tmp_path, "train", "en")


def test_unknown_key_is_one_line_with_did_you_mean(tmp_path: Path) -> None:
    task_file = nli_task(tmp_path, NLI_YAML.replace("columns:", "colums:"))
    with pytest.raises(ConfigError, match=r"unknown key 'colums' \(did you mean 'columns'\?\)"):
        get_task(str(task_file))
    proc = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "validate", str(task_file)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "did you mean 'columns'" in proc.stderr


def test_validate_lists_the_metrics_of_the_task_type(tmp_path: Path) -> None:
    write_csv(tmp_path / "sts.csv", STS_ROWS, header="sentence1,sentence2,label")
    (tmp_path / "sts.yaml").write_text(
        "name: toy-sts\ntype: pair_regression\nmetric: accuracy\nscore_range: [0, 5]\n"
        "files: {test: {de: sts.csv}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "xlt.cli.main", "validate", str(tmp_path / "sts.yaml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        "metric: 'accuracy' cannot score pair_regression tasks (use one of: spearman, pearson)" in proc.stderr
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("labels: [entailment, neutral, contradiction]\n", ""), "needs its list of label names"),
        (("type:", "metric: spearman\ntype:"), "metric: 'spearman' cannot score pair_classification"),
        (("type:", "metric: acuracy\ntype:"), "(did you mean 'accuracy'?) (use one of: accuracy, macro_f1)"),
        (("sentence1: premise", "sentense1: premise"), "did you mean 'sentence1'"),
        (("  dev: {en: dev.csv}\n", ""), "files.dev: a trained pair_classification task needs dev files"),
        (("train.csv", "train.xlsx"), "cannot tell the format from the extension"),
        (("name: toy-nli", "name: xnli"), "which is a built-in task"),
    ],
)
def test_task_file_settings_are_checked_on_load(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    task_file = nli_task(tmp_path, NLI_YAML.replace(*change))
    with pytest.raises(ConfigError, match=re.escape(message)):
        get_task(str(task_file))


def test_missing_task_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"task file .*nope\.yaml not found"):
        get_task(str(tmp_path / "nope.yaml"))


def test_validate_builtin_task(data_dir: Path) -> None:
    result = runner.invoke(app, ["validate", "semrel", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("task semrel: 3 splits, 13 languages, ") and summary.endswith("examples: OK")
    assert "amh" in result.output and "pan" in result.output


def test_example_task_validates() -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "custom-task" / "nli-mini.yaml"
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 0, result.output
    assert "task nli-mini: 3 splits, 3 languages, 60 examples: OK" in result.output
