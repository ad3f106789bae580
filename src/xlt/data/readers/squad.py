"""SQuAD-v1.1-style JSON (XQuAD, TyDiQA-GoldP in XTREME's layout) as extractive-QA rows.

Quirks handled: TyDiQA-GoldP XTREME ids are per-article numeric suffixes that repeat across the train file,
so a file whose ids repeat gets ids '<position>-<upstream id>' (XQuAD keeps its ids, which are shared
across languages). XTREME blanks the gold answers of its evaluation copies (text '' at offset 0): such a
file has no labels, which is an error unless the caller asks for unlabelled rows. Every gold answer is
checked against its offset in the context, since a shifted offset would silently corrupt training targets.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from xlt.core.errors import DataError
from xlt.data.files import malformed, read_text


def _answers(path: Path, question_id: str, context: str, answers: list[Any]) -> dict[str, list[Any]]:
    texts: list[str] = []
    starts: list[int] = []
    for answer in answers:
        text, start = answer["text"], answer["answer_start"]
        if not isinstance(text, str) or type(start) is not int:
            raise malformed(
                path, None, f"question {question_id}: answer {answer} needs a string text and int start"
            )
        if text == "":
            continue
        if context[start : start + len(text)] != text:
            raise malformed(path, None, f"question {question_id}: answer {text!r} is not at offset {start}")
        texts.append(text)
        starts.append(start)
    return {"text": texts, "answer_start": starts}


def squad_document(path: Path, kind: str) -> dict[str, Any]:
    """The parsed JSON of a SQuAD-layout file (SQuAD, XQuAD-R): a dict with a top-level 'data' list."""
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise malformed(path, exc.lineno, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise malformed(path, None, f"no top-level 'data' list (expected {kind} JSON)")
    return document


def read_squad_json(path: Path, *, require_answers: bool = True) -> list[dict[str, Any]]:
    """One row per question. require_answers=False accepts answer-less questions as rows with no answers."""
    document = squad_document(path, "SQuAD v1.1")
    examples = []
    try:
        for article in document["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    question_id = str(qa["id"])
                    answers = _answers(path, question_id, context, qa["answers"])
                    if require_answers and not answers["text"]:
                        raise DataError(
                            f"{path}: question {question_id} has no gold answer (XTREME blanks the answers "
                            "of its evaluation copies)",
                            "use a labelled copy of this file (for TyDiQA-GoldP dev, the official "
                            "tydiqa-goldp-v1.1-dev.json), or read it with require_answers=False",
                        )
                    examples.append(
                        {
                            "id": question_id,
                            "context": context,
                            "question": qa["question"],
                            "answers": answers,
                        }
                    )
    except (KeyError, TypeError) as exc:
        raise malformed(path, None, f"not SQuAD v1.1 JSON ({type(exc).__name__}: {exc})") from exc
    if any(count > 1 for count in Counter(example["id"] for example in examples).values()):
        for position, example in enumerate(examples):
            example["id"] = f"{position}-{example['id']}"
    return examples
