"""Tasks of the user's own: a YAML file that describes local CSV/TSV/JSONL/CoNLL files as a task.

The file is validated by a pydantic model (unknown keys are errors with a did-you-mean) and becomes a
TaskSpec whose layout and reader read the user's files, so a task file works wherever a task name does.
Reading collects every problem of a file with its line instead of stopping at the first, so that
`xlt validate` can list them all at once; training and evaluation stop at the first and point there.

Conventions: data paths are relative to the task file's directory (or absolute); integer columns are
0-based positions; labels in files may be class names or 0-based ids (a name wins when a label is both);
regression scores are rescaled from `score_range` to [0, 1]; TSV files are unquoted (no field holds a TAB
or a newline); a CoNLL file has one whitespace-separated `token ... tag` line per word and blank lines
between sentences, with -DOCSTART- lines skipped. A row without an id column is named `file:line`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xlt.core.errors import ConfigError, DataError, did_you_mean
from xlt.core.validation import parse_yaml_mapping, validation_error
from xlt.data.files import DataFile, file_sha256, read_text
from xlt.data.schema import TaskType
from xlt.metrics import get_metric, metrics_for
from xlt.tasks.spec import DataSource, Role, Split, TaskSpec, Taxonomy

TASK_FILE_SUFFIXES = (".yaml", ".yml")
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
# the name becomes part of stage directories and study names, so it has their character set
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

Format = Literal["csv", "tsv", "jsonl", "conll"]
InputFormat = Literal["single", "pair", "token", "span", "choice"]
LabelType = Literal["regression", "classes", "spans", "tags"]
Column = str | int
ColumnMap = dict[str, Column | list[Column]]
Row = dict[str, Any]

FORMAT_BY_SUFFIX: Mapping[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".conll": "conll",
    ".txt": "conll",
}
# the canonical columns a file must provide, in the order headerless files give them by default
REQUIRED_COLUMNS: Mapping[TaskType, tuple[str, ...]] = {
    TaskType.PAIR_REGRESSION: ("sentence1", "sentence2", "label"),
    TaskType.PAIR_CLASSIFICATION: ("sentence1", "sentence2", "label"),
    TaskType.SINGLE_CLASSIFICATION: ("text", "label"),
    TaskType.MULTIPLE_CHOICE: ("premise", "choices", "label"),
    TaskType.TOKEN_TAGGING: ("tokens", "tags"),
    TaskType.EXTRACTIVE_QA: ("context", "question", "answer_text", "answer_start"),
    TaskType.RETRIEVAL: ("source", "target"),
}
OPTIONAL_COLUMNS: Mapping[TaskType, tuple[str, ...]] = {
    task_type: ("id", "question") if task_type == TaskType.MULTIPLE_CHOICE else ("id",)
    for task_type in TaskType
}
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
}
LABELLED_TYPES = frozenset(
    {TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION, TaskType.TOKEN_TAGGING}
)
TAGS_DEFAULT_POSITIONS: Mapping[str, int] = {"tokens": 0, "tags": -1}
_DOCSTART = "-DOCSTART-"


def is_task_file(name: str) -> bool:
    """Whether a task reference names a task file rather than a registered task."""
    return name.lower().endswith(TASK_FILE_SUFFIXES)


def _is_iob2(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


class FileEntry(BaseModel):
    """One data file of a slice; a bare path in the task file is shorthand for {path: ...}."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(min_length=1)
    format: Format | None = None
    has_header: bool | None = None
    columns: ColumnMap | None = None


class TaxonomyEntry(BaseModel):
    """Taxonomy tags; those left out are derived from the task type and name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    family: str | None = None
    input_format: InputFormat | None = None
    domain: list[str] | None = Field(None, min_length=1)
    label_type: LabelType | None = None


class TaskFile(BaseModel):
    """A task file as written. Everything that can be checked without reading the data is checked here."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    type: TaskType
    roles: tuple[Role, ...] = Field(("target",), min_length=1)
    metric: str | None = None
    columns: ColumnMap = Field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    score_range: tuple[float, float] | None = None
    format: Format | None = None
    has_header: bool = True
    files: dict[Split, dict[str, tuple[FileEntry, ...]]]
    taxonomy: TaxonomyEntry = TaxonomyEntry()
    english_data: str | None = None
    license: str = "unspecified"

    @field_validator("files", mode="before")
    @classmethod
    def _file_shorthands(cls, value: Any) -> Any:
        """Accept `lang: path`, `lang: {path: ...}` and lists of either for the files of a slice."""
        if not isinstance(value, dict):
            return value
        normalised: dict[Any, Any] = {}
        for split, languages in value.items():
            if not isinstance(languages, dict):
                normalised[split] = languages
                continue
            normalised[split] = {
                # YAML 1.1 reads the Norwegian code `no` as false
                ("no" if language is False else language): [
                    {"path": entry} if isinstance(entry, str) else entry
                    for entry in (entries if isinstance(entries, list) else [entries])
                ]
                for language, entries in languages.items()
            }
        return normalised

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

    def file_format(self, entry: FileEntry) -> Format | None:
        """The format given for the file, else the task's, else the one its extension implies."""
        return entry.format or self.format or FORMAT_BY_SUFFIX.get(Path(entry.path).suffix.lower())

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
        trains = self.type != TaskType.RETRIEVAL
        needed: set[Split] = set()
        if "target" in self.roles:
            needed |= {"train", "dev", "test"} if trains else {"test"}
        if "intermediate" in self.roles:
            if not trains:
                problems.append("roles: a retrieval task has nothing to train, so it can only be a target")
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

    def _file_problems(self) -> list[str]:
        problems: list[str] = []
        for split, language, _, entry in self.entries():
            where = f"files.{split}.{language} ({entry.path})"
            fmt = self.file_format(entry)
            if fmt is None:
                problems.append(
                    f"{where}: cannot tell the format from the extension; "
                    f"add format: csv, tsv, jsonl or conll (or use .csv, .tsv, .jsonl, .conll, .txt)"
                )
                continue
            if fmt == "conll" and self.type != TaskType.TOKEN_TAGGING:
                problems.append(f"{where}: a conll file holds token tags, not a {self.type.value} task")
            if self.type == TaskType.TOKEN_TAGGING and fmt in ("csv", "tsv"):
                problems.append(f"{where}: token tagging reads conll or jsonl files, not {fmt}")
            if entry.has_header is not None and fmt not in ("csv", "tsv"):
                problems.append(f"{where}: has_header applies to csv and tsv files only")
            problems.extend(f"{where}: {problem}" for problem in self._column_kind_problems(entry, fmt))
        return problems

    def _column_kind_problems(self, entry: FileEntry, fmt: Format) -> list[str]:
        """Columns must be what the format can address: names in JSONL, positions in CoNLL and headerless
        files, either in files with a header."""
        columns = self.file_columns(entry)
        problems: list[str] = []
        for key, column in columns.items():
            parts = column if isinstance(column, list) else [column]
            if fmt == "jsonl" and any(isinstance(part, int) for part in parts):
                problems.append(f"columns.{key}: a jsonl record is addressed by key, not by position")
            elif fmt == "conll" and (
                key not in TAGS_DEFAULT_POSITIONS or any(isinstance(p, str) for p in parts)
            ):
                problems.append(f"columns.{key}: a conll file has only tokens and tags, given by position")
            elif (
                fmt in ("csv", "tsv")
                and not self.file_has_header(entry)
                and any(isinstance(part, str) for part in parts)
            ):
                problems.append(f"columns.{key}: a file without header has no column names, use a position")
            if key == "choices" and fmt in ("csv", "tsv") and not isinstance(column, list):
                problems.append("columns.choices: give the list of columns that hold the choices")
        if fmt == "conll":
            positions = {columns.get(key, default) for key, default in TAGS_DEFAULT_POSITIONS.items()}
            if len(positions) == 1:
                problems.append("columns: tokens and tags must be different positions")
        if self.type == TaskType.MULTIPLE_CHOICE and fmt in ("csv", "tsv") and "choices" not in columns:
            problems.append("columns.choices: give the list of columns that hold the choices")
        return problems


@dataclass(frozen=True)
class Problem:
    """Something wrong with a task, at a file and line where one applies."""

    path: Path | None
    line: int | None
    message: str

    def render(self, relative_to: Path | None = None) -> str:
        if self.path is None:
            return self.message
        shown: Path = self.path
        if relative_to is not None and self.path.is_relative_to(relative_to):
            shown = self.path.relative_to(relative_to)
        where = f"{shown}:{self.line}" if self.line is not None else str(shown)
        return f"{where}: {self.message}"


class _FieldError(Exception):
    """A value of a row that is missing or cannot be read."""


class _Fields:
    """One record's values by canonical column. A problem with a value is collected, not raised, so that
    every problem of a row is reported."""

    def __init__(self, get: Callable[[str], Any], has: Callable[[str], bool]) -> None:
        self._get = get
        self._has = has
        self.errors: list[str] = []

    def value(self, key: str, convert: Callable[[Any], Any], placeholder: Any) -> Any:
        try:
            return convert(self._get(key))
        except _FieldError as exc:
            self.errors.append(str(exc))
            return placeholder

    def text(self, key: str) -> str:
        return str(self.value(key, lambda value: _text(key, value), ""))

    def optional_text(self, key: str) -> str | None:
        """A value that may be absent or blank (an id, a multiple-choice question)."""
        if not self._has(key):
            return None
        result = self.value(key, lambda value: _blank_or_text(key, value), None)
        return None if result is None else str(result)


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _FieldError(f"{key} is not text: {value!r}")
    text = str(value)
    if not text.strip():
        raise _FieldError(f"empty {key}")
    return text


def _blank_or_text(key: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _text(key, value)


def _integer(value: Any) -> int | None:
    """An int given as a JSON number or as digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _label_index(value: Any, labels: Sequence[str], ids: Mapping[str, int], what: str = "label") -> int:
    """The id of a label given by name or by 0-based id."""
    if isinstance(value, str) and value.strip() in ids:
        return ids[value.strip()]
    number = _integer(value)
    if number is not None and 0 <= number < len(labels):
        return number
    shown = value.strip() if isinstance(value, str) else value
    suggestion = did_you_mean(shown, labels) if isinstance(shown, str) else ""
    raise _FieldError(f"{what} {shown!r} not in [{', '.join(labels)}]{suggestion}")


def _score(value: Any, low: float, high: float) -> float:
    """A score in [low, high] rescaled to [0, 1]."""
    if isinstance(value, bool):
        raise _FieldError(f"score {value!r} is not a number")
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise _FieldError(f"score {value!r} is not a number") from None
    if not math.isfinite(score):
        raise _FieldError(f"score {value!r} is not a finite number")
    if not low <= score <= high:
        raise _FieldError(f"score {score:g} is outside [{low:g}, {high:g}]")
    return (score - low) / (high - low)


def _string_list(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _FieldError(f"{key} is not a non-empty list: {value!r}")
    return [_text(f"{key}[{i}]", item) for i, item in enumerate(value)]


def _yaml_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key and list item of a YAML text, by its path of keys."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node | None, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, str(index))
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    walk(root, ())
    return lines


class CustomTask:
    """A validated task file, the reading of its data files, and the TaskSpec built from them."""

    def __init__(self, path: Path, config: TaskFile, text: str) -> None:
        self.path = path
        self.config = config
        self.definition_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._lines = _yaml_lines(text)
        labels = config.labels or ()
        self._label_ids = {name: index for index, name in enumerate(labels)}
        self._entries = {
            (split, str(self.file_path(entry))): entry for split, _, _, entry in config.entries()
        }

    def file_path(self, entry: FileEntry) -> Path:
        written = Path(entry.path).expanduser()
        return (written if written.is_absolute() else self.path.parent / written).resolve()

    def entry_line(self, split: Split, language: str, index: int | None = None) -> int | None:
        """The line of the task file that names a slice's file (or the slice, without an index)."""
        if index is not None and ("files", split, language, str(index)) in self._lines:
            return self._lines["files", split, language, str(index)]
        return self._lines.get(("files", split, language))

    @cached_property
    def spec(self) -> TaskSpec:
        config = self.config
        input_format, label_type = TAXONOMY_BY_TYPE[config.type]
        given = config.taxonomy
        return TaskSpec(
            name=config.name,
            description=config.description or f"{config.type.value} task of {self.path.name}",
            type=config.type,
            roles=config.roles,
            metric=config.metric or config.default_metric(),
            languages={split: tuple(config.files[split]) for split in SPLITS if split in config.files},
            taxonomy=Taxonomy(
                # an unknown family is the task's own, so that it claims no overlap it may not have
                family=given.family or config.name,
                input_format=given.input_format or input_format,
                domain=tuple(given.domain or ("unspecified",)),
                label_type=given.label_type or label_type,
            ),
            source=DataSource(
                dataset=config.name,
                upstream_repo=str(self.path),
                commit=f"sha256:{self.definition_sha256}",
                license=config.license,
            ),
            english_data=config.english_data or config.name,
            labels=config.labels,
            layout=self._layout,
            reader=self._read_slice,
        )

    def _layout(self, split: Split, language: str) -> list[DataFile]:
        """The slice's files, each with the sha256 of its current content for provenance."""
        files = []
        for entry in self.config.files[split][language]:
            path = self.file_path(entry)
            if not path.is_file():
                raise DataError(
                    f"{path}: file not found (files.{split}.{language} of {self.path})",
                    "fix the path in the task file; relative paths start at the task file's directory",
                )
            files.append(DataFile(str(path), file_sha256(path)))
        return files

    def _read_slice(self, paths: list[Path], split: Split) -> list[Row]:
        rows: list[Row] = []
        problems: list[Problem] = []
        for path in paths:
            file_rows, file_problems = self.read_file(self._entries[split, str(path)])
            rows.extend(file_rows)
            problems.extend(file_problems)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise DataError(
                problems[0].render() + more, f"run `xlt validate {self.path}` to list every problem"
            )
        return rows

    # ---- reading one file: rows in the canonical schema, and every problem found on the way -------------

    def read_file(self, entry: FileEntry) -> tuple[list[Row], list[Problem]]:
        path = self.file_path(entry)
        fmt = self.config.file_format(entry)
        try:
            text = read_text(path)
        except DataError as exc:
            return [], [Problem(None, None, exc.problem)]
        problems: list[Problem] = []
        columns = self.config.file_columns(entry)
        if fmt == "conll":
            rows = self._conll_rows(path, text, columns, problems)
        else:
            if fmt == "jsonl":
                records = self._jsonl_records(path, text, columns, problems)
            else:
                has_header = self.config.file_has_header(entry)
                records = self._delimited_records(path, text, fmt == "tsv", has_header, columns, problems)
            rows = []
            # a multiple-choice batch needs one number of choices, so a file keeps to that of its first row
            first_choices: tuple[int, int] | None = None
            for line, fields in records:
                row = self._row(fields, f"{path.name}:{line}")
                if not fields.errors and "choices" in row:
                    first_choices = first_choices or (line, len(row["choices"]))
                    if len(row["choices"]) != first_choices[1]:
                        fields.errors.append(
                            f"{len(row['choices'])} choices, but the first row "
                            f"(line {first_choices[0]}) has {first_choices[1]}"
                        )
                if fields.errors:
                    problems.extend(Problem(path, line, error) for error in fields.errors)
                else:
                    rows.append(row)
        if not rows and not problems:
            problems.append(Problem(path, None, "no examples"))
        return rows, problems

    def _column(self, key: str, columns: ColumnMap, header: bool) -> Column | list[Column] | None:
        """The file column of a canonical column: as mapped, else by its own name, else (files without
        header) by its place among the type's required columns."""
        if key in columns:
            return columns[key]
        if header:
            return key
        required = REQUIRED_COLUMNS[self.config.type]
        return required.index(key) if key in required and key != "choices" else None

    def _delimited_records(
        self, path: Path, text: str, tsv: bool, has_header: bool, columns: ColumnMap, problems: list[Problem]
    ) -> list[tuple[int, _Fields]]:
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter="\t" if tsv else ",",
            quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL,
        )
        lines: list[tuple[int, list[str]]] = []
        start = 1
        try:
            for fields in reader:
                if any(field.strip() for field in fields):
                    lines.append((start, fields))
                start = reader.line_num + 1
        except csv.Error as exc:
            problems.append(Problem(path, start, f"cannot be parsed as {'TSV' if tsv else 'CSV'} ({exc})"))
        header: list[str] | None = None
        header_line = 1
        if has_header and lines:
            header_line, header = lines.pop(0)
        names: dict[str, int] = {}
        for index, name in enumerate(header or []):
            names.setdefault(name.strip(), index)
        positions: dict[str, int | list[int]] = {}
        for key in REQUIRED_COLUMNS[self.config.type] + OPTIONAL_COLUMNS[self.config.type]:
            column = self._column(key, columns, header is not None)
            if column is None:
                continue
            optional_default = key not in columns and key in OPTIONAL_COLUMNS[self.config.type]
            resolved: list[int] = []
            for part in column if isinstance(column, list) else [column]:
                if isinstance(part, int):
                    resolved.append(part)
                elif part in names:
                    resolved.append(names[part])
                elif not optional_default and header is not None:
                    problems.append(
                        Problem(
                            path,
                            header_line,
                            f"no column '{part}' for {key} in the header "
                            f"[{', '.join(header)}]{did_you_mean(part, names)}",
                        )
                    )
            if len(resolved) == (len(column) if isinstance(column, list) else 1):
                positions[key] = resolved if isinstance(column, list) else resolved[0]
        required = REQUIRED_COLUMNS[self.config.type]
        if any(key not in positions for key in required):
            return []

        def fields_of(fields: list[str]) -> _Fields:
            def get(key: str) -> Any:
                position = positions[key]
                if isinstance(position, list):
                    return [_field(fields, p) for p in position]
                return _field(fields, position)

            return _Fields(get, positions.__contains__)

        records = []
        for line, fields in lines:
            if header is not None and len(fields) != len(header):
                problems.append(
                    Problem(
                        path, line, f"expected {len(header)} fields as in the header, found {len(fields)}"
                    )
                )
                continue
            records.append((line, fields_of(fields)))
        return records

    def _jsonl_records(
        self, path: Path, text: str, columns: ColumnMap, problems: list[Problem]
    ) -> list[tuple[int, _Fields]]:
        optional = OPTIONAL_COLUMNS[self.config.type]
        records = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
                continue
            if not isinstance(record, dict):
                problems.append(Problem(path, number, f"not a JSON object: {line.strip()[:40]}"))
                continue

            def get(key: str, record: dict[str, Any] = record) -> Any:
                column = columns.get(key, key)
                if isinstance(column, list):
                    return [_json_value(record, part) for part in column]
                return _json_value(record, column)

            def has(key: str, record: dict[str, Any] = record) -> bool:
                return key in columns or (key in optional and key in record)

            records.append((number, _Fields(get, has)))
        return records

    def _conll_rows(self, path: Path, text: str, columns: ColumnMap, problems: list[Problem]) -> list[Row]:
        token_at, tag_at = (_conll_position(columns, key) for key in ("tokens", "tags"))
        width = max(2, *(p + 1 if p >= 0 else -p for p in (token_at, tag_at)))
        labels = self.config.labels or ()
        rows: list[Row] = []
        for block in _blocks(text):
            tokens: list[str] = []
            tags: list[str] = []
            clean = True
            for line, content in block:
                if content.startswith(_DOCSTART):
                    continue
                fields = content.split()
                if len(fields) < width:
                    problems.append(
                        Problem(
                            path,
                            line,
                            f"expected at least {width} whitespace-separated fields, found {len(fields)}",
                        )
                    )
                    clean = False
                    continue
                try:
                    tag = labels[_label_index(fields[tag_at], labels, self._label_ids, "tag")]
                except _FieldError as exc:
                    problems.append(Problem(path, line, str(exc)))
                    clean = False
                    continue
                tokens.append(fields[token_at])
                tags.append(tag)
            if clean and tokens:
                rows.append({"id": f"{path.name}:{block[0][0]}", "tokens": tokens, "tags": tags})
        return rows

    def _row(self, fields: _Fields, default_id: str) -> Row:
        """One record in the canonical schema of the task type; problems are left in `fields.errors`."""
        config = self.config
        row: Row = {"id": fields.optional_text("id") or default_id}
        labels = config.labels or ()
        if config.type in (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION):
            row["sentence1"] = fields.text("sentence1")
            row["sentence2"] = fields.text("sentence2")
        if config.type == TaskType.PAIR_REGRESSION:
            low, high = config.score_range or (0.0, 1.0)
            row["label"] = fields.value("label", lambda value: _score(value, low, high), 0.0)
        elif config.type in (TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION):
            if config.type == TaskType.SINGLE_CLASSIFICATION:
                row["text"] = fields.text("text")
            row["label"] = fields.value(
                "label", lambda value: _label_index(value, labels, self._label_ids), 0
            )
        elif config.type == TaskType.MULTIPLE_CHOICE:
            row["premise"] = fields.text("premise")
            row["question"] = fields.optional_text("question") or ""
            row["choices"] = fields.value("choices", lambda value: _string_list("choices", value), [])
            row["label"] = fields.value("label", lambda value: _choice(value, row["choices"]), 0)
        elif config.type == TaskType.TOKEN_TAGGING:
            row["tokens"] = fields.value("tokens", lambda value: _string_list("tokens", value), [])
            row["tags"] = fields.value("tags", lambda value: self._tags(value, len(row["tokens"])), [])
        elif config.type == TaskType.EXTRACTIVE_QA:
            row["context"] = fields.text("context")
            row["question"] = fields.text("question")
            texts = fields.value("answer_text", lambda value: _string_list("answer_text", _listed(value)), [])
            starts = fields.value("answer_start", lambda value: _starts(_listed(value)), [])
            fields.errors.extend(_answer_problems(row["context"], texts, starts))
            row["answers"] = {"text": texts, "answer_start": starts}
        elif config.type == TaskType.RETRIEVAL:
            row["source"] = fields.text("source")
            row["target"] = fields.text("target")
        return row

    def _tags(self, value: Any, n_tokens: int) -> list[str]:
        if not isinstance(value, list):
            raise _FieldError(f"tags is not a list: {value!r}")
        labels = self.config.labels or ()
        tags = [labels[_label_index(tag, labels, self._label_ids, "tag")] for tag in value]
        if len(tags) != n_tokens:
            raise _FieldError(f"{len(tags)} tags for {n_tokens} tokens")
        return tags


def _conll_position(columns: ColumnMap, key: str) -> int:
    column = columns.get(key, TAGS_DEFAULT_POSITIONS[key])
    assert isinstance(column, int), "TaskFile allows only positions in conll files"
    return column


def _field(fields: list[str], position: int) -> str:
    if not -len(fields) <= position < len(fields):
        raise _FieldError(f"no column {position}: the row has {len(fields)} fields")
    return fields[position]


def _json_value(record: dict[str, Any], key: Column) -> Any:
    if not isinstance(key, str) or key not in record:
        raise _FieldError(f"no key '{key}'{did_you_mean(str(key), record)} (keys: {', '.join(record)})")
    return record[key]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _starts(values: list[Any]) -> list[int]:
    starts = [_integer(value) for value in values]
    if any(start is None or start < 0 for start in starts):
        raise _FieldError(f"answer_start {values!r} is not a character offset")
    return [start for start in starts if start is not None]


def _answer_problems(context: str, texts: list[str], starts: list[int]) -> list[str]:
    if len(texts) != len(starts):
        return [f"{len(texts)} answer texts but {len(starts)} answer starts"]
    return [
        f"answer {text!r} is not at offset {start} of the context"
        for text, start in zip(texts, starts, strict=True)
        if context[start : start + len(text)] != text
    ]


def _choice(value: Any, choices: list[str]) -> int:
    index = _integer(value)
    # without readable choices (reported already) only the form of the label can be checked
    if index is None or index < 0 or (choices and index >= len(choices)):
        raise _FieldError(f"label {value!r} is not the 0-based index of one of the {len(choices)} choices")
    return index


def _blocks(text: str) -> Iterator[list[tuple[int, str]]]:
    """Blank-line-separated blocks of (line number, line)."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, line.rstrip("\r")))
        elif block:
            yield block
            block = []
    if block:
        yield block


def load_task_file(path: Path) -> CustomTask:
    """The task of a task file, read again only when the file changes."""
    if not path.is_file():
        raise ConfigError(
            f"task file {path} not found",
            "give the path of a task YAML (see examples/custom-task/) or a built-in task name (`xlt tasks`)",
        )
    resolved = path.resolve()
    return _load(resolved, resolved.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> CustomTask:
    # mtime_ns is part of the cache key so that an edited task file is read again
    text = path.read_text(encoding="utf-8")
    data = parse_yaml_mapping(text, path, "task", "examples/custom-task/")
    try:
        config = TaskFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(
            exc, str(path), TaskFile, "fix the task file (see examples/custom-task/)"
        ) from None
    return CustomTask(path, config, text)
