"""`include:` — a task file that starts from a built-in task or another task file and changes some keys.

The included definition is resolved first (its own `include:` too); the including file's keys then override
it. `files`, `columns`, `taxonomy` and `languages` are merged one level deep (a split's files, a column, a
tag, a split's languages); every other key, lists included, is replaced. The result is validated as one task.
The including file must name its task itself: results are keyed by task name, so it must not pass for the
task it starts from. Paths of an included task file without `source:` are relative to that file, so they are
made absolute before the including file (elsewhere, perhaps) takes them over.

The built-in tasks are the YAML files of `xlt/tasks/definitions/`, one per task, named after it; this module
only locates and reads them, so that nothing here needs the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlt.core.errors import ConfigError, did_you_mean
from xlt.core.validation import parse_yaml_mapping
from xlt.tasks.schema import is_task_file
from xlt.tasks.slices import normalise_files

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

MERGED_KEYS = ("files", "columns", "taxonomy", "languages")
BUILTIN_SUFFIX = ".yaml"
EXAMPLE = "examples/custom-task/"


@dataclass(frozen=True)
class Definition:
    """A task's settings with every include merged in, and what they were read from: the texts (included
    first) make up the task's definition hash, the task files are watched for changes."""

    data: dict[str, Any]
    texts: tuple[str, ...]
    included_files: tuple[Path, ...] = ()


def builtin_files() -> dict[str, Traversable]:
    """Built-in task name -> its YAML file, in name order."""
    found = {
        entry.name.removesuffix(BUILTIN_SUFFIX): entry
        for entry in resources.files("xlt.tasks").joinpath("definitions").iterdir()
        if entry.name.endswith(BUILTIN_SUFFIX)
    }
    return dict(sorted(found.items()))


def read_builtin(name: str, source: str) -> str:
    """The YAML text of a built-in task that `source` includes; a name that is none gets a did-you-mean."""
    files = builtin_files()
    if name not in files:
        raise ConfigError(
            f"{source}: include: unknown built-in task '{name}'{did_you_mean(name, files)}",
            "run `xlt tasks` to list the built-in tasks, or give the path of a task file (.yaml)",
        )
    return files[name].read_text(encoding="utf-8")


def resolve(data: dict[str, Any], text: str, source: str, directory: Path | None) -> Definition:
    """The settings of a task file with its include merged in. `directory` is where the file's relative
    include paths start (None for a built-in task, which includes built-in tasks by name only)."""
    return _resolve(data, text, source, directory, (source,))


def _resolve(
    data: dict[str, Any], text: str, source: str, directory: Path | None, chain: tuple[str, ...]
) -> Definition:
    reference = data.get("include")
    if reference is None:
        return Definition(data, (text,))
    if not isinstance(reference, str) or not reference:
        raise ConfigError(
            f"{source}: include: give a built-in task name or the path of a task file", f"see {EXAMPLE}"
        )
    if "name" not in data:
        raise ConfigError(
            f"{source}: a task that includes '{reference}' needs a name of its own",
            "add `name: ...`: results are keyed by the task name",
        )
    base = _included(reference, source, directory, chain)
    own = {**data, "files": normalise_files(data["files"])} if "files" in data else data
    return Definition(merge(base.data, own), (*base.texts, text), base.included_files)


def _included(reference: str, source: str, directory: Path | None, chain: tuple[str, ...]) -> Definition:
    if is_task_file(reference) and directory is not None:
        path = Path(reference).expanduser()
        path = (path if path.is_absolute() else directory / path).resolve()
        if not path.is_file():
            raise ConfigError(f"{source}: include: task file {path} not found", f"see {EXAMPLE}")
        key, text, base_dir = str(path), path.read_text(encoding="utf-8"), path.parent
    elif is_task_file(reference):
        raise ConfigError(f"{source}: include: a built-in task includes built-in tasks by name only")
    else:
        text = read_builtin(reference, source)
        key, base_dir = f"built-in task {reference}", None
    if key in chain:
        raise ConfigError(f"{source}: include: {' -> '.join((*chain, key))} is a cycle", "remove one include")
    data = parse_yaml_mapping(text, Path(key), "task", EXAMPLE)
    resolved = _resolve(data, text, key, base_dir, (*chain, key))
    if base_dir is None:
        return resolved
    settings = resolved.data
    if settings.get("source") is None and "files" in settings:
        settings = {**settings, "files": _absolute(normalise_files(settings["files"]), base_dir)}
    return Definition(settings, resolved.texts, (*resolved.included_files, Path(key)))


def _absolute(files: Any, directory: Path) -> Any:
    """Normalised files with relative paths (and partner paths) made absolute from `directory`."""
    if not isinstance(files, dict):
        return files

    def absolute(path: Any) -> Any:
        if not isinstance(path, str):
            return path
        written = Path(path).expanduser()
        return str(written if written.is_absolute() else directory / written)

    def entry(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        moved = {**value, "path": absolute(value.get("path"))}
        if isinstance(value.get("partners"), list):
            moved["partners"] = [absolute(partner) for partner in value["partners"]]
        return moved

    return {
        split: (
            {language: [entry(e) for e in entries] for language, entries in languages.items()}
            if isinstance(languages, dict)
            else languages
        )
        for split, languages in files.items()
    }


def merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """`own` over `base`: MERGED_KEYS merged one level deep, every other key replaced."""
    merged = dict(base)
    for key, value in own.items():
        if key in MERGED_KEYS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
