"""LASER Tatoeba test sets: tatoeba.xxx-eng.xxx and tatoeba.xxx-eng.eng, plain line-aligned UTF-8 text.

Line i of one file translates line i of the other, so a line-count mismatch means the pair is broken and is
an error. Lines are split on '\\n' only: str.splitlines would also split on U+2028, U+0085 and form feeds,
which can occur inside a sentence and would silently shift the alignment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_text


def read_lines(path: Path) -> list[str]:
    """The lines of a one-item-per-line file, without terminators (a CRLF copy reads the same)."""
    lines = read_text(path).split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_aligned_lines(first: Path, second: Path) -> list[tuple[str, str]]:
    """Line i of `first` with line i of `second`; differing line counts are an error, never truncation."""
    left, right = read_lines(first), read_lines(second)
    if len(left) != len(right):
        raise malformed(
            second, None, f"has {len(right)} lines but its line-aligned partner {first} has {len(left)}"
        )
    return list(zip(left, right, strict=True))


def read_tatoeba(source_path: Path, target_path: Path) -> list[dict[str, Any]]:
    """source = the non-English side (tatoeba.xxx-eng.xxx), target = the English side (.eng)."""
    return [
        {"id": str(index), "source": source, "target": target}
        for index, (source, target) in enumerate(read_aligned_lines(source_path, target_path))
    ]
