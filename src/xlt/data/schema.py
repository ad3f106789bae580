"""The canonical columns of each task type. Every reader returns exactly these features."""

from __future__ import annotations

from enum import Enum

from datasets import Features, Sequence, Value


class TaskType(str, Enum):
    PAIR_REGRESSION = "pair_regression"
    PAIR_CLASSIFICATION = "pair_classification"
    SINGLE_CLASSIFICATION = "single_classification"
    MULTIPLE_CHOICE = "multiple_choice"
    TOKEN_TAGGING = "token_tagging"
    EXTRACTIVE_QA = "extractive_qa"
    RETRIEVAL = "retrieval"


FEATURES: dict[TaskType, Features] = {
    # label is a relatedness score rescaled to [0, 1]
    TaskType.PAIR_REGRESSION: Features(
        {
            "id": Value("string"),
            "sentence1": Value("string"),
            "sentence2": Value("string"),
            "label": Value("float32"),
        }
    ),
    TaskType.PAIR_CLASSIFICATION: Features(
        {
            "id": Value("string"),
            "sentence1": Value("string"),
            "sentence2": Value("string"),
            "label": Value("int64"),
        }
    ),
    TaskType.SINGLE_CLASSIFICATION: Features(
        {"id": Value("string"), "text": Value("string"), "label": Value("int64")}
    ),
    TaskType.MULTIPLE_CHOICE: Features(
        {
            "id": Value("string"),
            "premise": Value("string"),
            "question": Value("string"),
            "choices": Sequence(Value("string")),
            "label": Value("int64"),
        }
    ),
    TaskType.TOKEN_TAGGING: Features(
        {"id": Value("string"), "tokens": Sequence(Value("string")), "tags": Sequence(Value("string"))}
    ),
    TaskType.EXTRACTIVE_QA: Features(
        {
            "id": Value("string"),
            "context": Value("string"),
            "question": Value("string"),
            "answers": {"text": Sequence(Value("string")), "answer_start": Sequence(Value("int64"))},
        }
    ),
    # line-aligned parallel sentences: `source` is the non-English side, `target` the English side
    TaskType.RETRIEVAL: Features(
        {"id": Value("string"), "source": Value("string"), "target": Value("string")}
    ),
}
