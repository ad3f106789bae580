"""Task files as TaskSpecs: the built-in tasks shipped in `xlt/tasks/definitions/` and the user's own.

Both are the same schema (`xlt.tasks.schema`), so a user task can `include:` a built-in one and change a key.
A task file becomes a TaskSpec whose layout lists its files and whose reader reads them, by a named
upstream reader or by format and columns, cut by a split protocol where one file holds several splits; so a
task file's path works wherever a task name does. A built-in task's provenance is its pinned source; a
user task's is the task file and the sha256 of its definition (with every included file), since columns,
labels and readers shape the data as much as the data files do.
"""

from __future__ import annotations

import hashlib
from functools import cached_property, lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from xlt.core.errors import ConfigError, DataError
from xlt.core.validation import parse_yaml_mapping, validation_error
from xlt.data.files import DataFile, file_sha256
from xlt.data.readers.registry import READERS
from xlt.tasks.columns import Row
from xlt.tasks.formats import FormatReader
from xlt.tasks.include import EXAMPLE, builtin_files, resolve
from xlt.tasks.schema import SPLITS, TAXONOMY_BY_TYPE, FileEntry, TaskFile, is_task_file
from xlt.tasks.spec import DataSource, Split, TaskSpec, Taxonomy, data_source, pinned_sha256, pinned_sources
from xlt.tasks.splits import SPLITS as SPLIT_PROTOCOLS
from xlt.tasks.values import Problem

__all__ = ["CustomTask", "is_task_file", "load_builtin_tasks", "load_task_file"]


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
    """A validated task file, the reading of its data files, and the TaskSpec built from them.

    `texts` are the texts the task was defined from, included files first; `builtin` marks a task shipped
    with the package, whose provenance is its pinned source."""

    def __init__(
        self,
        path: Path,
        config: TaskFile,
        texts: tuple[str, ...],
        *,
        builtin: bool = False,
        included_files: tuple[Path, ...] = (),
    ) -> None:
        self.path = path
        self.config = config
        self.builtin = builtin
        self.included_files = {file: file.stat().st_mtime_ns for file in included_files}
        # one text hashes as it always did, so that stage ids of existing task files stay as they are
        joined = (
            texts[0] if len(texts) == 1 else "\n".join(hashlib.sha256(t.encode()).hexdigest() for t in texts)
        )
        self.definition_sha256 = hashlib.sha256(joined.encode("utf-8")).hexdigest()
        self._text = texts[-1]
        self._formats = FormatReader(config)
        # the entry of each first file of an entry, by split and path parts (see `_entry_at`)
        self._entries = {
            (split, Path(self.local_name(entry.path)).parts): entry for split, _, _, entry in config.entries()
        }

    @cached_property
    def _lines(self) -> dict[tuple[str, ...], int]:
        return _yaml_lines(self._text)

    def is_stale(self) -> bool:
        """Whether a task file this one includes changed since it was read."""
        return any(
            not file.is_file() or file.stat().st_mtime_ns != mtime
            for file, mtime in self.included_files.items()
        )

    def local_name(self, written: str) -> str:
        """How a path is named in the task's layout: as written inside the data directory (with a source),
        else the absolute path (written relative to the task file's directory)."""
        if self.config.source is not None:
            return written
        path = Path(written).expanduser()
        return str((path if path.is_absolute() else self.path.parent / path).resolve())

    def local_paths(self, entry: FileEntry, data_dir: Path | None) -> list[Path]:
        """The file and partner files of an entry on disk (a task with a source needs the data directory)."""
        names = [self.local_name(written) for written in entry.paths]
        if self.config.source is not None:
            if data_dir is None:
                raise ConfigError(f"task {self.config.name} reads the data directory", "give --data-dir")
            return [data_dir / name for name in names]
        return [Path(name) for name in names]

    def entry_line(self, split: Split, language: str, index: int | None = None) -> int | None:
        """The line of the task file that names a slice's file (or the slice, without an index)."""
        if index is not None and ("files", split, language, str(index)) in self._lines:
            return self._lines["files", split, language, str(index)]
        return self._lines.get(("files", split, language)) or self._lines.get(("files", split))

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
            source=self._source(),
            english_data=config.english_data or config.name,
            labels=config.labels,
            citation=config.citation,
            layout=self._layout,
            reader=self._read_slice,
        )

    def _source(self) -> DataSource:
        config = self.config
        if self.builtin and config.source is not None:
            return data_source(config.source)
        pinned_license = pinned_sources()[config.source]["license"] if config.source is not None else None
        return DataSource(
            dataset=config.name,
            upstream_repo=str(self.path),
            commit=f"sha256:{self.definition_sha256}",
            license=config.license or pinned_license or "unspecified",
        )

    def _layout(self, split: Split, language: str) -> list[DataFile]:
        """The slice's files: pinned ones with their recorded sha256, the user's with that of their
        current content, for provenance."""
        files = []
        for entry in self.config.files[split][language]:
            for written in entry.paths:
                name = self.local_name(written)
                if self.config.source is not None:
                    files.append(DataFile(name, pinned_sha256(name)))
                    continue
                path = Path(name)
                if not path.is_file():
                    raise DataError(
                        f"{path}: file not found (files.{split}.{language} of {self.path})",
                        "fix the path in the task file; relative paths start at the task file's directory",
                    )
                files.append(DataFile(name, file_sha256(path)))
        return files

    def _entry_at(self, split: Split, path: Path) -> FileEntry:
        """The entry whose first file `path` is. A layout path is resolved as `data_dir / name`, so the
        longest tail of `path` that names a file of the split is the one."""
        parts = path.parts
        for start in range(len(parts)):
            entry = self._entries.get((split, parts[start:]))
            if entry is not None:
                return entry
        raise DataError(
            f"{path} is not a {split} file of task {self.config.name}", "read the task's own files"
        )

    def _read_slice(self, paths: list[Path], split: Split) -> list[Row]:
        """The rows of a slice's files. A named reader's errors are raised as they are; the problems of
        generic files are gathered first, so that the error says how many there are."""
        rows: list[Row] = []
        problems: list[Problem] = []
        position = 0
        while position < len(paths):
            entry = self._entry_at(split, paths[position])
            group = paths[position : position + len(entry.paths)]
            position += len(entry.paths)
            entry_rows, entry_problems = self.read_entry(entry, group)
            rows.extend(self.cut(entry, entry_rows, split))
            problems.extend(entry_problems)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise DataError(
                problems[0].render() + more, f"run `xlt validate {self.path}` to list every problem"
            )
        return rows

    def read_entry(self, entry: FileEntry, paths: list[Path]) -> tuple[list[Row], list[Problem]]:
        """The rows of one file (with its partners) before any split protocol, and the problems of a
        generic file; a named reader raises its first problem."""
        reader = self.config.file_reader(entry)
        if reader is None:
            return self._formats.read_file(entry, paths)
        return READERS[reader.name](paths, reader.options), []

    def cut(self, entry: FileEntry, rows: list[Row], split: Split) -> list[Row]:
        """The rows of `split` where the entry's file holds several splits, else all of them."""
        protocol = self.config.file_split(entry)
        if protocol is None:
            return rows
        return SPLIT_PROTOCOLS[protocol.name](rows, split, protocol.options)


def load_task_file(path: Path) -> CustomTask:
    """The task of a task file, read again only when the file (or a task file it includes) changes."""
    if not path.is_file():
        raise ConfigError(
            f"task file {path} not found",
            "give the path of a task YAML (see examples/custom-task/) or a built-in task name (`xlt tasks`)",
        )
    resolved = path.resolve()
    task = _load(resolved, resolved.stat().st_mtime_ns)
    # an included task file is not part of the cache key; a task built on an edited one is built again
    return _load.__wrapped__(resolved, resolved.stat().st_mtime_ns) if task.is_stale() else task


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> CustomTask:
    # mtime_ns is part of the cache key so that an edited task file is read again
    text = path.read_text(encoding="utf-8")
    data = parse_yaml_mapping(text, path, "task", EXAMPLE)
    definition = resolve(data, text, str(path), path.parent)
    return CustomTask(
        path,
        _validated(definition.data, str(path)),
        definition.texts,
        included_files=definition.included_files,
    )


def _validated(data: dict[str, object], source: str) -> TaskFile:
    try:
        return TaskFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, TaskFile, f"fix the task file (see {EXAMPLE})") from None


def load_builtin_tasks() -> list[TaskSpec]:
    """Every built-in task, from the YAML files shipped in the package, checked as strictly as a user's."""
    tasks = []
    for name, file in builtin_files().items():
        text = file.read_text(encoding="utf-8")
        where = f"built-in task file {file.name}"
        data = parse_yaml_mapping(text, Path(file.name), "task", EXAMPLE)
        definition = resolve(data, text, where, None)
        config = _validated(definition.data, where)
        if config.name != name or config.source is None:
            raise ConfigError(f"{where}: a built-in task has a source and is named after its file ('{name}')")
        tasks.append(CustomTask(Path(str(file)), config, definition.texts, builtin=True).spec)
    return tasks
