"""STS Benchmark (original TAB files) and stsb_multi_mt (headerless CSVs). Scores 0-5 become [0, 1]."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_csv_rows

STS_MAX_SCORE = 5.0


def _score(path: Path, line: int, raw: str) -> float:
    try:
        score = float(raw)
    except ValueError as exc:
        raise malformed(path, line, f"score {raw!r} is not a number") from exc
    if not 0.0 <= score <= STS_MAX_SCORE:
        raise malformed(path, line, f"score {score} is outside [0, 5]")
    return score / STS_MAX_SCORE


def read_stsbenchmark(path: Path) -> list[dict[str, Any]]:
    """genre, filename, year, id, score, s1, s2[, source1, source2]; read unquoted (quotes are text here)."""
    rows = read_csv_rows(path, delimiter="\t", quoting=csv.QUOTE_NONE)
    examples = []
    for line, row in enumerate(rows, start=1):
        if len(row) not in (7, 9):
            raise malformed(path, line, f"expected 7 or 9 TAB-separated fields, found {len(row)}")
        examples.append(
            {
                "id": f"{row[1]}-{row[2]}-{row[3]}",
                "sentence1": row[5],
                "sentence2": row[6],
                "label": _score(path, line, row[4]),
            }
        )
    return examples


def read_stsb_multi(path: Path) -> list[dict[str, Any]]:
    """sentence1, sentence2, score; rows are aligned across languages, so the row number is the id."""
    rows = read_csv_rows(path)
    examples = []
    for line, row in enumerate(rows, start=1):
        if len(row) != 3:
            raise malformed(path, line, f"expected 3 comma-separated fields, found {len(row)}")
        examples.append(
            {
                "id": str(line - 1),
                "sentence1": row[0],
                "sentence2": row[1],
                "label": _score(path, line, row[2]),
            }
        )
    return examples
