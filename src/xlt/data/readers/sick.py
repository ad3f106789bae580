"""SICK.txt, the original 12-column release: relatedness (pair regression), entailment (pair classification).

Splits come from the SemEval_set column (TRAIN 4439 / TRIAL 495 / TEST 4906). The file is TAB-separated
with a header, CRLF line endings and no terminator on the last line; it is read with quoting disabled.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlt.core.errors import ConfigError, did_you_mean
from xlt.data.files import malformed, read_csv_rows
from xlt.data.readers.glue import label_from

SEMEVAL_SETS = ("TRAIN", "TRIAL", "TEST")
ENTAILMENT_LABELS: Mapping[str, int] = {"ENTAILMENT": 0, "NEUTRAL": 1, "CONTRADICTION": 2}
_NEEDED = ("pair_ID", "sentence_A", "sentence_B", "entailment_label", "relatedness_score", "SemEval_set")


def _sick_rows(path: Path, semeval_set: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, named fields) of the rows of one SemEval set."""
    if semeval_set not in SEMEVAL_SETS:
        raise ConfigError(
            f"unknown SICK SemEval_set {semeval_set!r}{did_you_mean(semeval_set, SEMEVAL_SETS)}",
            f"use one of {', '.join(SEMEVAL_SETS)}",
        )
    rows = read_csv_rows(path, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = rows[0] if rows else []
    for name in _NEEDED:
        if name not in header:
            raise malformed(path, 1, f"header {header} has no '{name}' column")
    selected = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise malformed(path, line, f"expected {len(header)} TAB-separated fields, found {len(row)}")
        fields = dict(zip(header, row, strict=True))
        if fields["SemEval_set"] not in SEMEVAL_SETS:
            raise malformed(path, line, f"SemEval_set {fields['SemEval_set']!r} is not one of {SEMEVAL_SETS}")
        if fields["SemEval_set"] == semeval_set:
            selected.append((line, fields))
    return selected


def _relatedness(path: Path, line: int, raw: str) -> float:
    """A 1-5 relatedness score rescaled to [0, 1], the range of every pair-regression label."""
    try:
        score = float(raw)
    except ValueError as exc:
        raise malformed(path, line, f"relatedness_score {raw!r} is not a number") from exc
    if not 1.0 <= score <= 5.0:
        raise malformed(path, line, f"relatedness_score {score} is outside [1, 5]")
    return (score - 1.0) / 4.0


def read_sick_relatedness(path: Path, semeval_set: str) -> list[dict[str, Any]]:
    return [
        {
            "id": fields["pair_ID"],
            "sentence1": fields["sentence_A"],
            "sentence2": fields["sentence_B"],
            "label": _relatedness(path, line, fields["relatedness_score"]),
        }
        for line, fields in _sick_rows(path, semeval_set)
    ]


def read_sick_entailment(path: Path, semeval_set: str) -> list[dict[str, Any]]:
    """ENTAILMENT -> 0, NEUTRAL -> 1, CONTRADICTION -> 2 (the XNLI order)."""
    return [
        {
            "id": fields["pair_ID"],
            "sentence1": fields["sentence_A"],
            "sentence2": fields["sentence_B"],
            "label": label_from(path, line, fields["entailment_label"], ENTAILMENT_LABELS),
        }
        for line, fields in _sick_rows(path, semeval_set)
    ]
