"""The generic readers of task files: CSV, TSV, JSONL and CoNLL files mapped onto the canonical columns of
the task type by `columns` (a file read by a named upstream reader does not come here).

Conventions: integer columns are 0-based positions; labels in files may be class names or 0-based ids (a
name wins when a label is both); regression scores are rescaled from `score_range` to [0, 1]; TSV files are
unquoted (no field holds a TAB or a newline); a CoNLL file has one whitespace-separated `token ... tag` line
per word and blank lines between sentences, with -DOCSTART- lines skipped; `lines` files are line-aligned
plain text (the file and its partners are the columns by position, line N of each is one row, every file
must have as many lines). A row without an id column is
named `file:line`. Reading collects every problem of a file with its line instead of stopping at the first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlt.core.errors import DataError, did_you_mean
from xlt.data.files import read_text
from xlt.data.schema import TaskType
from xlt.tasks.columns import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TAGS_DEFAULT_POSITIONS,
    Column,
    ColumnMap,
    Row,
)
from xlt.tasks.schema import FileEntry, TaskFile
from xlt.tasks.values import (
    FieldError,
    Fields,
    Problem,
    answer_problems,
    answer_starts,
    choice,
    label_index,
    listed,
    score,
    string_list,
)

_DOCSTART = "-DOCSTART-"


class FormatReader:
    """Reads the files of a task file by their format and the task's column mapping."""

    def __init__(self, config: TaskFile) -> None:
        self.config = config
        self._label_ids = {name: index for index, name in enumerate(config.labels or ())}

    def read_file(self, entry: FileEntry, paths: list[Path]) -> tuple[list[Row], list[Problem]]:
        """The rows of a file (with its partners, for line-aligned files) in the canonical schema, and every
        problem found on the way."""
        fmt = self.config.file_format(entry)
        path = paths[0]
        try:
            texts = [read_text(each) for each in (paths if fmt == "lines" else paths[:1])]
        except DataError as exc:
            return [], [Problem(None, None, exc.problem)]
        text = texts[0]
        problems: list[Problem] = []
        columns = self.config.file_columns(entry)
        if fmt == "conll":
            rows = self._conll_rows(path, text, columns, problems)
        else:
            if fmt == "lines":
                records = self._positional_records(
                    path, _aligned_lines(paths, texts, problems), None, 0, columns, problems
                )
            elif fmt == "jsonl":
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
    ) -> list[tuple[int, Fields]]:
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
        return self._positional_records(path, lines, header, header_line, columns, problems)

    def _positional_records(
        self,
        path: Path,
        lines: list[tuple[int, list[str]]],
        header: list[str] | None,
        header_line: int,
        columns: ColumnMap,
        problems: list[Problem],
    ) -> list[tuple[int, Fields]]:
        """Records of rows of fields, the columns addressed by header name or position."""
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

        def fields_of(fields: list[str]) -> Fields:
            def get(key: str) -> Any:
                position = positions[key]
                if isinstance(position, list):
                    return [_field(fields, p) for p in position]
                return _field(fields, position)

            return Fields(get, positions.__contains__)

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
    ) -> list[tuple[int, Fields]]:
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

            records.append((number, Fields(get, has)))
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
                    tag = labels[label_index(fields[tag_at], labels, self._label_ids, "tag")]
                except FieldError as exc:
                    problems.append(Problem(path, line, str(exc)))
                    clean = False
                    continue
                tokens.append(fields[token_at])
                tags.append(tag)
            if clean and tokens:
                rows.append({"id": f"{path.name}:{block[0][0]}", "tokens": tokens, "tags": tags})
        return rows

    def _row(self, fields: Fields, default_id: str) -> Row:
        """One record in the canonical schema of the task type; problems are left in `fields.errors`."""
        config = self.config
        row: Row = {"id": fields.optional_text("id") or default_id}
        labels = config.labels or ()
        if config.type in (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION):
            row["sentence1"] = fields.text("sentence1")
            row["sentence2"] = fields.text("sentence2")
        if config.type == TaskType.PAIR_REGRESSION:
            low, high = config.score_range or (0.0, 1.0)
            row["label"] = fields.value("label", lambda value: score(value, low, high), 0.0)
        elif config.type in (TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION):
            if config.type == TaskType.SINGLE_CLASSIFICATION:
                row["text"] = fields.text("text")
            row["label"] = fields.value("label", lambda value: label_index(value, labels, self._label_ids), 0)
        elif config.type == TaskType.MULTIPLE_CHOICE:
            row["premise"] = fields.text("premise")
            row["question"] = fields.optional_text("question") or ""
            row["choices"] = fields.value("choices", lambda value: string_list("choices", value), [])
            row["label"] = fields.value("label", lambda value: choice(value, row["choices"]), 0)
        elif config.type == TaskType.TOKEN_TAGGING:
            row["tokens"] = fields.value("tokens", lambda value: string_list("tokens", value), [])
            row["tags"] = fields.value("tags", lambda value: self._tags(value, len(row["tokens"])), [])
        elif config.type == TaskType.EXTRACTIVE_QA:
            row["context"] = fields.text("context")
            row["question"] = fields.text("question")
            texts = fields.value("answer_text", lambda value: string_list("answer_text", listed(value)), [])
            starts = fields.value("answer_start", lambda value: answer_starts(listed(value)), [])
            fields.errors.extend(answer_problems(row["context"], texts, starts))
            row["answers"] = {"text": texts, "answer_start": starts}
        elif config.type == TaskType.RETRIEVAL:
            row["source"] = fields.text("source")
            row["target"] = fields.text("target")
        return row

    def _tags(self, value: Any, n_tokens: int) -> list[str]:
        if not isinstance(value, list):
            raise FieldError(f"tags is not a list: {value!r}")
        labels = self.config.labels or ()
        tags = [labels[label_index(tag, labels, self._label_ids, "tag")] for tag in value]
        if len(tags) != n_tokens:
            raise FieldError(f"{len(tags)} tags for {n_tokens} tokens")
        return tags


def _conll_position(columns: ColumnMap, key: str) -> int:
    column = columns.get(key, TAGS_DEFAULT_POSITIONS[key])
    assert isinstance(column, int), "TaskFile allows only positions in conll files"
    return column


def _aligned_lines(
    paths: list[Path], texts: list[str], problems: list[Problem]
) -> list[tuple[int, list[str]]]:
    """Line N of every file as the fields of one row; files of different lengths are one problem, since
    a line missing in one of them shifts every later label onto the wrong text."""
    split = [text.removesuffix("\n").split("\n") if text else [] for text in texts]
    counts = [len(lines) for lines in split]
    if len(set(counts)) > 1:
        problems.append(
            Problem(
                paths[0],
                None,
                "line-aligned files differ in length: "
                + ", ".join(f"{path.name} {count} lines" for path, count in zip(paths, counts, strict=True))
                + "; every file needs one line per item",
            )
        )
        return []
    return [
        (number, [lines[number - 1].rstrip("\r") for lines in split])
        for number in range(1, counts[0] + 1)
        if any(lines[number - 1].strip() for lines in split)
    ]


def _field(fields: list[str], position: int) -> str:
    if not -len(fields) <= position < len(fields):
        raise FieldError(f"no column {position}: the row has {len(fields)} fields")
    return fields[position]


def _json_value(record: dict[str, Any], key: Column) -> Any:
    if not isinstance(key, str) or key not in record:
        raise FieldError(f"no key '{key}'{did_you_mean(str(key), record)} (keys: {', '.join(record)})")
    return record[key]


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
