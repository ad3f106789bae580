"""Built-in tasks over the mirrored upstream files. Each task is defined here once and nowhere else."""

from __future__ import annotations

from xlt.data.files import DataFile
from xlt.data.readers.semrel import read_semrel_csv
from xlt.data.readers.sts import read_stsb_multi, read_stsbenchmark
from xlt.data.schema import TaskType
from xlt.tasks.registry import register
from xlt.tasks.spec import Split, TaskSpec, Taxonomy, data_source, pinned_file, read_each

SEMREL_TRACK_A_TEST = ("amh", "arq", "ary", "eng", "hau", "kin", "mar", "tel")
SEMREL_TRACK_C_TEST = ("afr", "arb", "hin", "ind", "pan")
STSB_MULTI_LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pl", "pt", "ru", "zh")

STS_TAXONOMY = Taxonomy(
    family="similarity", input_format="pair", domain=("news", "captions", "forums"), label_type="regression"
)
# SemRel's English pairs are drawn from several sources; "mixed" records that no single domain applies
SEMREL_TAXONOMY = Taxonomy(
    family="similarity", input_format="pair", domain=("mixed",), label_type="regression"
)


def _stsbenchmark_file(split: Split) -> DataFile:
    return pinned_file("stsbenchmark", f"data/stsbenchmark/sts-{split}.csv")


def _semrel_file(split: Split, language: str) -> DataFile:
    if split == "test":
        track = "Track A" if language in SEMREL_TRACK_A_TEST else "Track C"
        return pinned_file("semrel2024", f"{track}/{language}/{language}_test_with_labels.csv")
    name = "eng_train.csv" if split == "train" else "eng_dev_with_labels.csv"
    return pinned_file("semrel2024", f"Track A/eng/{name}")


def _stsb_multi_file(split: Split, language: str) -> list[DataFile]:
    if split == "test":
        return [pinned_file("stsb_multi_mt", f"data/stsb-{language}-test.csv")]
    return [_stsbenchmark_file(split)]


register(
    TaskSpec(
        name="stsb",
        description="STS Benchmark (English): sentence-pair similarity 0-5, rescaled to [0, 1]",
        type=TaskType.PAIR_REGRESSION,
        roles=("intermediate",),
        metric="spearman",
        languages={"train": ("en",), "dev": ("en",), "test": ("en",)},
        taxonomy=STS_TAXONOMY,
        source=data_source("stsbenchmark"),
        english_data="stsbenchmark",
        layout=lambda split, language: [_stsbenchmark_file(split)],
        reader=read_each(read_stsbenchmark),
    )
)

register(
    TaskSpec(
        name="stsb-multi",
        description="STS-B trained in English, evaluated on the stsb_multi_mt machine translations",
        type=TaskType.PAIR_REGRESSION,
        roles=("target",),
        metric="spearman",
        languages={"train": ("en",), "dev": ("en",), "test": STSB_MULTI_LANGUAGES},
        taxonomy=STS_TAXONOMY,
        source=data_source("stsb_multi_mt"),
        english_data="stsbenchmark",
        layout=_stsb_multi_file,
        reader=lambda paths, split: (read_stsbenchmark if split != "test" else read_stsb_multi)(paths[0]),
    )
)

register(
    TaskSpec(
        name="semrel",
        description="SemEval-2024 Task 1 relatedness: English Track A training, zero-shot on Track A/C tests",
        type=TaskType.PAIR_REGRESSION,
        roles=("target",),
        metric="spearman",
        languages={
            "train": ("eng",),
            "dev": ("eng",),
            "test": SEMREL_TRACK_A_TEST + SEMREL_TRACK_C_TEST,
        },
        taxonomy=SEMREL_TAXONOMY,
        source=data_source("semrel2024"),
        english_data="semrel2024-eng",
        layout=lambda split, language: [_semrel_file(split, language)],
        reader=read_each(read_semrel_csv),
    )
)

register(
    TaskSpec(
        name="semrel-eng",
        description="SemRel 2024 English relatedness (Track A eng) as an intermediate task",
        type=TaskType.PAIR_REGRESSION,
        roles=("intermediate",),
        metric="spearman",
        languages={"train": ("eng",), "dev": ("eng",), "test": ("eng",)},
        taxonomy=SEMREL_TAXONOMY,
        source=data_source("semrel2024"),
        english_data="semrel2024-eng",
        layout=lambda split, language: [_semrel_file(split, language)],
        reader=read_each(read_semrel_csv),
    )
)
