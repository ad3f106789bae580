"""Fit the alignment of an encoder for a target task's evaluation languages (train-eval and studies).

The projections are learned on the encoder as it stands (after its training), from parallel data without
any test sentence of the target task, and attached to it as its module after pooling (`AlignmentModule`):
from then on the encoder maps pooled embeddings of texts it is told are in language X through X's
projection (`language=` of `encode`, `forward` and every task kind's `predict`). For tasks that pool a
sentence pair encoded together (cross-encoders) the projection is applied to that joint representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xlt.alignment.evaluate import MethodSpec
from xlt.alignment.multi import AlignmentModule, MultiProjection
from xlt.alignment.parallel import parallel_data
from xlt.core.errors import ConfigError
from xlt.data.schema import TaskType
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import TaskSpec
from xlt.tasks.iso639 import canonical

NO_ALIGNMENT = "none"
MIN_PAIRS = 10


def test_sentences(task: TaskSpec, data_dir: Path, language: str) -> set[str]:
    """Every text of the task's test items in `language` (all text fields)."""
    rows = task.load(data_dir, "test", language)
    texts: set[str] = set()
    for row in rows:
        for column in (
            "sentence1",
            "sentence2",
            "text",
            "premise",
            "question",
            "context",
            "source",
            "target",
        ):
            if column in row and isinstance(row[column], str):
                texts.add(row[column].strip())
        if task.type == TaskType.MULTIPLE_CHOICE:
            texts |= {c.strip() for c in row["choices"]}
        if task.type == TaskType.TOKEN_TAGGING:
            texts.add(" ".join(row["tokens"]))
    return texts


def fit_alignment(
    encoder: SentenceEncoder,
    task: TaskSpec,
    data_dir: Path,
    languages: Sequence[str],
    method: str,
    *,
    max_pairs: int = 2000,
    seed: int = 0,
) -> AlignmentModule:
    """One projection per evaluation language that has parallel data (others stay unprojected), as the
    module the encoder applies after its pooling; fitted on the encoder's own embeddings without any
    module it already has."""
    try:
        spec = MethodSpec.parse(method)
    except ValueError as exc:
        raise ConfigError(str(exc), "e.g. procrustes, least_squares+whiten, gradient_descent") from None
    english_tests: set[str] = set()
    for code in task.languages["test"]:
        if canonical(code) == "en":
            english_tests |= test_sentences(task, data_dir, code)
    previous, encoder.post_pooling = encoder.post_pooling, None
    pairs = {}
    try:
        for code in languages:
            language = canonical(code)
            if language == "en":
                continue
            exclude = {language: test_sentences(task, data_dir, code), "en": english_tests}
            found = parallel_data(data_dir, [language], exclude=exclude, max_pairs=max_pairs, seed=seed)
            texts = found.pairs.get(language, [])
            if len(texts) < MIN_PAIRS:
                continue
            source = encoder.encode([x for x, _ in texts], normalize=False, language=language)
            target = encoder.encode([e for _, e in texts], normalize=False)
            pairs[language] = (source, target)
    finally:
        encoder.post_pooling = previous
    if not pairs:
        raise ConfigError(
            f"no parallel data for any of {', '.join(languages)}",
            "alignment needs Tatoeba, stsb-multi, XNLI or PAWS-X translations of at least one language",
        )
    return AlignmentModule(MultiProjection.fit(pairs, method=spec.learner, **spec.options))
