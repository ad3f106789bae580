"""What a task is: its type, languages per split, metric, taxonomy tags and pinned data files."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from datasets import Dataset
from pydantic import BaseModel, ConfigDict, Field

from xlt.core.errors import ConfigError, did_you_mean
from xlt.data.files import DataFile
from xlt.data.schema import FEATURES, TaskType

Split = Literal["train", "dev", "test"]
Role = Literal["target", "intermediate"]


class Taxonomy(BaseModel):
    """Tags used by the taxonomy-overlap similarity (PROTOCOLS, "Intermediate tasks")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    family: str
    input_format: Literal["single", "pair", "token", "span", "choice"]
    domain: tuple[str, ...]
    label_type: Literal["regression", "classes", "spans", "tags"]


class DataSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dataset: str
    upstream_repo: str
    commit: str
    license: str


# (split, language) -> the files that make up that slice of the task
FileLayout = Callable[[Split, str], list[DataFile]]
# the files of one slice and the split asked for -> rows in the canonical schema of the task type (the
# split matters where several splits come from one file, e.g. the aligned XNLI split)
Reader = Callable[[list[Path], Split], list[dict[str, Any]]]


class TaskSpec(BaseModel):
    """One task. `english_data` names the English training data so that a target never gets its own
    training data as an intermediate task."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    name: str
    description: str
    type: TaskType
    roles: tuple[Role, ...]
    metric: str
    languages: dict[Split, tuple[str, ...]]
    taxonomy: Taxonomy
    source: DataSource
    english_data: str
    labels: tuple[str, ...] | None = Field(None, description="class or tag names, index = label id")
    citation: str | None = Field(None, description="BibTeX or a one-line reference of the data")
    layout: FileLayout = Field(exclude=True, repr=False)
    reader: Reader = Field(exclude=True, repr=False)

    def check_split(self, split: Split, language: str) -> None:
        available = self.languages.get(split, ())
        if language not in available:
            known = ", ".join(available) or "none"
            raise ConfigError(
                f"task '{self.name}' has no {split} data for language '{language}'"
                f"{did_you_mean(language, available)}",
                f"use one of: {known}",
            )

    def files(self, split: Split, language: str) -> list[DataFile]:
        self.check_split(split, language)
        return self.layout(split, language)

    def load(self, data_dir: Path, split: Split, language: str, limit: int | None = None) -> Dataset:
        """The rows of one split and language as a `datasets.Dataset` in the canonical schema."""
        paths = [f.resolve(data_dir) for f in self.files(split, language)]
        rows = self.reader(paths, split)
        if limit is not None:
            rows = rows[:limit]
        return Dataset.from_list(rows, features=FEATURES[self.type])

    def file_hashes(self, split: Split, language: str) -> dict[str, str]:
        return {f.path: f.sha256 or "unpinned" for f in self.files(split, language)}

    def describe(self) -> dict[str, Any]:
        """JSON-ready metadata (what `xlt tasks --json` prints)."""
        data = self.model_dump(mode="json")
        data["files"] = {
            split: {lang: [f.path for f in self.layout(split, lang)] for lang in langs}
            for split, langs in self.languages.items()
        }
        return data


@lru_cache(maxsize=1)
def pinned_sources() -> dict[str, Any]:
    """Upstream repo, commit, licence and sha256 of every mirrored file (generated from MANIFEST.json)."""
    text = resources.files("xlt.tasks").joinpath("sources.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def pinned_file(dataset_dir: str, path: str) -> DataFile:
    """A DataFile for `<dataset_dir>/<path>` with the sha256 recorded for it."""
    full = f"{dataset_dir}/{path}"
    sha = pinned_sources()[dataset_dir]["files"].get(full)
    if sha is None:
        raise KeyError(f"{full} is not a pinned file of {dataset_dir}")
    return DataFile(full, sha)


@lru_cache(maxsize=1)
def _pinned_paths() -> dict[str, str]:
    return {path: sha for meta in pinned_sources().values() for path, sha in meta["files"].items()}


def pinned_sha256(path: str) -> str | None:
    """The sha256 pinned for a path of the data directory (`<dataset_dir>/<path>`), None if not pinned."""
    return _pinned_paths().get(path)


def data_source(dataset_dir: str) -> DataSource:
    meta = pinned_sources()[dataset_dir]
    return DataSource(
        dataset=meta["dataset"],
        upstream_repo=meta["upstream_repo"],
        commit=meta["commit"],
        license=meta["license"],
    )
