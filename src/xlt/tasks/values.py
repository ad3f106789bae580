"""Values of one record of a generic data file, converted to the canonical schema: every problem is
collected with the file and line it belongs to, not raised, so that `xlt validate` lists them all at once."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlt.core.errors import did_you_mean


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


class FieldError(Exception):
    """A value of a row that is missing or cannot be read."""


class Fields:
    """One record's values by canonical column. A problem with a value is collected, not raised, so that
    every problem of a row is reported."""

    def __init__(self, get: Callable[[str], Any], has: Callable[[str], bool]) -> None:
        self._get = get
        self._has = has
        self.errors: list[str] = []

    def value(self, key: str, convert: Callable[[Any], Any], placeholder: Any) -> Any:
        try:
            return convert(self._get(key))
        except FieldError as exc:
            self.errors.append(str(exc))
            return placeholder

    def text(self, key: str) -> str:
        return str(self.value(key, lambda value: text_value(key, value), ""))

    def optional_text(self, key: str) -> str | None:
        """A value that may be absent or blank (an id, a multiple-choice question)."""
        if not self._has(key):
            return None
        result = self.value(key, lambda value: blank_or_text(key, value), None)
        return None if result is None else str(result)


def text_value(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(f"{key} is not text: {value!r}")
    text = str(value)
    if not text.strip():
        raise FieldError(f"empty {key}")
    return text


def blank_or_text(key: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text_value(key, value)


def integer(value: Any) -> int | None:
    """An int given as a JSON number or as digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def label_index(value: Any, labels: Sequence[str], ids: Mapping[str, int], what: str = "label") -> int:
    """The id of a label given by name or by 0-based id."""
    if isinstance(value, str) and value.strip() in ids:
        return ids[value.strip()]
    number = integer(value)
    if number is not None and 0 <= number < len(labels):
        return number
    shown = value.strip() if isinstance(value, str) else value
    suggestion = did_you_mean(shown, labels) if isinstance(shown, str) else ""
    raise FieldError(f"{what} {shown!r} not in [{', '.join(labels)}]{suggestion}")


def score(value: Any, low: float, high: float) -> float:
    """A score in [low, high] rescaled to [0, 1]."""
    if isinstance(value, bool):
        raise FieldError(f"score {value!r} is not a number")
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise FieldError(f"score {value!r} is not a number") from None
    if not math.isfinite(score):
        raise FieldError(f"score {value!r} is not a finite number")
    if not low <= score <= high:
        raise FieldError(f"score {score:g} is outside [{low:g}, {high:g}]")
    return (score - low) / (high - low)


def string_list(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise FieldError(f"{key} is not a non-empty list: {value!r}")
    return [text_value(f"{key}[{i}]", item) for i, item in enumerate(value)]


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def answer_starts(values: list[Any]) -> list[int]:
    starts = [integer(value) for value in values]
    if any(start is None or start < 0 for start in starts):
        raise FieldError(f"answer_start {values!r} is not a character offset")
    return [start for start in starts if start is not None]


def answer_problems(context: str, texts: list[str], starts: list[int]) -> list[str]:
    if len(texts) != len(starts):
        return [f"{len(texts)} answer texts but {len(starts)} answer starts"]
    return [
        f"answer {text!r} is not at offset {start} of the context"
        for text, start in zip(texts, starts, strict=True)
        if context[start : start + len(text)] != text
    ]


def choice(value: Any, choices: list[str]) -> int:
    index = integer(value)
    # without readable choices (reported already) only the form of the label can be checked
    if index is None or index < 0 or (choices and index >= len(choices)):
        raise FieldError(f"label {value!r} is not the 0-based index of one of the {len(choices)} choices")
    return index
