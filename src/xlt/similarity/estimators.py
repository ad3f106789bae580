"""Similarity estimators between an English intermediate task and a target task, as plug-ins.

Every estimator answers `similarity(context, intermediate, target, language)`; language is None for the
language-independent ones and a target test language for the language-aware ones. Add one by subclassing
`Estimator` and registering it in `ESTIMATORS`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from xlt.similarity.embeddings import VectorCache, VectorKind, cosine
from xlt.tasks import TaskSpec

ALL_LANGUAGES = "all"
MATRIX_COLUMNS = ["estimator", "intermediate", "target", "language", "similarity"]


@dataclass
class SimilarityContext:
    """What estimators may use: the data, the base encoder and its cached task vectors."""

    data_dir: Path
    encoder: str = "me5-small"
    sample: int = 500
    seed: int = 0
    _vectors: VectorCache | None = field(default=None, init=False, repr=False)

    @property
    def vectors(self) -> VectorCache:
        if self._vectors is None:
            self._vectors = VectorCache(self.encoder, self.data_dir, sample=self.sample, seed=self.seed)
        return self._vectors


class Estimator(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    language_aware: ClassVar[bool] = False

    @abstractmethod
    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float: ...


class _VectorCosine(Estimator):
    kind: ClassVar[VectorKind]

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        vectors = context.vectors
        return cosine(vectors.vector(self.kind, intermediate), vectors.vector(self.kind, target, language))


class SEmb(_VectorCosine):
    name = "semb"
    description = "cosine of the mean sentence embeddings of the English training inputs (Poth et al. 2021)"
    kind = "semb"


class TextEmb(_VectorCosine):
    name = "textemb"
    description = "cosine of the mean token states of the base encoder over the inputs (Vu et al. 2020)"
    kind = "textemb"


class SEmbLanguage(_VectorCosine):
    name = "semb-lang"
    description = (
        "target-language-aware SEmb: intermediate English training inputs against the target's unlabeled "
        "test inputs in each language"
    )
    kind = "semb"
    language_aware = True


class Taxonomy(Estimator):
    name = "taxonomy"
    description = (
        "mean agreement of the taxonomy tags: family, input format and label type (1 if equal) and domain "
        "(Jaccard overlap)"
    )

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        a, b = intermediate.taxonomy, target.taxonomy
        domains = set(a.domain) | set(b.domain)
        domain = len(set(a.domain) & set(b.domain)) / len(domains) if domains else 1.0
        same = [a.family == b.family, a.input_format == b.input_format, a.label_type == b.label_type]
        return (sum(same) + domain) / 4


class Random(Estimator):
    name = "random"
    description = "a uniform random number per (intermediate, target), fixed by the seed: the baseline"

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        digest = hashlib.sha256(f"{context.seed}|{intermediate.name}|{target.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


ESTIMATORS: dict[str, Estimator] = {
    e.name: e for e in (SEmb(), TextEmb(), SEmbLanguage(), Taxonomy(), Random())
}


def similarity_matrix(
    context: SimilarityContext,
    pairs: Sequence[tuple[TaskSpec, TaskSpec]],
    estimators: Sequence[Estimator],
    *,
    languages: Callable[[TaskSpec], Sequence[str]] | None = None,
    on_pair: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Long table: one row per (estimator, intermediate, target[, language]) similarity.

    Language-aware estimators give one row per target test language (`languages(target)` chooses them,
    default all); the others one row with language "all"."""
    rows = []
    for estimator in estimators:
        for intermediate, target in pairs:
            langs: Sequence[str | None]
            if estimator.language_aware:
                langs = list(languages(target) if languages else target.languages["test"])
            else:
                langs = [None]
            for language in langs:
                value = estimator.similarity(context, intermediate, target, language)
                rows.append(
                    [estimator.name, intermediate.name, target.name, language or ALL_LANGUAGES, value]
                )
            if on_pair is not None:
                on_pair(f"{estimator.name}: {intermediate.name} -> {target.name}")
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)
