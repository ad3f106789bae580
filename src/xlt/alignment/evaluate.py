"""Fit projections per language and evaluate them against the unprojected encoder (`xlt align`).

Evaluations, each before (raw embeddings) and after (source side through the projection, English side
through the projection's English pre-processing):
- `tatoeba`: held-out Tatoeba retrieval (the test half of each language's pairs), accuracy@1 averaged over
  both directions;
- `stsb-xling`: cross-lingual STS on stsb_multi_mt test (English sentence 1, language-X sentence 2 of the
  same row), Spearman of the cosine;
- `semrel-proj`: SemRel in language X with both sentences projected (SemRel has no translations, so it is
  monolingual; a linear map changes the cosines), Spearman;
- `umsab-zs`, `xnli-zs`: zero-shot classification through the projection: a logistic regression trained
  on English training embeddings (XNLI pairs as [u, v, |u-v|, u*v]) applied to the language's test items;
  macro F1 (UMSAB) and accuracy (XNLI).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.alignment.learners import fit_projection
from xlt.alignment.parallel import ParallelData, parallel_data, tatoeba_codes, tatoeba_split
from xlt.alignment.projection import Projection
from xlt.core.sampling import subset_items
from xlt.metrics import get_metric
from xlt.models.sentence import SentenceEncoder
from xlt.tasks import get_task
from xlt.tasks.iso639 import canonical

RESULT_COLUMNS = [
    "language",
    "evaluation",
    "metric",
    "method",
    "before",
    "after",
    "delta",
    "n",
    "train_pairs",
]
DEFAULT_METHODS = (
    "least_squares",
    "procrustes",
    "gradient_descent",
    "least_squares+whiten",
    "procrustes+whiten",
    "procrustes+centre",
    "lir",
)


@dataclass(frozen=True)
class MethodSpec:
    """`procrustes+whiten+centre` -> learner procrustes with the whiten and centre options; `lir+rank=3`
    -> the training-free language identity removal of the 3 leading directions (default 1)."""

    name: str
    learner: str
    options: dict[str, Any]

    @classmethod
    def parse(cls, name: str) -> MethodSpec:
        learner, *flags = name.split("+")
        if learner == "lir":
            ranks = [f.removeprefix("rank=") for f in flags]
            if len(flags) > 1 or any(
                not f.startswith("rank=") or not r.isdigit() for f, r in zip(flags, ranks, strict=True)
            ):
                raise ValueError(f"alignment method '{name}': lir takes one option, rank=N (e.g. lir+rank=2)")
            return cls(name, learner, {"rank": int(ranks[0])} if ranks else {})
        unknown = [f for f in flags if f not in ("whiten", "centre")]
        if unknown:
            raise ValueError(
                f"unknown option '{unknown[0]}' in alignment method '{name}' (use whiten, centre)"
            )
        return cls(name, learner, {flag: True for flag in flags})


class Embedder:
    """Sentence embeddings of one encoder, memoised per text (the same sentence is embedded once)."""

    def __init__(self, encoder: SentenceEncoder, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vector in zip(
                missing, self.encoder.encode(missing, batch_size=self.batch_size), strict=True
            ):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.empty((0, self.encoder.dim))


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def retrieval_accuracy(source: np.ndarray, target: np.ndarray) -> float:
    """accuracy@1 of nearest-neighbour (cosine) retrieval of item i, averaged over both directions."""
    sims = _normalise(source) @ _normalise(target).T
    gold = np.arange(len(source))
    return float(((sims.argmax(axis=1) == gold).mean() + (sims.argmax(axis=0) == gold).mean()) / 2)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(_normalise(a) * _normalise(b), axis=1)


def _pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)


Transform = Callable[[np.ndarray], np.ndarray]


def _identity(x: np.ndarray) -> np.ndarray:
    return x


@dataclass
class EvaluationSets:
    """The evaluation items of one language (texts), read once and shared by every method."""

    language: str
    tatoeba: list[tuple[str, str]]
    stsb: list[tuple[str, str, float]]  # English sentence 1, X sentence 2, gold
    semrel: list[tuple[str, str, float]]
    umsab: list[tuple[str, int]]
    xnli: list[tuple[str, str, int]]

    def sentences(self) -> tuple[set[str], set[str]]:
        """(language-X sentences, English sentences) of every evaluation."""
        x = {a for a, _ in self.tatoeba} | {b for _, b, _ in self.stsb} | {a for a, _, _ in self.semrel}
        x |= {b for _, b, _ in self.semrel} | {t for t, _ in self.umsab}
        x |= {a for a, _, _ in self.xnli} | {b for _, b, _ in self.xnli}
        english = {e for _, e in self.tatoeba} | {a for a, _, _ in self.stsb}
        return {s.strip() for s in x}, {s.strip() for s in english}


def evaluation_sets(data_dir: Path, language: str, *, max_examples: int, seed: int = 0) -> EvaluationSets:
    codes = tatoeba_codes()
    tatoeba = tatoeba_split(data_dir, codes[language], seed)[1][:max_examples] if language in codes else []
    stsb: list[tuple[str, str, float]] = []
    stsb_task = get_task("stsb-multi")
    if language in stsb_task.languages["test"] and language != "en":
        english = stsb_task.load(data_dir, "test", "en")
        other = stsb_task.load(data_dir, "test", language)
        rows = [
            (e["sentence1"], o["sentence2"], float(o["label"])) for e, o in zip(english, other, strict=True)
        ]
        stsb = subset_items(rows, max_examples)

    def task_rows(name: str) -> Any:
        task = get_task(name)
        for code in task.languages["test"]:
            if canonical(code) == language:
                data = task.load(data_dir, "test", code)
                return subset_items(data, max_examples)
        return []

    semrel = [(r["sentence1"], r["sentence2"], float(r["label"])) for r in task_rows("semrel")]
    umsab = [(r["text"], int(r["label"])) for r in task_rows("umsab")]
    xnli = [(r["sentence1"], r["sentence2"], int(r["label"])) for r in task_rows("xnli")]
    return EvaluationSets(language, tatoeba, stsb, semrel, umsab, xnli)


@dataclass
class EnglishClassifiers:
    """Logistic regressions on English training embeddings, refit per English-side transform."""

    umsab: list[tuple[str, int]]
    xnli: list[tuple[str, str, int]]

    def fit(self, embed: Embedder, transform: Transform) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression

        models: dict[str, Any] = {}
        if self.umsab:
            x = transform(embed([t for t, _ in self.umsab]))
            models["umsab"] = LogisticRegression(max_iter=2000).fit(x, [y for _, y in self.umsab])
        if self.xnli:
            u = transform(embed([a for a, _, _ in self.xnli]))
            v = transform(embed([b for _, b, _ in self.xnli]))
            models["xnli"] = LogisticRegression(max_iter=2000).fit(
                _pair_features(u, v), [y for *_, y in self.xnli]
            )
        return models


def english_training(data_dir: Path, size: int, seed: int = 0) -> EnglishClassifiers:
    umsab = get_task("umsab-en").load(data_dir, "train", "en")
    xnli = get_task("xnli-en").load(data_dir, "train", "en")
    pick = lambda data: subset_items(data, size)  # noqa: E731
    return EnglishClassifiers(
        [(r["text"], int(r["label"])) for r in pick(umsab)],
        [(r["sentence1"], r["sentence2"], int(r["label"])) for r in pick(xnli)],
    )


def _scores(
    sets: EvaluationSets, embed: Embedder, source: Transform, english: Transform, models: dict[str, Any]
) -> dict[str, tuple[str, float, int]]:
    """evaluation -> (metric, score, n) with the given source-side and English-side transforms."""
    out: dict[str, tuple[str, float, int]] = {}
    if sets.tatoeba:
        x = source(embed([a for a, _ in sets.tatoeba]))
        e = english(embed([b for _, b in sets.tatoeba]))
        out["tatoeba"] = ("acc@1", retrieval_accuracy(x, e), len(sets.tatoeba))
    if len(sets.stsb) >= 3:
        cos = _cosines(
            english(embed([a for a, _, _ in sets.stsb])), source(embed([b for _, b, _ in sets.stsb]))
        )
        out["stsb-xling"] = _scored("spearman", cos, [g for *_, g in sets.stsb])
    if len(sets.semrel) >= 3:
        cos = _cosines(
            source(embed([a for a, _, _ in sets.semrel])), source(embed([b for _, b, _ in sets.semrel]))
        )
        out["semrel-proj"] = _scored("spearman", cos, [g for *_, g in sets.semrel])
    if sets.umsab and "umsab" in models:
        predicted = models["umsab"].predict(source(embed([t for t, _ in sets.umsab])))
        out["umsab-zs"] = _scored("macro_f1", list(predicted), [y for _, y in sets.umsab])
    if sets.xnli and "xnli" in models:
        u, v = source(embed([a for a, _, _ in sets.xnli])), source(embed([b for _, b, _ in sets.xnli]))
        predicted = models["xnli"].predict(_pair_features(u, v))
        out["xnli-zs"] = _scored("accuracy", predicted, [y for *_, y in sets.xnli])
    return out


def _scored(metric: str, predictions: Any, gold: Sequence[Any]) -> tuple[str, float, int]:
    """(metric, score, n) of a registered task metric."""
    return metric, get_metric(metric).function(predictions, gold), len(gold)


def leak_free_parallel(
    data_dir: Path, sets: EvaluationSets, *, max_pairs: int | None, seed: int = 0
) -> ParallelData:
    """The language's parallel training pairs without any sentence of its evaluation sets (neither the
    language-X side nor the English side of any evaluation item)."""
    banned_x, banned_en = sets.sentences()
    exclude = {sets.language: banned_x, "en": banned_en}
    return parallel_data(data_dir, [sets.language], exclude=exclude, max_pairs=max_pairs, seed=seed)


@dataclass
class AlignmentRun:
    results: pd.DataFrame
    projections: dict[tuple[str, str], Projection]
    parallel: ParallelData


def align_and_evaluate(
    encoder: SentenceEncoder,
    data_dir: Path,
    languages: Sequence[str],
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    max_pairs: int = 2000,
    max_examples: int = 500,
    english_examples: int = 2000,
    seed: int = 0,
    on_progress: Callable[[str], None] | None = None,
) -> AlignmentRun:
    specs = [MethodSpec.parse(m) for m in methods]
    embed = Embedder(encoder)
    english = english_training(data_dir, english_examples, seed)
    plain_models = english.fit(embed, _identity)
    rows, projections = [], {}
    all_parallel = ParallelData()
    for code in languages:
        language = canonical(code)
        sets = evaluation_sets(data_dir, language, max_examples=max_examples, seed=seed)
        parallel = leak_free_parallel(data_dir, sets, max_pairs=max_pairs, seed=seed)
        pairs = parallel.pairs.get(language, [])
        all_parallel.pairs[language] = pairs
        all_parallel.sources[language] = parallel.sources.get(language, {})
        if on_progress is not None:
            on_progress(f"{language}: {len(pairs)} parallel pairs")
        before = _scores(sets, embed, _identity, _identity, plain_models)
        if len(pairs) < 10:
            for evaluation, (metric, score, n) in before.items():
                rows.append(
                    [
                        language,
                        evaluation,
                        metric,
                        "none (no parallel data)",
                        score,
                        np.nan,
                        np.nan,
                        n,
                        len(pairs),
                    ]
                )
            continue
        source_emb = embed([x for x, _ in pairs])
        english_emb = embed([e for _, e in pairs])
        for spec in specs:
            projection = fit_projection(source_emb, english_emb, spec.learner, **spec.options)
            projections[(language, spec.name)] = projection
            # whitening or centring moves the English space too: the English classifiers are refit in it
            models = english.fit(embed, projection.transform_target) if spec.options else plain_models
            after = _scores(sets, embed, projection.transform_source, projection.transform_target, models)
            for evaluation, (metric, score, n) in after.items():
                base = before[evaluation][1]
                rows.append(
                    [language, evaluation, metric, spec.name, base, score, score - base, n, len(pairs)]
                )
    return AlignmentRun(pd.DataFrame(rows, columns=RESULT_COLUMNS), projections, all_parallel)
