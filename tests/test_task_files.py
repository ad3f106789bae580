"""Tasks as data: the built-in tasks are YAML files in the schema users write, a user task can `include:` one
and change a key, readers and split protocols are named, and the registry loads without an import cycle."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.core.errors import ConfigError
from xlt.tasks import get_task, list_tasks
from xlt.tasks.include import builtin_files
from xlt.tasks.iso639 import language_problem

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

XNLI_TWO = """\
name: xnli-two
include: xnli
languages: {test: [de, sw]}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_include_narrows_a_builtin_task_to_two_test_languages(tmp_path: Path, data_dir: Path) -> None:
    task_file = write(tmp_path, "xnli-two.yaml", XNLI_TWO)
    task, xnli = get_task(str(task_file)), get_task("xnli")
    assert task.name == "xnli-two"
    assert task.languages == {"train": ("en",), "dev": ("en",), "test": ("de", "sw")}
    for field in ("type", "metric", "labels", "taxonomy", "english_data", "citation"):
        assert getattr(task, field) == getattr(xnli, field), field
    for split, language in [("train", "en"), ("dev", "en"), ("test", "de"), ("test", "sw")]:
        assert task.file_hashes(split, language) == xnli.file_hashes(split, language)
    # the task is the user's own: its provenance is the task file and its definition, built-in one included
    assert task.source.upstream_repo == str(task_file.resolve())
    assert task.source.commit.startswith("sha256:") and task.source.license == xnli.source.license
    assert task.load(data_dir, "test", "sw")["id"] == xnli.load(data_dir, "test", "sw")["id"]

    result = runner.invoke(app, ["validate", str(task_file), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "task xnli-two: 3 splits, 3 languages, 3237 examples: OK" in result.output  # 1494+249+2*747


def test_example_including_xnli_validates(data_dir: Path) -> None:
    example = REPO / "examples" / "custom-task" / "xnli-two-languages.yaml"
    result = runner.invoke(app, ["validate", str(example), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "task xnli-two-languages: 3 splits, 3 languages, 3237 examples: OK" in result.output


def test_include_overrides_keys_and_merges_files_one_level(tmp_path: Path) -> None:
    task_file = write(
        tmp_path,
        "pawsx-f1.yaml",
        "name: pawsx-f1\ninclude: pawsx\nmetric: macro_f1\ndescription: PAWS-X scored by macro F1\n"
        "files:\n  test: {ja: pawsx_xtreme/data/pawsx/dev-ja.tsv}\n",
    )
    task = get_task(str(task_file))
    assert task.metric == "macro_f1" and task.description == "PAWS-X scored by macro F1"
    assert task.languages == {"train": ("en",), "dev": ("en",), "test": ("ja",)}
    assert task.files("test", "ja") == get_task("pawsx").files("test", "ja")


def test_include_of_a_task_file_keeps_its_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    rows = (
        "premise,hypothesis,gold\nA man sings.,Someone sings.,entailment\nA dog runs.,A cat sleeps.,neutral\n"
    )
    for name in ("train.csv", "dev.csv", "test_de.csv", "test_fr.csv"):
        write(tmp_path / "base", name, rows)
    write(
        tmp_path / "base",
        "nli.yaml",
        "name: nli\ntype: pair_classification\nlabels: [entailment, neutral]\n"
        "columns: {sentence1: premise, sentence2: hypothesis, label: gold}\n"
        "files: {train: {en: train.csv}, dev: {en: dev.csv}, test: {de: test_de.csv, fr: test_fr.csv}}\n",
    )
    task_file = write(
        tmp_path, "nli-fr.yaml", "name: nli-fr\ninclude: base/nli.yaml\nlanguages: {test: fr}\n"
    )
    task = get_task(str(task_file))
    assert task.languages["test"] == ("fr",)
    assert len(task.load(tmp_path, "test", "fr")) == 2
    first = task.source.commit
    # an edit of the included file is a new definition of the including task
    write(tmp_path / "base", "nli.yaml", (tmp_path / "base" / "nli.yaml").read_text() + "license: CC0\n")
    assert get_task(str(task_file)).source.commit != first


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("include: xnli\nlanguages: {test: [de]}\n", "a task that includes 'xnli' needs a name of its own"),
        ("name: xnli\ninclude: xnli\n", "which is a built-in task"),
        ("name: x\ninclude: xnlii\n", "unknown built-in task 'xnlii' (did you mean 'xnli'?)"),
        (
            "name: x\ninclude: xnli\nlanguages: {test: [de, sww]}\n",
            "'sww' is not a test language of the task",
        ),
        ("name: x\ninclude: cycle.yaml\n", "is a cycle"),
    ],
)
def test_include_problems_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    task_file = write(tmp_path, "cycle.yaml", text)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        get_task(str(task_file))
    assert "\n" not in raised.value.one_line()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("reader: xnli-tsv", "reader: xnli-tvs"),
            "reader: unknown reader 'xnli-tvs' (did you mean 'xnli-tsv'?)",
        ),
        (("split: aligned", "split: alinged"), "split: unknown split 'alinged' (did you mean 'aligned'?)"),
        (("split: aligned", "split: {name: aligned, dev_percent: 5}"), "split 'aligned' has no parameter"),
        (
            ("reader: xnli-tsv", "reader: {name: xnli-tsv, labels: 3}"),
            "reader 'xnli-tsv' has no option 'labels'",
        ),
        (("reader: xnli-tsv", "reader: tatoeba-pair"), "reads a file with 1 partner file(s), given 0"),
        (("source: xnli_xtreme", "source: xnli_xtrem"), "unknown pinned dataset 'xnli_xtrem'"),
        (("dev-{lang}.tsv", "dev_{lang}.tsv"), "is not a pinned file of the data directory"),
    ],
)
def test_reader_split_and_source_names_are_checked(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = builtin_files()["xnli"].read_text(encoding="utf-8").replace("name: xnli", "name: my-xnli")
    assert change[0] in text
    task_file = write(tmp_path, "my-xnli.yaml", text.replace(*change))
    with pytest.raises(ConfigError) as raised:
        get_task(str(task_file))
    assert message in raised.value.one_line() and "\n" not in raised.value.one_line()


def test_held_out_split_gives_no_test_part(tmp_path: Path) -> None:
    text = builtin_files()["tydiqa-en"].read_text(encoding="utf-8").replace("name: tydiqa-en", "name: qa")
    text = text.replace("  dev:", "  test:\n    en: tydiqa_goldp_xtreme/data/tydiqa/tydiqa-goldp-v1.1-train/"
                        "tydiqa.goldp.en.train.json\n  dev:")  # fmt: skip
    with pytest.raises(ConfigError, match=r"split 'held-out' gives train, dev, not test"):
        get_task(str(write(tmp_path, "qa.yaml", text)))


def test_every_task_has_a_citation_shown_by_tasks_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tasks", "--json"])
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert len(described) == len(list_tasks()) and all(task["citation"] for task in described)
    task_file = write(tmp_path, "cited.yaml", XNLI_TWO.replace("xnli-two", "cited") + "citation: Me 2026\n")
    assert get_task(str(task_file)).describe()["citation"] == "Me 2026"


def test_builtin_tasks_are_package_data_in_one_language_scheme() -> None:
    files = builtin_files()
    assert set(files) == {task.name for task in list_tasks()}
    # a non-editable install ships only the package data pyproject.toml names
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"tasks/definitions/*.yaml"' in pyproject and '"tasks/sources.json"' in pyproject
    for task in list_tasks():
        for languages in task.languages.values():
            assert [code for code in languages if language_problem(code)] == [], task.name


def test_registry_imports_without_the_study_layer() -> None:
    code = (
        "import sys, xlt.tasks.registry as r; r.list_tasks(); "
        "print(sorted(m for m in sys.modules if m.startswith(('xlt.study', 'xlt.cli'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
