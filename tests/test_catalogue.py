"""The PROTOCOLS task catalogue: every slice of every task loads from the real mirror with the expected count,
labels are consistent, the aligned splits never leak, and targets share English data with the right
intermediates only."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from datasets import Dataset

from xlt.data.schema import TaskType
from xlt.metrics import metrics_for
from xlt.tasks import TaskSpec, get_task, list_tasks
from xlt.tasks.spec import Split

INTERMEDIATES = {
    "stsb",
    "semrel-eng",
    "sick-relatedness",
    "sick-entailment",
    "mrpc",
    "rte",
    "cola",
    "sst2",
    "tweet-emotion",
    "tweet-hate",
    "tweet-irony",
    "tweet-offensive",
    "tweet-stance",
    "conll-ner",
    "udpos-en",
    "copa",
    "tydiqa-en",
    "umsab-en",
    "xnli-en",
    "pawsx-en",
    "panx-en",
}
# target -> number of test languages, and the intermediates trained on the same English data
TARGETS: dict[str, tuple[int, set[str]]] = {
    "semrel": (13, {"semrel-eng"}),
    "stsb-multi": (10, {"stsb"}),
    "xnli": (15, {"xnli-en"}),
    "pawsx": (7, {"pawsx-en"}),
    "xcopa": (11, {"copa"}),
    "xquad": (12, {"tydiqa-en"}),
    "tydiqa": (9, {"tydiqa-en"}),
    "mlqa": (7, {"tydiqa-en"}),
    "masakhaner": (10, {"conll-ner"}),
    "masakhaner2": (20, {"conll-ner"}),
    "udpos": (8, {"udpos-en"}),
    "panx": (56, {"panx-en"}),
    "umsab": (8, {"umsab-en"}),
    "tatoeba": (112, set()),
    "lareqa": (11, set()),
    "bucc-zh": (1, set()),
}
CLASSIFICATION = {TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION}
# slices whose count is not a whole file's MANIFEST count: (directory of the slice's first file, split) ->
# rows (SICK's SemEval_set column, MRPC's rebuilt train, the aligned XNLI / PAWS-X split of 2490 / 2000
# items, and the 90/10 TyDiQA English split of 3696 questions)
DERIVED_COUNTS: dict[tuple[str, Split], int] = {
    ("sick", "train"): 4439,
    ("sick", "dev"): 495,
    ("sick", "test"): 4906,
    ("glue/glue_data/MRPC", "train"): 3668,
    ("xnli_xtreme/data/xnli", "train"): 1494,
    ("xnli_xtreme/data/xnli", "dev"): 249,
    ("xnli_xtreme/data/xnli", "test"): 747,
    ("pawsx_xtreme/data/pawsx", "train"): 1200,
    ("pawsx_xtreme/data/pawsx", "dev"): 200,
    ("pawsx_xtreme/data/pawsx", "test"): 600,
    ("tydiqa_goldp_xtreme/data/tydiqa/tydiqa-goldp-v1.1-train", "train"): 3326,
    ("tydiqa_goldp_xtreme/data/tydiqa/tydiqa-goldp-v1.1-train", "dev"): 370,
    # pooled retrieval: a slice is its queries and the whole pool (XQuAD-R: 1190 questions and the 13014
    # sentences of all 11 languages; BUCC: 8624 zh sentences and 13589 en candidates)
    ("lareqa/xquad-r", "test"): 1190 + 13014,
    ("bucc2018/data/bucc2018", "test"): 8624 + 13589,
}
SLICES = [
    (task.name, split, language)
    for task in list_tasks()
    for split, languages in task.languages.items()
    for language in languages
]


@cache
def manifest_counts(data_dir: Path) -> dict[str, int]:
    manifest = json.loads((data_dir / "MANIFEST.json").read_text())
    return {
        f["local_path"]: f["examples"] for d in manifest["datasets"] for f in d["paths"] if "examples" in f
    }


@cache
def load(data_dir: Path, task: str, split: Split, language: str) -> Dataset:
    """Each slice is read once per session: several tests look at the same rows."""
    return get_task(task).load(data_dir, split, language)


def expected_count(data_dir: Path, task: TaskSpec, split: Split, language: str) -> int:
    files = task.files(split, language)
    derived = DERIVED_COUNTS.get((str(Path(files[0].path).parent), split))
    if derived is not None:
        return derived
    # line-aligned partner files (tweet labels, the English side of a Tatoeba pair) hold the same items
    counts = manifest_counts(data_dir)
    return sum(counts[f.path] for f in files if not f.path.endswith(("_labels.txt", ".eng")))


def test_catalogue_registers_every_protocol_task() -> None:
    tasks = {task.name: task for task in list_tasks()}
    assert set(tasks) == INTERMEDIATES | set(TARGETS)
    for name in INTERMEDIATES:
        assert tasks[name].roles == ("intermediate",)
        assert set(tasks[name].languages) <= {"train", "dev", "test"}
        assert tasks[name].languages["train"] in (("en",), ("eng",))
    for name, (n_test, _) in TARGETS.items():
        assert tasks[name].roles == ("target",)
        assert len(tasks[name].languages["test"]) == n_test, name
    for task in tasks.values():
        assert task.metric in metrics_for(task.type), task.name
        for languages in task.languages.values():
            assert len(set(languages)) == len(languages), task.name
        if task.type in CLASSIFICATION or task.type == TaskType.TOKEN_TAGGING:
            assert task.labels, task.name
    assert "eng" not in tasks["tatoeba"].languages["test"]
    assert set(tasks["tatoeba"].languages) == {"test"}


@pytest.mark.parametrize(("task", "split", "language"), SLICES)
def test_every_slice_loads_with_its_expected_count(
    data_dir: Path, task: str, split: Split, language: str
) -> None:
    spec = get_task(task)
    rows = load(data_dir, task, split, language)
    expected = expected_count(data_dir, spec, split, language)
    assert expected > 0
    assert len(rows) == expected
    assert len(set(rows["id"])) == len(rows), "ids must be unique within a slice"


@pytest.mark.parametrize(
    ("task", "split", "language", "count"),
    [
        ("xnli", "train", "en", 1494),
        ("xnli", "dev", "en", 249),
        ("xnli", "test", "sw", 747),
        ("pawsx", "train", "en", 1200),
        ("pawsx", "dev", "en", 200),
        ("pawsx", "test", "ja", 600),
        ("masakhaner", "test", "hau", 552),
        ("masakhaner2", "test", "hau", 1633),
        ("tatoeba", "test", "amh", 168),
        ("xquad", "test", "th", 1190),
        ("tydiqa", "test", "ar", 921),
        ("tydiqa", "test", "bn", 113),
        ("mlqa", "test", "en", 1148),
        ("mlqa", "test", "hi", 507),
        ("xcopa", "test", "qu", 500),
        ("copa", "train", "en", 400),
        ("copa", "dev", "en", 100),
        ("mrpc", "train", "en", 3668),
        ("tweet-stance", "train", "en", 587 + 461 + 355 + 597 + 620),
        ("tydiqa-en", "train", "en", 3326),
        ("udpos", "test", "ar", 1000),
        ("panx", "train", "en", 20000),
        ("panx", "dev", "en", 10000),
        ("panx", "test", "rw", 100),
        ("panx", "test", "no", 10000),
    ],
)
def test_headline_counts(data_dir: Path, task: str, split: Split, language: str, count: int) -> None:
    assert len(load(data_dir, task, split, language)) == count


@pytest.mark.parametrize("task", sorted(t.name for t in list_tasks() if t.type in CLASSIFICATION))
def test_class_labels_are_named_and_all_used(data_dir: Path, task: str) -> None:
    spec = get_task(task)
    assert spec.labels is not None
    classes = set(range(len(spec.labels)))
    for split, languages in spec.languages.items():
        for language in languages:
            used = set(load(data_dir, task, split, language)["label"])
            assert used <= classes, (split, language)
            if split == "train":
                assert used == classes, "every class occurs in the English training data"


@pytest.mark.parametrize("task", sorted(t.name for t in list_tasks() if t.type == TaskType.TOKEN_TAGGING))
def test_tags_are_within_the_task_labels(data_dir: Path, task: str) -> None:
    spec = get_task(task)
    assert spec.labels is not None
    for split, languages in spec.languages.items():
        for language in languages:
            used = {tag for tags in load(data_dir, task, split, language)["tags"] for tag in tags}
            assert used <= set(spec.labels), (split, language, used - set(spec.labels))
            if split == "train":
                assert used == set(spec.labels), "every tag occurs in the English training data"


def test_ner_tasks_keep_only_shared_entity_types() -> None:
    expected = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
    for name in ("conll-ner", "masakhaner", "masakhaner2", "panx", "panx-en"):
        assert get_task(name).labels == expected


@pytest.mark.parametrize("task", ["emotion", "hate", "irony", "offensive", "stance"])
def test_tweet_label_names_follow_mapping_txt(data_dir: Path, task: str) -> None:
    mapping = (data_dir / "tweeteval/datasets" / task / "mapping.txt").read_text().split("\n")
    names = [line.split("\t")[1] for line in mapping if line.strip()]
    assert list(get_task(f"tweet-{task}").labels or ()) == names


@pytest.mark.parametrize("task", ["xnli", "pawsx"])
def test_aligned_split_never_tests_a_training_item(data_dir: Path, task: str) -> None:
    spec = get_task(task)
    train = set(load(data_dir, task, "train", "en")["id"])
    dev = set(load(data_dir, task, "dev", "en")["id"])
    assert not train & dev
    for name in (task, f"{task}-en"):
        assert set(load(data_dir, name, "train", "en")["id"]) == train
        assert set(load(data_dir, name, "dev", "en")["id"]) == dev
    english_test = load(data_dir, task, "test", "en")["id"]
    for language in spec.languages["test"]:
        test = load(data_dir, task, "test", language)["id"]
        assert test == english_test, "test items are the same translated items in every language"
        assert not set(test) & (train | dev)


def test_tydiqa_dev_is_held_out_of_train(data_dir: Path) -> None:
    train = load(data_dir, "tydiqa-en", "train", "en")
    dev = load(data_dir, "tydiqa-en", "dev", "en")
    assert not set(train["id"]) & set(dev["id"])
    assert all(answers["text"] for answers in dev["answers"])
    for target in ("xquad", "tydiqa", "mlqa"):
        assert load(data_dir, target, "dev", "en")["id"] == dev["id"]
    # tydiqa's English test set is TyDiQA's own English dev set: no question of it is trained on
    test = load(data_dir, "tydiqa", "test", "en")
    assert len(test) == 440 and not set(test["question"]) & {*train["question"], *dev["question"]}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_targets_share_english_data_with_exactly_their_own_intermediates(target: str) -> None:
    spec = get_task(target)
    sharing = {
        task.name
        for task in list_tasks()
        if "intermediate" in task.roles and task.english_data == spec.english_data
    }
    assert sharing == TARGETS[target][1]
    english = "eng" if target == "semrel" else "en"
    for name in sharing:
        for split in ("train", "dev"):
            assert get_task(name).files(split, english) == spec.files(split, english), (name, split)
