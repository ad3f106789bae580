"""Zero-shot evaluation of the pooled retrieval tasks, with the encoder as its stages left it: a slice's
queries are searched in its pool of candidates (`xlt.data.schema.POOLED_TYPES`).

- Answer retrieval (LAReQA): each query's 20 most cosine-similar candidates, scored by AP@20 against its
  relevant candidates; the prediction of a query is that ranking (candidate ids, best first).
- Bitext mining (BUCC): pairs mined over the whole slice by ratio margin (`mine_bitext`); pairs with a
  sentence whose text occurs more than once on its side are dropped, as XTREME drops them; the margin
  threshold is the one of best F1 against the slice's gold pairs (`best_threshold`: the only gold there is
  for the BUCC sample, so this F1 uses an oracle threshold). The prediction of a source sentence is the
  target id mined for it at that threshold ('' for none).

Every text is embedded with its own language's projection under alignment. The embeddings of a language's
texts are computed once per evaluation (`EmbeddingCache`): LAReQA's 13014-sentence pool is the same for all
11 question languages, so it is embedded once, not 11 times.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasets import Dataset

from xlt.core.sampling import subset_rows
from xlt.data.schema import CANDIDATE, QUERY, TaskType
from xlt.metrics.retrieval import MAP_K, best_threshold, map_at_k, mine_bitext, mining_f1, top_k
from xlt.models.precision import Precision
from xlt.models.sentence import SentenceEncoder


@dataclass
class PooledResult:
    ids: list[str]
    gold: list[Any]
    pred: list[Any]
    score: float
    extra: dict[str, float]


class EmbeddingCache:
    """Unit-length embeddings of lists of texts in a language, each list embedded once (keyed by the
    language and a digest of the texts)."""

    def __init__(self, encoder: SentenceEncoder, batch_size: int, precision: Precision) -> None:
        self.encoder, self.batch_size, self.precision = encoder, batch_size, precision
        self._store: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, texts: list[str], language: str) -> np.ndarray:
        digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
        key = (language, digest)
        if key not in self._store:
            self._store[key] = self.encoder.encode(
                texts, batch_size=self.batch_size, precision=self.precision, language=language
            )
        return self._store[key]

    def embed_rows(self, rows: Dataset) -> np.ndarray:
        """The embeddings of rows' texts, each language's through its projection, in row order."""
        texts, languages = rows["text"], rows["language"]
        out = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        for language in dict.fromkeys(languages):
            at = [i for i, lang in enumerate(languages) if lang == language]
            out[at] = self.embed([texts[i] for i in at], language)
        return out


def _split(rows: Dataset) -> tuple[Dataset, Dataset]:
    roles = rows["role"]
    queries = rows.select([i for i, role in enumerate(roles) if role == QUERY])
    candidates = rows.select([i for i, role in enumerate(roles) if role == CANDIDATE])
    if len(queries) == 0 or len(candidates) == 0:
        raise ValueError(
            f"a pooled slice needs queries and candidates, found {len(queries)} and {len(candidates)}"
        )
    return queries, candidates


def evaluate_pooled(
    task_type: TaskType, rows: Dataset, cache: EmbeddingCache, max_examples: int | None = None
) -> PooledResult:
    """Score one slice. `max_examples` draws that many queries of answer retrieval (the pool stays whole);
    bitext mining always mines the whole slice, since fewer sentences would make another, easier task."""
    queries, candidates = _split(rows)
    if task_type == TaskType.ANSWER_RETRIEVAL:
        return _answer_retrieval(subset_rows(queries, max_examples), candidates, cache)
    if task_type == TaskType.BITEXT_MINING:
        return _bitext_mining(queries, candidates, cache)
    raise ValueError(f"{task_type.value} is not a pooled task type")


def _answer_retrieval(queries: Dataset, candidates: Dataset, cache: EmbeddingCache) -> PooledResult:
    pool = cache.embed_rows(candidates)
    best, _ = top_k(cache.embed_rows(queries), pool, MAP_K)
    candidate_ids = candidates["id"]
    ranked = [[candidate_ids[j] for j in row] for row in best.tolist()]
    gold = [list(relevant) for relevant in queries["relevant"]]
    score = map_at_k(ranked, gold, MAP_K)
    return PooledResult(list(queries["id"]), gold, ranked, score, {"candidates": float(len(candidate_ids))})


def _bitext_mining(sources: Dataset, targets: Dataset, cache: EmbeddingCache) -> PooledResult:
    mined = mine_bitext(cache.embed_rows(sources), cache.embed_rows(targets))
    source_texts, target_texts = sources["text"], targets["text"]
    repeated_source = {t for t, n in Counter(source_texts).items() if n > 1}
    repeated_target = {t for t, n in Counter(target_texts).items() if n > 1}
    keep = [
        i
        for i, (s, t) in enumerate(zip(mined.source.tolist(), mined.target.tolist(), strict=True))
        if source_texts[s] not in repeated_source and target_texts[t] not in repeated_target
    ]
    pairs = [(int(mined.source[i]), int(mined.target[i])) for i in keep]
    target_ids = targets["id"]
    gold = [list(relevant) for relevant in sources["relevant"]]
    correct = np.array([target_ids[t] in gold[s] for s, t in pairs], dtype=bool)
    n_gold = sum(len(g) for g in gold)
    if n_gold == 0:
        raise ValueError("bitext mining needs gold pairs to choose its threshold and score")
    choice = best_threshold(mined.score[keep], correct, n_gold)
    pred = [""] * len(gold)
    for s, t in pairs[: choice.kept]:
        pred[s] = target_ids[t]
    extra = {
        "precision": choice.precision,
        "recall": choice.recall,
        "mined": float(choice.kept),
        "candidate_pairs": float(len(pairs)),
    }
    if np.isfinite(choice.threshold):
        extra["threshold"] = choice.threshold
    return PooledResult(list(sources["id"]), gold, pred, mining_f1(pred, gold), extra)
