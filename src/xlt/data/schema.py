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
    ANSWER_RETRIEVAL = "answer_retrieval"
    BITEXT_MINING = "bitext_mining"


# scored on the encoder as its stages left it (nearest neighbours of embeddings): nothing to train, so these
# tasks are targets only
ENCODER_ONLY_TYPES = frozenset({TaskType.RETRIEVAL, TaskType.ANSWER_RETRIEVAL, TaskType.BITEXT_MINING})
# a slice is queries searched against a pool of candidates: the query rows are the items scored, the
# candidate rows what they are searched in (a query's `relevant` holds the ids of its right candidates)
POOLED_TYPES = frozenset({TaskType.ANSWER_RETRIEVAL, TaskType.BITEXT_MINING})
QUERY, CANDIDATE = "query", "candidate"


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
# queries and the candidate pool of one slice, in one table: `role` is QUERY or CANDIDATE, `language` the
# text's (it selects the language's projection under alignment), `relevant` a query's right candidates
# (LAReQA: the answer sentence in every language; bitext mining: its gold translations, often none)
_POOL_FEATURES = Features(
    {
        "id": Value("string"),
        "role": Value("string"),
        "language": Value("string"),
        "text": Value("string"),
        "relevant": Sequence(Value("string")),
    }
)
FEATURES.update({task_type: _POOL_FEATURES for task_type in POOLED_TYPES})
