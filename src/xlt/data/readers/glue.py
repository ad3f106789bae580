"""GLUE TSVs in the `glue_data/` layout: CoLA, SST-2, RTE and MRPC (single and pair classification).

Quirks handled (MANIFEST.json): every file is read with quoting disabled (quotes are text, and default CSV
quoting loses MRPC and RTE rows); CoLA train/dev have no header; the MRPC files start with a BOM; the
mirrored MRPC train.tsv is defective upstream, so MRPC train is rebuilt from msr_paraphrase_train.txt minus
the pairs listed in dev_ids.tsv, exactly as GLUE's download script does.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_csv_rows

BINARY_LABELS: Mapping[str, int] = {"0": 0, "1": 1}
RTE_LABELS: Mapping[str, int] = {"entailment": 0, "not_entailment": 1}
MSR_HEADER = ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String")


def label_from(path: Path, line: int, raw: str, labels: Mapping[str, int]) -> int:
    """The class index of a raw label; an unknown label is a malformed row, never a silent default."""
    try:
        return labels[raw]
    except KeyError:
        raise malformed(path, line, f"label {raw!r} is not one of {sorted(labels)}") from None


def _tsv_rows(path: Path) -> list[list[str]]:
    return read_csv_rows(path, delimiter="\t", quoting=csv.QUOTE_NONE)


def _body_after_header(path: Path, header: Sequence[str]) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each row under an exact header; the header check catches a wrong file."""
    rows = _tsv_rows(path)
    if not rows or rows[0] != list(header):
        found = rows[0] if rows else "no header"
        raise malformed(path, 1, f"header is {found}, expected {list(header)}")
    body = list(enumerate(rows[1:], start=2))
    for line, row in body:
        if len(row) != len(header):
            raise malformed(path, line, f"expected {len(header)} TAB-separated fields, found {len(row)}")
    return body


def read_cola(path: Path) -> list[dict[str, Any]]:
    """CoLA train/dev: no header; source, label, original-label marker, sentence. The row index is the id."""
    examples = []
    for line, row in enumerate(_tsv_rows(path), start=1):
        if len(row) != 4:
            raise malformed(
                path,
                line,
                f"expected 4 TAB-separated fields (source, label, mark, sentence), found {len(row)}",
            )
        examples.append(
            {"id": str(line - 1), "text": row[3], "label": label_from(path, line, row[1], BINARY_LABELS)}
        )
    return examples


def read_sst2(path: Path) -> list[dict[str, Any]]:
    """SST-2 train/dev: header sentence, label. The row index is the id."""
    return [
        {"id": str(line - 2), "text": row[0], "label": label_from(path, line, row[1], BINARY_LABELS)}
        for line, row in _body_after_header(path, ("sentence", "label"))
    ]


def read_rte(path: Path) -> list[dict[str, Any]]:
    """RTE train/dev: header index, sentence1, sentence2, label (entailment -> 0, not_entailment -> 1)."""
    return [
        {
            "id": row[0],
            "sentence1": row[1],
            "sentence2": row[2],
            "label": label_from(path, line, row[3], RTE_LABELS),
        }
        for line, row in _body_after_header(path, ("index", "sentence1", "sentence2", "label"))
    ]


def read_mrpc(path: Path) -> list[dict[str, Any]]:
    """MRPC in the MSR layout (dev.tsv, msr_paraphrase_{train,test}.txt); the id is '<#1 ID>-<#2 ID>'."""
    return [
        {
            "id": f"{row[1]}-{row[2]}",
            "sentence1": row[3],
            "sentence2": row[4],
            "label": label_from(path, line, row[0], BINARY_LABELS),
        }
        for line, row in _body_after_header(path, MSR_HEADER)
    ]


def read_mrpc_dev_ids(path: Path) -> set[str]:
    """The pair ids of dev_ids.tsv (no header, '#1 ID<TAB>#2 ID'), in read_mrpc's id form."""
    ids = set()
    for line, row in enumerate(_tsv_rows(path), start=1):
        if len(row) != 2 or not all(part.isdigit() for part in row):
            raise malformed(path, line, f"expected two TAB-separated numeric ids, found {row}")
        ids.add(f"{row[0]}-{row[1]}")
    return ids


def read_mrpc_train(msr_train_path: Path, dev_ids_path: Path) -> list[dict[str, Any]]:
    """GLUE's MRPC train: the MSR train pairs minus the dev pairs (3668 on the upstream files)."""
    dev_ids = read_mrpc_dev_ids(dev_ids_path)
    examples = read_mrpc(msr_train_path)
    missing = dev_ids - {example["id"] for example in examples}
    if missing:
        raise malformed(
            msr_train_path,
            None,
            f"{len(missing)} dev pairs of {dev_ids_path} are not in this file (e.g. {sorted(missing)[0]}); "
            "pass msr_paraphrase_train.txt",
        )
    return [example for example in examples if example["id"] not in dev_ids]
