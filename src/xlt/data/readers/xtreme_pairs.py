"""XNLI and PAWS-X dev TSVs in XTREME's layout (no header; sentence1, sentence2, label) and the aligned split.

The files were written by Python's csv.writer: CRLF line ends, and fields holding a double quote are quoted
with doubled quotes (PAWS-X de/es/fr/ja/ko/zh), so they are read with a real CSV parser and default quoting.
Rows are translations of the same items in every language, so the row index is the id and the basis of the
aligned split (PROTOCOLS.md): no translation of an English training item is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_csv_rows
from xlt.data.readers.glue import BINARY_LABELS, label_from

XNLI_LABELS: Mapping[str, int] = {"entailment": 0, "neutral": 1, "contradiction": 2}


def _read_pairs(path: Path, labels: Mapping[str, int]) -> list[dict[str, Any]]:
    examples = []
    line = 1
    for index, row in enumerate(read_csv_rows(path, delimiter="\t")):
        if len(row) != 3:
            raise malformed(
                path, line, f"expected 3 TAB-separated fields (sentence1, sentence2, label), found {len(row)}"
            )
        examples.append(
            {
                "id": str(index),
                "sentence1": row[0],
                "sentence2": row[1],
                "label": label_from(path, line, row[2], labels),
            }
        )
        line += 1 + sum(field.count("\n") for field in row)
    return examples


def read_xnli_tsv(path: Path) -> list[dict[str, Any]]:
    """premise, hypothesis, label: entailment -> 0, neutral -> 1, contradiction -> 2."""
    return _read_pairs(path, XNLI_LABELS)


def read_pawsx_tsv(path: Path) -> list[dict[str, Any]]:
    """sentence1, sentence2, label 0/1 (1 = paraphrase)."""
    return _read_pairs(path, BINARY_LABELS)


def aligned_split(n: int) -> dict[str, range]:
    """Item indices [0, 60%) train, [60%, 70%) dev, [70%, 100%) test, the same in every language.

    The bounds floor(n * 0.6) and floor(n * 0.7) are computed in integers: in floats 90 * 0.7 < 63.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    train_end, dev_end = n * 6 // 10, n * 7 // 10
    return {"train": range(0, train_end), "dev": range(train_end, dev_end), "test": range(dev_end, n)}


def split_aligned(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of one language file cut into the aligned train/dev/test parts."""
    return {part: rows[indices.start : indices.stop] for part, indices in aligned_split(len(rows)).items()}
