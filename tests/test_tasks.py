from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xlt.core.errors import ConfigError, DataError
from xlt.data.readers.semrel import read_semrel_csv
from xlt.data.readers.sts import read_stsb_multi, read_stsbenchmark
from xlt.tasks import get_task, list_tasks
from xlt.tasks.spec import TaskSpec


def manifest_examples(data_dir: Path) -> dict[str, int]:
    manifest = json.loads((data_dir / "MANIFEST.json").read_text())
    return {
        f["local_path"]: f["examples"] for d in manifest["datasets"] for f in d["paths"] if "examples" in f
    }


def test_registry_lists_the_foundation_tasks() -> None:
    names = {task.name for task in list_tasks()}
    assert {"stsb", "semrel", "stsb-multi", "semrel-eng"} <= names
    semrel = get_task("semrel")
    assert len(semrel.languages["test"]) == 13
    assert len(get_task("stsb-multi").languages["test"]) == 10
    assert semrel.english_data == get_task("semrel-eng").english_data


def test_unknown_task_and_language_have_suggestions() -> None:
    with pytest.raises(ConfigError, match="did you mean 'stsb-multi'"):
        get_task("stsb-mult")
    with pytest.raises(ConfigError, match=r"no test data for language 'hua'.*did you mean 'hau'"):
        get_task("semrel").files("test", "hua")


@pytest.mark.parametrize("task", ["stsb", "semrel", "stsb-multi", "semrel-eng"])
def test_every_slice_loads_with_manifest_counts(data_dir: Path, task: str) -> None:
    counts = manifest_examples(data_dir)
    spec: TaskSpec = get_task(task)
    for split, languages in spec.languages.items():
        for language in languages:
            (data_file,) = spec.files(split, language)
            dataset = spec.load(data_dir, split, language)
            assert len(dataset) == counts[data_file.path], (task, split, language)
            assert set(dataset.column_names) == {"id", "sentence1", "sentence2", "label"}
            labels = dataset["label"]
            assert min(labels) >= 0.0 and max(labels) <= 1.0


def test_semrel_quirks(data_dir: Path) -> None:
    root = data_dir / "semrel2024"
    afr = read_semrel_csv(root / "Track C/afr/afr_test_with_labels.csv")  # TAB between sentences
    assert all("\t" not in r["sentence1"] and r["sentence2"] for r in afr)
    pan = read_semrel_csv(root / "Track C/pan/pan_test_with_labels.csv")  # Text,Score,PairID order
    assert pan[0]["id"].startswith("pan_test") and 0 <= pan[0]["label"] <= 1
    esp = read_semrel_csv(root / "Track C/esp/esp_dev.csv", require_score=False)  # CRLF inside Text
    assert all(not r["sentence1"].endswith("\r") for r in esp)


def test_sts_files_read_unquoted_and_rescaled(data_dir: Path) -> None:
    rows = read_stsbenchmark(data_dir / "stsbenchmark/data/stsbenchmark/sts-train.csv")
    assert len(rows) == 5749
    assert rows[0]["label"] == pytest.approx(5.0 / 5)
    multi = read_stsb_multi(data_dir / "stsb_multi_mt/data/stsb-de-test.csv")
    assert len(multi) == 1379 and multi[0]["id"] == "0"


def test_malformed_semrel_rows_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text('PairID,Text,Score\nA1,"one\ntwo",0.5\nA2,"only one sentence",0.3\n')
    with pytest.raises(DataError, match=r"bad.csv:4: Text does not hold two sentences"):
        read_semrel_csv(bad)
    bad.write_text('PairID,Text,Score\nA1,"one\ntwo",high\n')
    with pytest.raises(DataError, match=r"bad.csv:2: Score 'high' is not a number"):
        read_semrel_csv(bad)
    bad.write_text("PairID,Sentence\n")
    with pytest.raises(DataError, match="has no 'text' column"):
        read_semrel_csv(bad)


def test_missing_and_altered_files_are_reported(data_dir: Path, tmp_path: Path) -> None:
    task = get_task("semrel")
    with pytest.raises(DataError, match=r"file not found.*XLT_DATA_DIR"):
        task.load(tmp_path, "test", "hau")
    (data_file,) = task.files("test", "hau")
    copy = tmp_path / data_file.path
    copy.parent.mkdir(parents=True)
    shutil.copy(data_dir / data_file.path, copy)
    with copy.open("a") as handle:
        handle.write("extra,row\n")
    with pytest.raises(DataError, match="differs from the pinned upstream file"):
        task.load(tmp_path, "test", "hau")


def test_describe_is_json_ready() -> None:
    described = get_task("semrel").describe()
    json.dumps(described)
    assert described["files"]["test"]["hau"] == ["semrel2024/Track A/hau/hau_test_with_labels.csv"]
    assert described["source"]["commit"].startswith("3c5941d")
