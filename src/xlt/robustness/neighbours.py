"""Counter-fitted word neighbours (Robust-XLT's `counterfitted_neighbors.json`) for synonym augmentation.

The file is a JSON object mapping an English word to the list of its counter-fitted neighbours (49,975 words,
25,591 with at least one neighbour). It is read through the pinned-file mechanism, so a file whose bytes
differ from the upstream copy is a DataError before it is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from xlt.core.errors import DataError
from xlt.data.files import DataFile, malformed, read_text
from xlt.tasks.spec import pinned_file

NEIGHBOURS_DATASET = "robust_xlt"
NEIGHBOURS_PATH = "counterfitted_neighbors.json"

_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, eq=False)
class Neighbours(Mapping[str, tuple[str, ...]]):
    """A read-only word -> neighbours mapping whose keys are lowercase; every lookup lowercases the word.

    Build it with `build_neighbours` or `load_neighbours`, which lowercase the keys, deduplicate each
    neighbour list (first occurrence kept) and remove the word itself from it, so that
    `(word, *neighbours.of(word))` has no repeated candidate.
    """

    table: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        # a read-only copy, so that a caller's dict changing later cannot change this mapping
        object.__setattr__(self, "table", MappingProxyType(dict(self.table)))

    def __getitem__(self, word: str) -> tuple[str, ...]:
        return self.table[word.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def of(self, word: str) -> tuple[str, ...]:
        """The neighbours of `word` (looked up lowercased); () for an unknown word or one without any."""
        return self.table.get(word.lower(), ())

    def with_neighbours(self) -> int:
        """How many words have at least one neighbour."""
        return sum(1 for neighbours in self.table.values() if neighbours)


def neighbours_file() -> DataFile:
    """The pinned `robust_xlt/counterfitted_neighbors.json`."""
    return pinned_file(NEIGHBOURS_DATASET, NEIGHBOURS_PATH)


def build_neighbours(raw: Mapping[str, list[str] | tuple[str, ...]]) -> Neighbours:
    """A Neighbours from a word -> neighbour list mapping: keys lowercased (lists of keys that collide
    once lowercased are merged in order), duplicates and the word itself removed from each list."""
    merged: dict[str, list[str]] = {}
    for word, neighbours in raw.items():
        key = word.lower()
        entry = merged.setdefault(key, [])
        for neighbour in neighbours:
            if neighbour != key and neighbour not in entry:
                entry.append(neighbour)
    return Neighbours({word: tuple(entry) for word, entry in merged.items()})


def parse_neighbours(text: str, source: Path) -> Neighbours:
    """Parse the JSON text of a neighbours file; anything but an object of word -> list of non-empty
    whitespace-free strings is a DataError naming `source`."""
    try:
        loaded: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise malformed(source, exc.lineno, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(loaded, dict):
        raise malformed(
            source, None, f"expected a JSON object of word -> neighbours, found {type(loaded).__name__}"
        )
    for word, neighbours in loaded.items():
        _check_entry(source, word, neighbours)
    return build_neighbours(loaded)


def _check_entry(source: Path, word: str, neighbours: object) -> None:
    if not isinstance(neighbours, list):
        raise malformed(source, None, f"the neighbours of {word!r} are not a list")
    for neighbour in neighbours:
        if not isinstance(neighbour, str) or not neighbour or _WHITESPACE.search(neighbour):
            raise malformed(
                source, None, f"neighbour {neighbour!r} of {word!r} is not a non-empty word without spaces"
            )


def load_neighbours(data_dir: Path) -> Neighbours:
    """The counter-fitted neighbours from the data directory, checked against the pinned sha256."""
    path = neighbours_file().resolve(data_dir)
    return load_neighbours_from(path)


def load_neighbours_from(path: Path) -> Neighbours:
    """The neighbours in a file of the same format (no hash check): for tests and variants of the list."""
    if not path.is_file():
        raise DataError(f"{path}: file not found", "give the path of a counter-fitted neighbours JSON file")
    return parse_neighbours(read_text(path), path)
