"""The robustness tables of a study, from its target stages' `robustness.json`.

- `robustness.csv`: clean, perturbed and drop (clean - perturbed) per target x method x intermediate x
  suite x language, with a bootstrap interval of the drop;
- `robust_gains.csv`: each robust method against standard training with the same intermediate, on the
  perturbed inputs (e.g. accuracy under attack), with a bootstrap interval of the difference.

Both are mean over seeds and add rows macro-averaged over each language group (African,
low-/high-resource, ...; `all pairs` for the language pairs of the generalized suite). The intervals are
over test items (paired on the same items wherever both sides have them; `ood` drops compare two item sets
and resample them apart) and over seeds (`xlt.analysis.inference`), with a p-value, an MDE, and q-values
within four families: drops per language (or language pair) and per group, robust-method gains per
language and per group. Stages evaluated before per-item predictions were kept have point estimates only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from xlt.analysis.gains import SeedReplicates, bootstrap_difference, bootstrap_gain
from xlt.analysis.inference import adjust_families, inference_columns
from xlt.analysis.languages import ALL_PAIRS, LanguageGroup, language_groups
from xlt.runs.store import RunStore
from xlt.study.plan import StudyPlan
from xlt.study.stage_files import ALL_RESULTS, chain_convergence, convergence, stale_parts

ROBUSTNESS_CSV = "robustness.csv"
ROBUST_GAINS_CSV = "robust_gains.csv"
KEYS = ["encoder", "target", "variant", "intermediate", "suite", "language", "metric"]
INFERENCE = ["ci_low", "ci_high", "se", "p", "mde", "family", "q", "p_holm", "convergence"]
ROBUSTNESS_COLUMNS = [*KEYS[:6], "group", "metric", "seeds", "n", "clean", "perturbed", "drop", *INFERENCE]
ROBUST_GAIN_COLUMNS = [*KEYS[:6], "group", "metric", "seeds", "n", "standard", "robust", "gain", *INFERENCE]

Entries = dict[tuple[Any, ...], list[dict[str, Any]]]  # KEYS -> one entry per seed
Replicates = SeedReplicates | None


def robustness_tables(plan: StudyPlan, store: RunStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(robustness, robust gains) of the finished target stages; empty frames without robustness suites."""
    entries = _entries(plan, store)
    evaluation = plan.config.evaluation
    rng = np.random.default_rng(0)

    def drops(key: tuple[Any, ...], seeds: list[dict[str, Any]]) -> tuple[dict[str, Any], Replicates]:
        values: dict[str, Any] = {
            c: float(np.mean([e[c] for e in seeds])) for c in ("clean", "perturbed", "drop")
        }
        values["convergence"] = chain_convergence([e["convergence"] for e in seeds])
        return values, _drop_replicates(seeds, evaluation.bootstrap, rng)

    def gains(key: tuple[Any, ...], seeds: list[dict[str, Any]]) -> tuple[dict[str, Any], Replicates] | None:
        if key[2] == "standard":
            return None
        standard = {e["seed"]: e for e in entries.get((*key[:2], "standard", *key[3:]), [])}
        pairs = [(standard[e["seed"]], e) for e in seeds if e["seed"] in standard]
        if not pairs:
            return None
        standard_score = float(np.mean([s["perturbed"] for s, _ in pairs]))
        robust_score = float(np.mean([r["perturbed"] for _, r in pairs]))
        values = {
            "convergence": chain_convergence([e["convergence"] for pair in pairs for e in pair]),
            "seeds": len(pairs),  # the seeds both sides have
            "standard": standard_score,
            "robust": robust_score,
            "gain": robust_score - standard_score,
        }
        return values, _gain_replicates(pairs, evaluation.bootstrap, rng)

    confidence, high_gib = evaluation.confidence, evaluation.high_resource_gib
    robustness = _table(entries, drops, ["clean", "perturbed", "drop"], confidence, high_gib, "drops")
    robust_gains = _table(
        entries, gains, ["standard", "robust", "gain"], confidence, high_gib, "robust-method gains"
    )
    return (
        adjust_families(robustness)[ROBUSTNESS_COLUMNS],
        adjust_families(robust_gains)[ROBUST_GAIN_COLUMNS],
    )


def _entries(plan: StudyPlan, store: RunStore) -> Entries:
    from xlt.robustness.suites import ROBUSTNESS

    entries: Entries = {}
    for stage in plan.targets:
        path = store.stage_dir(stage.stage_id) / ROBUSTNESS
        if stage.robustness is None or not store.is_done(stage.stage_id) or not path.is_file():
            continue
        verdict = chain_convergence([convergence(store, s) for s in (stage.parent, stage) if s is not None])
        stale = stale_parts(store, stage)  # computed by code with a known bug: left out until rebuilt
        if ALL_RESULTS in stale:
            continue
        for suite, by_language in json.loads(path.read_text()).items():
            if suite in stale:
                continue
            for language, entry in by_language.items():
                key = (stage.encoder, stage.task, stage.variant, stage.intermediate, suite, language)
                entry = {**entry, "seed": stage.seed, "convergence": verdict}
                entries.setdefault((*key, entry["metric"]), []).append(entry)
    return entries


Row = Callable[[tuple[Any, ...], list[dict[str, Any]]], tuple[dict[str, Any], Replicates] | None]


def _table(
    entries: Entries, row: Row, values: list[str], confidence: float, high_gib: float, family: str
) -> pd.DataFrame:
    """One row per key that `row` gives values for (with its interval; the values may set `seeds`), then
    the language-group means; `family` names the tests (per language and per group) for their q-values."""
    rows: list[dict[str, Any]] = []
    replicates: dict[tuple[Any, ...], Replicates] = {}
    for key, seeds in entries.items():
        result = row(key, seeds)
        if result is None:
            continue
        computed, draws = result
        replicates[key] = draws
        rows.append(
            dict(zip(KEYS, key, strict=True))
            | {"group": key[5], "seeds": len({e["seed"] for e in seeds}), "n": max(e["n"] for e in seeds)}
            | computed
            | _inference(draws, confidence)
            | {"family": f"{family} per language"}
        )
    if not rows:
        return pd.DataFrame(columns=[*KEYS, "group", "seeds", "n", *values, *INFERENCE])
    single_rows = pd.DataFrame(rows)
    grouped = []
    outer = [k for k in KEYS if k != "language"]
    for group_key, block in single_rows.groupby(outer, sort=False):
        single = [lang for lang in block.language if ">" not in lang]  # not the generalized pairs
        pairs = tuple(lang for lang in block.language if ">" in lang)
        groups = language_groups(single, high_resource_gib=high_gib)
        groups += [LanguageGroup(ALL_PAIRS, "every language pair of the suite", pairs)] if pairs else []
        for group in groups:
            members = block[block.language.isin(group.members)]
            parts = [replicates[(*group_key[:5], lang, group_key[5])] for lang in members.language]
            present = [d for d in parts if d is not None]
            combined = SeedReplicates.mean_of(present) if len(present) == len(parts) else None
            entry = dict(zip(outer, group_key, strict=True))
            entry |= {"language": group.name, "group": " ".join(group.members)}
            entry |= {"seeds": int(members.seeds.min()), "n": int(members.n.sum())}
            entry |= {c: float(members[c].mean()) for c in values}
            entry |= {"convergence": chain_convergence(list(members.convergence))}
            grouped.append(entry | _inference(combined, confidence) | {"family": f"{family} per group"})
    return pd.concat([single_rows, pd.DataFrame(grouped)], ignore_index=True)


def _inference(draws: Replicates, confidence: float) -> dict[str, float]:
    """Interval, se, p and MDE of one row; NaN without per-item predictions (older stages)."""
    if draws is None:
        return dict.fromkeys(["ci_low", "ci_high", "se", "p", "mde"], math.nan)
    return inference_columns(draws.inference(confidence))


def _drop_replicates(seeds: list[dict[str, Any]], resamples: int, rng: np.random.Generator) -> Replicates:
    """Bootstrap replicates of clean - perturbed from the entries' per-item predictions; None when they are
    not there (a stage evaluated before they were kept) or do not line up with the gold items."""
    if any("items" not in e for e in seeds):
        return None
    items = [e["items"] for e in seeds]
    metric = seeds[0]["metric"]
    try:
        if seeds[0].get("paired", True):
            clean, perturbed = [i["clean"] for i in items], [i["perturbed"] for i in items]
            return bootstrap_gain(
                perturbed, clean, items[0]["gold"], metric, resamples=resamples, rng=rng
            ).seeds
        return bootstrap_difference(
            [i["clean"] for i in items], items[0]["gold"], [i["perturbed"] for i in items],
            items[0]["gold_perturbed"], metric, resamples=resamples, rng=rng,
        )  # fmt: skip
    except ValueError:  # predictions that do not line up with the gold items (the point estimates stay)
        return None


def _gain_replicates(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]], resamples: int, rng: np.random.Generator
) -> Replicates:
    """Replicates of robust - standard on the perturbed inputs, paired over the same perturbed items."""
    if any("items" not in e for pair in pairs for e in pair):
        return None
    gold_key = "gold" if pairs[0][0].get("paired", True) else "gold_perturbed"
    gold = pairs[0][0]["items"][gold_key]
    if any(r["items"][gold_key] != gold for _, r in pairs):
        return None  # not the same items (cannot happen within a study; kept safe)
    standard = [s["items"]["perturbed"] for s, _ in pairs]
    robust = [r["items"]["perturbed"] for _, r in pairs]
    try:
        return bootstrap_gain(
            standard, robust, gold, pairs[0][0]["metric"], resamples=resamples, rng=rng
        ).seeds
    except ValueError:
        return None
