"""English COPA (XTREME-R layout) and XCOPA JSONL: premise, choice1, choice2, question, label, idx[, changed].

Quirks handled: the XCOPA data/ files have CRLF line endings (the CR is JSON whitespace), and lines are
split on '\\n' only so that a U+2028 inside a string cannot break a record. The `question` field is taken
as written even where a translation disagrees with the other languages for the same idx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_text

QUESTIONS = ("cause", "effect")
_TEXT_KEYS = ("premise", "choice1", "choice2", "question")


def _copa_row(path: Path, line: int, item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise malformed(path, line, "expected a JSON object")
    for key in (*_TEXT_KEYS, "label", "idx"):
        if key not in item:
            raise malformed(path, line, f"missing key '{key}'")
    for key in _TEXT_KEYS:
        if not isinstance(item[key], str):
            raise malformed(path, line, f"'{key}' is not a string")
    if item["question"] not in QUESTIONS:
        raise malformed(path, line, f"question {item['question']!r} is not one of {QUESTIONS}")
    label = item["label"]
    if type(label) is not int or label not in (0, 1):
        raise malformed(path, line, f"label {label!r} is not 0 or 1")
    return {
        "id": str(item["idx"]),
        "premise": item["premise"],
        "question": item["question"],
        "choices": [item["choice1"], item["choice2"]],
        "label": label,
    }


def read_copa_jsonl(path: Path) -> list[dict[str, Any]]:
    """One multiple-choice row per non-blank line; the id is COPA's idx."""
    examples = []
    for line, text in enumerate(read_text(path).split("\n"), start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise malformed(path, line, f"not valid JSON ({exc.msg})") from exc
        examples.append(_copa_row(path, line, item))
    return examples
