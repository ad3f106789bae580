"""SemEval-2024 Task 1 (SemRel) CSVs: PairID,Text[,Score] with both sentences inside the quoted Text field.

Quirks handled (MANIFEST.json): embedded newlines (a real CSV parser is required), a TAB instead of a
newline between the sentences in some afr files, CRLF inside Text in esp_dev, a lowercase `score` header
in some afr files, and the pan files' column order Text,Score,PairID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_csv_rows


def split_pair(text: str) -> tuple[str, str] | None:
    """The two sentences of a SemRel Text field, or None when it does not hold exactly two."""
    for separator in ("\r\n", "\n", "\t"):
        parts = text.split(separator)
        if len(parts) == 2:
            return parts[0], parts[1]
    return None


def read_semrel_csv(path: Path, *, require_score: bool = True) -> list[dict[str, Any]]:
    rows = read_csv_rows(path)
    if not rows:
        raise malformed(path, None, "empty file (expected a PairID,Text,Score header)")
    header = [name.strip().lower() for name in rows[0]]
    for needed in ("pairid", "text") + (("score",) if require_score else ()):
        if needed not in header:
            raise malformed(path, 1, f"header {rows[0]} has no '{needed}' column")
    col = {name: header.index(name) for name in header}
    examples: list[dict[str, Any]] = []
    line = 2
    for row in rows[1:]:
        if len(row) != len(header):
            raise malformed(path, line, f"expected {len(header)} fields, found {len(row)}")
        pair = split_pair(row[col["text"]])
        if pair is None:
            raise malformed(path, line, "Text does not hold two sentences separated by a newline or TAB")
        example: dict[str, Any] = {"id": row[col["pairid"]], "sentence1": pair[0], "sentence2": pair[1]}
        if "score" in col:
            try:
                score = float(row[col["score"]])
            except ValueError as exc:
                raise malformed(path, line, f"Score {row[col['score']]!r} is not a number") from exc
            if not 0.0 <= score <= 1.0:
                raise malformed(path, line, f"Score {score} is outside [0, 1]")
            example["label"] = score
        else:
            example["label"] = float("nan")
        examples.append(example)
        line += 1 + sum(field.count("\n") for field in row)
    return examples
