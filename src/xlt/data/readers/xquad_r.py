"""XQuAD-R (LAReQA): XQuAD JSON with each paragraph's candidate `sentences` and their `sentence_breaks`, read
as queries against a multilingual pool for language-agnostic answer retrieval.

A slice is the questions of one file (the queries) searched in every sentence of every pool file (the
candidates); the language of a file is its name (`<lang>.json`, the layout of LAReQA's `xquad-r/`). A
question's relevant candidates are, in every pool language, the sentence that holds its answer there: the
sentence whose `sentence_breaks` span contains the answer's start, as LAReQA and XTREME-R take it (an answer
that runs on into the next sentence counts for the sentence it starts in); the same question id marks the
parallel question in each language. A candidate's text is its paragraph's `sentences` entry: one Turkish
paragraph's breaks are offsets into a mis-decoded copy of its context, while its sentences are right.
Candidate ids are `<lang>/<paragraph>/<sentence>`, paragraphs numbered from 1 through the file and
sentences from 0. A question with no relevant candidate in the pool (its answer starts in no sentence) has
no defined average precision and is left out, as XTREME-R leaves it out; the mirror has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlt.data.files import malformed
from xlt.data.readers.squad import squad_document
from xlt.data.schema import CANDIDATE, QUERY


@dataclass
class _XquadR:
    """One file: its candidate sentences, its questions, and the candidates that hold each answer."""

    language: str
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (id, sentence)
    questions: list[tuple[str, str]] = field(default_factory=list)  # (question id, question)
    answers: dict[str, list[str]] = field(default_factory=dict)  # question id -> candidate ids


def _answer_sentence(breaks: list[Any], start: int) -> int | None:
    """The position of the sentence whose [start, end) break holds character `start`."""
    for position, (begin, end) in enumerate(breaks):
        if begin <= start < end:
            return position
    return None


def _read_xquad_r_file(path: Path) -> _XquadR:
    document = squad_document(path, "XQuAD-R")
    parsed = _XquadR(path.stem)
    paragraph_number = 0
    try:
        for article in document["data"]:
            for paragraph in article["paragraphs"]:
                paragraph_number += 1
                sentences, breaks = paragraph["sentences"], paragraph["sentence_breaks"]
                if len(sentences) != len(breaks) or not all(isinstance(s, str) for s in sentences):
                    raise malformed(
                        path,
                        None,
                        f"paragraph {paragraph_number}: {len(sentences)} sentences but {len(breaks)} "
                        "sentence breaks (expected one [start, end] per sentence)",
                    )
                ids = [f"{parsed.language}/{paragraph_number}/{i}" for i in range(len(sentences))]
                parsed.candidates += zip(ids, sentences, strict=True)
                for qa in paragraph["qas"]:
                    question_id = str(qa["id"])
                    if question_id in parsed.answers:
                        raise malformed(path, None, f"question id {question_id} occurs twice")
                    starts = [int(answer["answer_start"]) for answer in qa["answers"]]
                    holding = {_answer_sentence(breaks, start) for start in starts}
                    parsed.questions.append((question_id, qa["question"]))
                    parsed.answers[question_id] = [
                        ids[i] for i in sorted(i for i in holding if i is not None)
                    ]
    except (KeyError, TypeError, ValueError) as exc:
        raise malformed(path, None, f"not XQuAD-R JSON ({type(exc).__name__}: {exc})") from exc
    return parsed


def read_xquad_r(questions: Path, *pool: Path) -> list[dict[str, Any]]:
    """The questions of `questions` as queries and every sentence of the `pool` files as candidates (the
    questions' own file is normally one of them)."""
    if not pool:
        raise malformed(questions, None, "no pool files: list the files whose sentences are searched")
    read = {path: _read_xquad_r_file(path) for path in dict.fromkeys([questions, *pool])}
    files = [read[path] for path in pool]
    languages = [parsed.language for parsed in files]
    repeated = sorted({language for language in languages if languages.count(language) > 1})
    if repeated:
        raise malformed(pool[0], None, f"the pool has language(s) {', '.join(repeated)} more than once")
    own = read[questions]
    rows: list[dict[str, Any]] = []
    for question_id, question in own.questions:
        relevant = [candidate for parsed in files for candidate in parsed.answers.get(question_id, [])]
        if relevant:
            query = {"id": question_id, "role": QUERY, "language": own.language, "text": question}
            rows.append(query | {"relevant": relevant})
    for parsed in files:
        rows += [
            {"id": candidate, "role": CANDIDATE, "language": parsed.language, "text": text, "relevant": []}
            for candidate, text in parsed.candidates
        ]
    return rows
