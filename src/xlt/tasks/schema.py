"""The schema of a task file, built-in or the user's own: a pydantic model whose unknown keys are errors with
a did-you-mean, and every check that needs no data file.

A file is read either by a named reader of an upstream format (`reader: xnli-tsv`, see
`xlt.data.readers.registry`) or generically by `format` and `columns` (see `xlt.tasks.formats`); a named
split protocol (`split: aligned`, see `xlt.tasks.splits`) cuts several splits from one file. With `source:`
(a pinned dataset of sources.json) paths are relative to the data directory and pinned to their sha256;
without it they are relative to the task file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xlt.core.errors import did_you_mean
from xlt.data.readers.registry import READERS, reader_problem
from xlt.data.schema import ENCODER_ONLY_TYPES, POOLED_TYPES, TaskType
from xlt.metrics import get_metric, metrics_for
from xlt.tasks.columns import (
    FORMAT_BY_SUFFIX,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ColumnMap,
    Format,
    column_kind_problems,
)
from xlt.tasks.slices import normalise_files, normalise_languages, restrict
from xlt.tasks.spec import Role, Split, pinned_sha256, pinned_sources
from xlt.tasks.splits import SPLITS as SPLIT_PROTOCOLS
from xlt.tasks.splits import split_problem

TASK_FILE_SUFFIXES = (".yaml", ".yml")
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
# the name becomes part of stage directories and study names, so it has their character set
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

InputFormat = Literal["single", "pair", "token", "span", "choice"]
LabelType = Literal["regression", "classes", "spans", "tags"]

# the registry's metrics for each task type (each one every stage can compute and bootstrap); the first is
# the default, except that token tagging defaults to IOB2_METRIC when its labels are IOB2 tags
METRICS_BY_TYPE: Mapping[TaskType, tuple[str, ...]] = {
    task_type: metrics_for(task_type) for task_type in TaskType
}
IOB2_METRIC = get_metric("entity_f1").name
TAXONOMY_BY_TYPE: Mapping[TaskType, tuple[InputFormat, LabelType]] = {
    TaskType.PAIR_REGRESSION: ("pair", "regression"),
    TaskType.PAIR_CLASSIFICATION: ("pair", "classes"),
    TaskType.SINGLE_CLASSIFICATION: ("single", "classes"),
    TaskType.MULTIPLE_CHOICE: ("choice", "classes"),
    TaskType.TOKEN_TAGGING: ("token", "tags"),
    TaskType.EXTRACTIVE_QA: ("span", "spans"),
    TaskType.RETRIEVAL: ("pair", "classes"),
    TaskType.ANSWER_RETRIEVAL: ("pair", "classes"),
    TaskType.BITEXT_MINING: ("pair", "classes"),
}
LABELLED_TYPES = frozenset(
    {TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION, TaskType.TOKEN_TAGGING}
)


def is_task_file(name: str) -> bool:
    """Whether a task reference names a task file rather than a registered task."""
    return name.lower().endswith(TASK_FILE_SUFFIXES)


def _is_iob2(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


class Named(BaseModel):
    """A named reader or split protocol with its options: `xnli-tsv`, `{name: held-out, dev_percent: 10}`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FileEntry(BaseModel):
    """One data file of a slice; a bare path in the task file is shorthand for {path: ...}. `partners` are
    the files a named reader reads along with it (a labels file, the English side of a bitext)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(min_length=1)
    partners: tuple[str, ...] = ()
    format: Format | None = None
    has_header: bool | None = None
    columns: ColumnMap | None = None
    reader: Named | None = None
    split: Named | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """The file and its partners, in the order a named reader takes them."""
        return (self.path, *self.partners)


class TaxonomyEntry(BaseModel):
    """Taxonomy tags; those left out are derived from the task type and name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    family: str | None = None
    input_format: InputFormat | None = None
    domain: list[str] | None = Field(None, min_length=1)
    label_type: LabelType | None = None


class TaskFile(BaseModel):
    """A task file as written (after its `include:` is merged in). Everything that can be checked without
    reading the data is checked here."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=NAME_PATTERN)
    include: str | None = Field(None, description="the built-in task or task file this one starts from")
    description: str = ""
    citation: str | None = Field(None, description="BibTeX or a one-line reference of the data")
    type: TaskType
    roles: tuple[Role, ...] = Field(("target",), min_length=1)
    metric: str | None = None
    source: str | None = Field(None, description="a pinned dataset: paths are in the data directory")
    reader: Named | None = None
    split: Named | None = None
    columns: ColumnMap = Field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    score_range: tuple[float, float] | None = None
    format: Format | None = None
    has_header: bool = True
    files: dict[Split, dict[str, tuple[FileEntry, ...]]]
    languages: dict[Split, tuple[str, ...]] | None = Field(None, description="the languages kept per split")
    taxonomy: TaxonomyEntry = TaxonomyEntry()
    english_data: str | None = None
    license: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _explicit_files(cls, data: Any) -> Any:
        """Files written as shorthands or {lang} patterns become explicit, and `languages` keeps some."""
        if not isinstance(data, dict) or "files" not in data:
            return data
        data = {**data, "files": normalise_files(data["files"])}
        if data.get("languages") is not None:
            data["languages"] = normalise_languages(data["languages"])
            data["files"] = restrict(data["files"], data["languages"])
        return data

    @field_validator("labels", mode="before")
    @classmethod
    def _label_names(cls, value: Any) -> Any:
        """Labels written as numbers (e.g. `labels: [0, 1]`) are names like any other."""
        if isinstance(value, list):
            return [
                str(item) if isinstance(item, int | float) and not isinstance(item, bool) else item
                for item in value
            ]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TaskFile:
        problems = [
            *self._column_problems(),
            *self._label_problems(),
            *self._split_problems(),
            *self._reading_problems(),
            *self._source_problems(),
            *self._file_problems(),
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- what the checks above are made of, and the derived settings readers use ------------------------

    def entries(self) -> Iterator[tuple[Split, str, int, FileEntry]]:
        for split, languages in self.files.items():
            for language, entries in languages.items():
                for index, entry in enumerate(entries):
                    yield split, language, index, entry

    def file_reader(self, entry: FileEntry) -> Named | None:
        """The named reader of a file (its own, else the task's); None: it is read by format and columns."""
        return entry.reader or self.reader

    def file_split(self, entry: FileEntry) -> Named | None:
        return entry.split or self.split

    def file_format(self, entry: FileEntry) -> Format | None:
        """The format given for the file, else the task's, else the one its extension implies (a .txt
        file with partner files is line-aligned text, one without is CoNLL)."""
        suffix = Path(entry.path).suffix.lower()
        if entry.format is None and self.format is None and suffix == ".txt" and entry.partners:
            return "lines"
        return entry.format or self.format or FORMAT_BY_SUFFIX.get(suffix)

    def file_has_header(self, entry: FileEntry) -> bool:
        return self.has_header if entry.has_header is None else entry.has_header

    def file_columns(self, entry: FileEntry) -> ColumnMap:
        """The task's column mapping with the file's own mapping on top."""
        return {**self.columns, **(entry.columns or {})}

    def default_metric(self) -> str:
        if self.type == TaskType.TOKEN_TAGGING and self.labels and all(_is_iob2(tag) for tag in self.labels):
            return IOB2_METRIC
        return METRICS_BY_TYPE[self.type][0]

    def _column_problems(self) -> list[str]:
        known = REQUIRED_COLUMNS[self.type] + OPTIONAL_COLUMNS[self.type]
        problems: list[str] = []
        mappings = [("columns", self.columns)] + [
            (f"files.{split}.{language}.columns", entry.columns)
            for split, language, _, entry in self.entries()
            if entry.columns
        ]
        for where, mapping in mappings:
            for key, column in mapping.items():
                if key not in known:
                    problems.append(
                        f"{where}: '{key}' is not a column of {self.type.value} tasks"
                        f"{did_you_mean(key, known)} (columns: {', '.join(known)})"
                    )
                elif isinstance(column, list) and key != "choices":
                    problems.append(f"{where}.{key}: only 'choices' can be a list of columns")
        return problems

    def _label_problems(self) -> list[str]:
        problems: list[str] = []
        kind = self.type.value
        if self.type in LABELLED_TYPES:
            if not self.labels:
                problems.append(f"labels: a {kind} task needs its list of label names")
            elif len(set(self.labels)) != len(self.labels):
                problems.append("labels: the label names must be distinct")
        elif self.labels is not None:
            what = (
                "its label is the 0-based index of the right choice"
                if self.type == TaskType.MULTIPLE_CHOICE
                else "it has no label set"
            )
            problems.append(f"labels: a {kind} task takes no labels ({what})")
        if self.score_range is not None:
            if self.type != TaskType.PAIR_REGRESSION:
                problems.append(f"score_range: only pair_regression tasks have scores, not {kind}")
            elif not self.score_range[0] < self.score_range[1]:
                problems.append(f"score_range: {list(self.score_range)} must be [low, high] with low < high")
        allowed = METRICS_BY_TYPE[self.type]
        if self.metric is not None and self.metric not in allowed:
            problems.append(
                f"metric: '{self.metric}' cannot score {kind} tasks{did_you_mean(self.metric, allowed)} "
                f"(use one of: {', '.join(allowed)})"
            )
        if self.metric == IOB2_METRIC and self.labels and not all(_is_iob2(tag) for tag in self.labels):
            problems.append(f"metric: {IOB2_METRIC} needs IOB2 labels (O, B-TYPE, I-TYPE)")
        return problems

    def _split_problems(self) -> list[str]:
        problems: list[str] = []
        for split, languages in self.files.items():
            if not languages:
                problems.append(f"files.{split}: no languages")
            for language, entries in languages.items():
                if not entries:
                    problems.append(f"files.{split}.{language}: no files")
        trains = self.type not in ENCODER_ONLY_TYPES
        needed: set[Split] = set()
        if "target" in self.roles:
            needed |= {"train", "dev", "test"} if trains else {"test"}
        if "intermediate" in self.roles:
            if not trains:
                problems.append(
                    f"roles: a {self.type.value} task has nothing to train, so it can only be a target"
                )
            needed |= {"train", "dev"}
        for split in SPLITS:
            if split in needed and split not in self.files:
                role = "target" if split == "test" else "trained"
                problems.append(f"files.{split}: a {role} {self.type.value} task needs {split} files")
        english = tuple(self.files.get("train", {}))
        if len(english) > 1:
            problems.append(f"files.train: training uses one language, found {', '.join(english)}")
        elif english and "dev" in self.files and english[0] not in self.files["dev"]:
            problems.append(
                f"files.dev: model selection needs dev files in the training language '{english[0]}'"
            )
        return problems

    def _reading_problems(self) -> list[str]:
        """Named readers and split protocols: known, given valid options, fit for the files they read."""
        problems: list[str] = []
        generic = [key for key in ("format", "columns", "has_header") if key in self.model_fields_set]
        if self.reader is not None and generic:
            problems.append(f"reader: a file read by '{self.reader.name}' takes no {', '.join(generic)}")
        named = [("", self.reader, self.split)] + [
            (f"files.{split}.{language}.", entry.reader, entry.split)
            for split, language, _, entry in self.entries()
        ]
        for where, reader, protocol in named:
            if reader is not None:
                problem = reader_problem(reader.name)
                found = [problem] if problem else READERS[reader.name].problems(reader.name, reader.options)
                problems.extend(f"{where}reader: {message}" for message in found)
            if protocol is not None:
                problem = split_problem(protocol.name)
                found = (
                    [problem]
                    if problem
                    else SPLIT_PROTOCOLS[protocol.name].problems(protocol.name, protocol.options)
                )
                problems.extend(f"{where}split: {message}" for message in found)
        for split, language, _, entry in self.entries():
            where = f"files.{split}.{language} ({entry.path})"
            problems.extend(f"{where}: {problem}" for problem in self._entry_problems(split, entry))
        return problems

    def _entry_problems(self, split: Split, entry: FileEntry) -> list[str]:
        problems: list[str] = []
        reader = self.file_reader(entry)
        if reader is None:
            if entry.partners and self.file_format(entry) != "lines":
                problems.append(
                    "partner files are read by a named reader or as line-aligned files; give the file a "
                    "reader, or format: lines"
                )
        elif reader.name in READERS:
            if any(value is not None for value in (entry.format, entry.has_header, entry.columns)):
                problems.append(f"a file read by '{reader.name}' takes no format, has_header or columns")
            files = READERS[reader.name].files
            if files is None and not entry.partners:
                problems.append(f"reader '{reader.name}' reads a file with its partner files, given none")
            elif files is not None and len(entry.partners) != files - 1:
                problems.append(
                    f"reader '{reader.name}' reads a file with {files - 1} partner file(s), "
                    f"given {len(entry.partners)}"
                )
        protocol = self.file_split(entry)
        if protocol is not None and protocol.name in SPLIT_PROTOCOLS:
            gives = SPLIT_PROTOCOLS[protocol.name].splits
            if split not in gives:
                problems.append(f"split '{protocol.name}' gives {', '.join(gives)}, not {split}")
        return problems

    def _source_problems(self) -> list[str]:
        """A pinned source must exist, and every file of the task must be one of the pinned files."""
        if self.source is None:
            return []
        sources = pinned_sources()
        if self.source not in sources:
            return [f"source: unknown pinned dataset '{self.source}'{did_you_mean(self.source, sources)}"]
        problems: list[str] = []
        for split, language, _, entry in self.entries():
            for path in entry.paths:
                if pinned_sha256(path) is None:
                    problems.append(
                        f"files.{split}.{language}: {path} is not a pinned file of the data directory"
                        f"{did_you_mean(path, sources[self.source]['files'])}"
                    )
        return problems

    def _file_problems(self) -> list[str]:
        problems: list[str] = []
        for split, language, _, entry in self.entries():
            if self.file_reader(entry) is not None:
                continue
            where = f"files.{split}.{language} ({entry.path})"
            if self.type in POOLED_TYPES:
                problems.append(
                    f"{where}: a {self.type.value} task searches a pool that spans its files, so it is read "
                    "by a named reader (xquad-r for XQuAD-R's layout, bucc-mining for BUCC's), not by "
                    "format and columns"
                )
                continue
            fmt = self.file_format(entry)
            if fmt is None:
                problems.append(
                    f"{where}: cannot tell the format from the extension; "
                    f"add format: csv, tsv, jsonl, conll or lines (or use .csv, .tsv, .jsonl, .conll, .txt)"
                )
                continue
            if fmt == "conll" and self.type != TaskType.TOKEN_TAGGING:
                problems.append(f"{where}: a conll file holds token tags, not a {self.type.value} task")
            if self.type == TaskType.TOKEN_TAGGING and fmt in ("csv", "tsv", "lines"):
                problems.append(f"{where}: token tagging reads conll or jsonl files, not {fmt}")
            if fmt == "lines" and not entry.partners:
                problems.append(
                    f"{where}: a line-aligned text file needs its partner files (e.g. the labels file): "
                    "partners: [train_labels.txt]"
                )
            if entry.has_header is not None and fmt not in ("csv", "tsv"):  # lines have no header
                problems.append(f"{where}: has_header applies to csv and tsv files only")
            columns = self.file_columns(entry)
            has_header = self.file_has_header(entry)
            problems.extend(
                f"{where}: {problem}" for problem in column_kind_problems(self.type, columns, fmt, has_header)
            )
        return problems
