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

import numpy as np
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
    # target name -> the intermediates it is paired with (set by `similarity_matrix`): what estimators that
    # rank candidates against each other, like NN-Rank, compare an intermediate with
    candidates: dict[str, tuple[TaskSpec, ...]] = field(default_factory=dict)
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
    needs_stages: ClassVar[bool] = False  # reads a study's trained models (NaN where one is missing)

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


class NNRank(Estimator):
    """How often the target language's test inputs have their nearest neighbours among the intermediate's
    English inputs, in the base encoder's sentence space, relative to chance.

    After NN-Rank (EMNLP 2025), which ranks source languages by the nearest neighbours of target inputs in a
    pool of every candidate's inputs. Here the pool is the sampled training inputs (`sample` per task) of
    every intermediate paired with the target (`context.candidates`); each target input votes for the
    candidates of its `k` nearest neighbours (cosine), and a candidate's score is its share of the votes
    divided by its share of the pool: 1 is what a candidate gets when neighbours fall at random, above 1
    means the target's inputs lie closer to this intermediate's than to the other candidates'. With a
    single candidate the score is 1 by construction (nothing to rank against).
    """

    name = "nn-rank"
    description = (
        "share of the k=10 nearest neighbours of the target language's test inputs that fall in the "
        "intermediate's inputs, in a pool of every candidate intermediate's, over its share of the pool "
        "(NN-Rank style; 1 = chance)"
    )
    language_aware = True
    k: ClassVar[int] = 10

    def __init__(self) -> None:
        self._scores: dict[tuple[object, ...], dict[str, float]] = {}

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        pool = {t.name: t for t in context.candidates.get(target.name, ())}
        pool.setdefault(intermediate.name, intermediate)
        key: tuple[object, ...] = (str(context.data_dir), context.encoder, context.sample, context.seed)
        key += (target.name, language, *sorted(pool))
        if key not in self._scores:
            self._scores[key] = self._vote(context, list(pool.values()), target, language)
        return self._scores[key][intermediate.name]

    def _vote(
        self, context: SimilarityContext, pool: list[TaskSpec], target: TaskSpec, language: str | None
    ) -> dict[str, float]:
        vectors = context.vectors
        queries = vectors.items(target, language)
        blocks = [vectors.items(task) for task in pool]
        owner = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
        k = min(self.k, len(owner))
        similarities = queries @ np.concatenate(blocks).T
        nearest = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        votes = np.bincount(owner[nearest].ravel(), minlength=len(pool)) / nearest.size
        shares = np.array([len(b) for b in blocks]) / len(owner)
        return {task.name: float(v / s) for task, v, s in zip(pool, votes, shares, strict=True)}


class Random(Estimator):
    name = "random"
    description = "a uniform random number per (intermediate, target), fixed by the seed: the baseline"

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        digest = hashlib.sha256(f"{context.seed}|{intermediate.name}|{target.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


ESTIMATORS: dict[str, Estimator] = {
    e.name: e for e in (SEmb(), TextEmb(), SEmbLanguage(), NNRank(), Taxonomy(), Random())
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
    candidates: dict[str, dict[str, TaskSpec]] = {}
    for intermediate, target in pairs:
        candidates.setdefault(target.name, {})[intermediate.name] = intermediate
    context.candidates = {name: tuple(tasks.values()) for name, tasks in candidates.items()}
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
