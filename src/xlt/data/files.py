"""Locating, checking and reading benchmark files, with one-line errors that say what to do."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from xlt.core.errors import DataError
from xlt.core.io import cached_sha256_file


@dataclass(frozen=True)
class DataFile:
    """A file inside the data directory, optionally pinned to the sha256 of its upstream bytes."""

    path: str
    sha256: str | None = None

    def resolve(self, data_dir: Path) -> Path:
        full = data_dir / self.path
        if not full.is_file():
            raise DataError(
                f"{full}: file not found",
                "point --data-dir / XLT_DATA_DIR at the benchmark mirror, or copy the upstream file there",
            )
        if self.sha256 is not None:
            actual = file_sha256(full)
            if actual != self.sha256:
                raise DataError(
                    f"{full}: content differs from the pinned upstream file "
                    f"(sha256 {actual[:12]}..., expected {self.sha256[:12]}...)",
                    "restore the byte-for-byte upstream copy of this file",
                )
        return full


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, hashed again only when its size or mtime changes (the hashes persist
    in the user cache, so checking every pinned file of a study before it starts costs a stat per file)."""
    return cached_sha256_file(path)


def read_text(path: Path) -> str:
    """UTF-8 text with a leading BOM removed; undecodable bytes are a DataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 at byte {exc.start}", "restore the upstream file") from exc
    return text.removeprefix("\ufeff")


def read_csv_rows(
    path: Path, *, delimiter: str = ",", quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL
) -> list[list[str]]:
    """All rows of a delimited file, parsed with a real CSV parser (fields may hold newlines)."""
    text = read_text(path)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting))
    except csv.Error as exc:
        raise DataError(f"{path}: cannot be parsed as CSV ({exc})", "restore the upstream file") from exc


def malformed(path: Path, line: int | None, what: str) -> DataError:
    where = f"{path}:{line}" if line is not None else str(path)
    return DataError(f"{where}: {what}", "restore the byte-for-byte upstream file or fix the row")
