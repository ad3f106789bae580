"""Parallel sentences (language X, English) for learning projections, never touching an evaluation item.

Sources (all from the mirror):
- Tatoeba: each language's pairs are cut once by a seeded permutation into a training half and a held-out
  test half; only the training half is parallel data, the test half is the retrieval evaluation.
- stsb_multi_mt training translations: row k of `stsb-X-train.csv` translates row k of `stsb-en-train.csv`
  (both sentences of a row give a pair). Its test files are the cross-lingual STS evaluation.
- The training items [0, 60%) of the aligned XNLI and PAWS-X splits: item k of language X translates item k
  of English (premise and hypothesis / both sentences). Items [70%, 100%) are their test sets.

Languages are keyed by their canonical code (ISO 639-1 where it exists: Tatoeba's `deu` and XNLI's `de` are
the same language). A training pair is also dropped when either of its sentences appears verbatim in an
evaluation set of the same language or in English evaluation text, so no evaluation sentence is ever
projection training data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from xlt.core.sampling import subset_items
from xlt.data.readers.sts import read_stsb_multi
from xlt.data.readers.xtreme_pairs import read_pawsx_tsv, read_xnli_tsv, split_aligned
from xlt.tasks import get_task
from xlt.tasks.iso639 import canonical
from xlt.tasks.spec import pinned_file, pinned_sources

TATOEBA_TRAIN_FRACTION = 0.5


@dataclass
class ParallelData:
    """Per canonical language: training pairs (X sentence, English sentence) and where they came from."""

    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, language: str, source: str, pairs: Iterable[tuple[str, str]]) -> None:
        items = [(a.strip(), b.strip()) for a, b in pairs if a.strip() and b.strip()]
        self.pairs.setdefault(language, []).extend(items)
        self.sources.setdefault(language, {})[source] = self.sources.get(language, {}).get(source, 0) + len(
            items
        )


def tatoeba_split(
    data_dir: Path, code: str, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(training half, test half) of a Tatoeba language's (X, English) pairs, by a seeded permutation."""
    rows = get_task("tatoeba").load(data_dir, "test", code)
    pairs = [(r["source"], r["target"]) for r in rows]
    order = np.random.default_rng([seed, len(pairs)]).permutation(len(pairs))
    cut = int(len(pairs) * TATOEBA_TRAIN_FRACTION)
    return [pairs[i] for i in sorted(order[:cut])], [pairs[i] for i in sorted(order[cut:])]


def tatoeba_codes() -> dict[str, str]:
    """canonical language -> Tatoeba code (e.g. de -> deu)."""
    return {canonical(code): code for code in get_task("tatoeba").languages["test"]}


def _files(dataset: str, suffix: str) -> dict[str, str]:
    """canonical language -> file path of the dataset whose name ends with `-LANG{suffix}`."""
    out: dict[str, str] = {}
    for path in pinned_sources()[dataset]["files"]:
        name = path.rsplit("/", 1)[-1]
        if name.endswith(suffix):
            code = name[: -len(suffix)].rsplit("-", 1)[-1]
            out[canonical(code)] = path.removeprefix(f"{dataset}/")
    return out


def _aligned_train(dataset: str, reader: object, data_dir: Path, language: str) -> list[tuple[str, str]]:
    files = _files(dataset, ".tsv")
    if language not in files or "en" not in files:
        return []
    read = reader  # read_xnli_tsv or read_pawsx_tsv
    english = split_aligned(read(pinned_file(dataset, files["en"]).resolve(data_dir)))["train"]  # type: ignore[operator]
    other = split_aligned(read(pinned_file(dataset, files[language]).resolve(data_dir)))["train"]  # type: ignore[operator]
    pairs = []
    for x, e in zip(other, english, strict=True):
        pairs += [(x["sentence1"], e["sentence1"]), (x["sentence2"], e["sentence2"])]
    return pairs


def _stsb_train(data_dir: Path, language: str) -> list[tuple[str, str]]:
    files = _files("stsb_multi_mt", "-train.csv")
    if language not in files or language == "en":
        return []
    english = read_stsb_multi(pinned_file("stsb_multi_mt", files["en"]).resolve(data_dir))
    other = read_stsb_multi(pinned_file("stsb_multi_mt", files[language]).resolve(data_dir))
    pairs = []
    for x, e in zip(other, english, strict=True):
        pairs += [(x["sentence1"], e["sentence1"]), (x["sentence2"], e["sentence2"])]
    return pairs


def parallel_languages() -> list[str]:
    """Every language (canonical code) with parallel data to English here: Tatoeba's languages, the
    stsb_multi_mt translations and the aligned XNLI and PAWS-X splits, in that order without repeats."""
    found = list(tatoeba_codes())
    found += list(_files("stsb_multi_mt", "-train.csv"))
    found += list(_files("xnli_xtreme", ".tsv")) + list(_files("pawsx_xtreme", ".tsv"))
    return [language for language in dict.fromkeys(found) if language != "en"]


def parallel_data(
    data_dir: Path,
    languages: Iterable[str],
    *,
    exclude: dict[str, set[str]] | None = None,
    max_pairs: int | None = None,
    seed: int = 0,
) -> ParallelData:
    """Training pairs for each language; `exclude` maps a language ('en' for English) to evaluation
    sentences that must not appear in its training pairs. `max_pairs` keeps a seeded random subset."""
    exclude = exclude or {}
    codes = tatoeba_codes()
    data = ParallelData()
    for language in (canonical(code) for code in languages):
        sources = {
            "tatoeba-train": tatoeba_split(data_dir, codes[language], seed)[0] if language in codes else [],
            "stsb-multi-train": _stsb_train(data_dir, language),
            "xnli-train": _aligned_train("xnli_xtreme", read_xnli_tsv, data_dir, language),
            "pawsx-train": _aligned_train("pawsx_xtreme", read_pawsx_tsv, data_dir, language),
        }
        banned_x, banned_en = exclude.get(language, set()), exclude.get("en", set())
        for source, pairs in sources.items():
            kept = [(x, e) for x, e in pairs if x.strip() not in banned_x and e.strip() not in banned_en]
            data.add(language, source, kept)
        if language in data.pairs:
            data.pairs[language] = subset_items(data.pairs[language], max_pairs, [seed, 7])
    return data
