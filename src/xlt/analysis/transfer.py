"""Does similarity predict the gain? The study's gains joined with its similarities, and the correlation
and selection views of that table.

Levels of a gains row: `language` (one test language), `target` (the macro average over a target's
languages) and `group` (African, low-/high-resource, ...: the macro average over the group's languages).
A language-aware similarity of a target- or group-level row is the mean over the row's languages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlt.analysis.correlation import Units, correlation_table, mixed_effects
from xlt.analysis.inference import adjust_families, correlation_mde
from xlt.analysis.selection import selection_table

MACRO = "macro-avg"
JOINED_COLUMNS = [
    "encoder", "estimator", "target", "intermediate", "language", "level", "similarity", "gain", "seeds"
]  # fmt: skip


def gain_level(row: pd.Series) -> str:
    if row["language"] == MACRO:
        return "target"
    return "language" if row["members"] == row["language"] else "group"


def join_similarity(gains: pd.DataFrame, similarity: pd.DataFrame) -> pd.DataFrame:
    """One row per (encoder, estimator, target, intermediate, language-or-group) with its similarity and
    gain. A similarity table with an `encoder` column (one block per encoder of the study) is matched to the
    gains of the same encoder; one without (older studies, `xlt similarity` of a task list) applies to all."""
    if gains.empty or similarity.empty:
        return pd.DataFrame(columns=JOINED_COLUMNS)
    if "encoder" not in gains:
        gains = gains.assign(encoder="")
    gains = gains.assign(level=gains.apply(gain_level, axis=1))
    if "encoder" in similarity:
        return pd.concat(
            [
                join_similarity(gains[gains.encoder == encoder], block.drop(columns="encoder"))
                for encoder, block in similarity.groupby("encoder", sort=False)
            ],
            ignore_index=True,
        )
    rows = []
    lookup: dict[tuple[str, str, str, str], float] = {
        (str(r.estimator), str(r.intermediate), str(r.target), str(r.language)): float(r.similarity)  # type: ignore[arg-type]
        for r in similarity.itertuples()
    }
    aware = set(similarity[similarity.language != "all"].estimator)
    for estimator in similarity.estimator.unique():
        for g in gains.itertuples():
            if estimator in aware:
                values = [
                    lookup.get((estimator, str(g.intermediate), str(g.target), m))
                    for m in str(g.members).split()
                ]
                present = [v for v in values if v is not None and np.isfinite(v)]
                value = float(np.mean(present)) if present else float("nan")
            else:
                value = lookup.get((estimator, str(g.intermediate), str(g.target), "all"), float("nan"))
            rows.append(
                [g.encoder, estimator, g.target, g.intermediate, g.language, g.level, value, g.gain, g.seeds]
            )
    joined = pd.DataFrame(rows, columns=JOINED_COLUMNS)
    return joined[np.isfinite(joined.similarity.astype(float))].reset_index(drop=True)


@dataclass(frozen=True)
class TransferAnalysis:
    joined: pd.DataFrame
    correlations: pd.DataFrame  # view, estimator, [target|language], method, coefficient, CI, p, n
    selection: pd.DataFrame  # per (estimator, target, language-or-group)
    mixed: pd.DataFrame  # per estimator: slope, stderr, p, n, grouping (empty without statsmodels)
    summary: pd.DataFrame  # per estimator: the headline numbers


def analyse(
    joined: pd.DataFrame, *, resamples: int = 1000, permutations: int = 10000, confidence: float = 0.95
) -> TransferAnalysis:
    """Correlation, selection and mixed-effects views of the joined table. A study with several encoders
    is analysed per encoder (every table then starts with an `encoder` column): a correlation pooled over
    models can differ in sign from every model's own."""
    encoders = list(joined["encoder"].unique()) if "encoder" in joined and not joined.empty else []
    if len(encoders) <= 1:
        return _analyse(joined, resamples=resamples, permutations=permutations, confidence=confidence)
    parts = {
        encoder: _analyse(
            joined[joined.encoder == encoder],
            resamples=resamples,
            permutations=permutations,
            confidence=confidence,
        )
        for encoder in encoders
    }

    def stacked(name: str) -> pd.DataFrame:
        frames = [
            getattr(part, name).assign(encoder=encoder)
            for encoder, part in parts.items()
            if not getattr(part, name).empty
        ]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        return frame[["encoder", *(c for c in frame.columns if c != "encoder")]]

    return TransferAnalysis(
        joined, stacked("correlations"), stacked("selection"), stacked("mixed"), stacked("summary")
    )


def _analyse(
    joined: pd.DataFrame, *, resamples: int, permutations: int, confidence: float
) -> TransferAnalysis:
    views: Views = {
        "per target": (joined[joined.level == "target"], ["target"]),
        "pooled over targets": (joined[joined.level == "target"], []),
        "per language (pooled over targets)": (joined[joined.level == "language"], ["language"]),
        "per language group (pooled over targets)": (joined[joined.level == "group"], ["language"]),
        "pooled over languages and targets": (joined[joined.level == "language"], []),
    }
    # pooling languages repeats each intermediate's similarity (and its correlated gains) once per
    # language, and pooling targets mixes their levels: those views compare intermediates within each
    # target (and language), resampling and permuting whole intermediates
    tables = correlations_by_view(
        views, resamples=resamples, permutations=permutations, confidence=confidence, units=POOLED_UNITS
    )
    correlations = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if not correlations.empty:
        # one family of tests per estimator and coefficient: every view (target, language, group, pooled)
        family = "correlations of " + correlations.estimator + " (" + correlations.method + ")"
        correlations = with_tests(correlations, family, confidence)
    candidates = joined[joined.level.isin(["target", "group"])]
    selection = selection_table(candidates) if not candidates.empty else pd.DataFrame()
    mixed_rows = []
    for estimator, frame in joined[joined.level == "language"].groupby("estimator", sort=False):
        fit = mixed_effects(frame)
        if fit is not None:
            mixed_rows.append({"estimator": estimator, **fit})
    mixed = pd.DataFrame(mixed_rows)
    return TransferAnalysis(joined, correlations, selection, mixed, _summary(correlations, selection))


Views = dict[str, tuple[pd.DataFrame, list[str]]]  # view name -> (rows, the columns it groups by)
# the views that pool targets (or languages), tested within target over whole intermediates
POOLED_UNITS = {
    view: Units("intermediate", "target", "language")
    for view in (
        "pooled over targets",
        "per language (pooled over targets)",
        "per language group (pooled over targets)",
        "pooled over languages and targets",
    )
}


def correlations_by_view(
    views: Views,
    *,
    resamples: int,
    permutations: int,
    confidence: float,
    units: dict[str, Units] | None = None,
) -> list[pd.DataFrame]:
    """`correlation_table` of every non-empty view, each with its `view` column first; a view named in
    `units` has rows that come in units (`Units`), and is tested over whole units."""
    tables = []
    for view, (frame, by) in views.items():
        if frame.empty:
            continue
        table = correlation_table(
            frame,
            by,
            resamples=resamples,
            permutations=permutations,
            confidence=confidence,
            units=(units or {}).get(view),
        )
        table.insert(0, "view", view)
        tables.append(table)
    return tables


def with_tests(correlations: pd.DataFrame, family: pd.Series, confidence: float) -> pd.DataFrame:
    """The correlations with their `family`, its Benjamini-Hochberg `q` and Holm `p_holm`, and the `mde`
    (smallest coefficient of its method that its independent units, n unless the view pools units,
    detect with 80% power)."""
    correlations = adjust_families(correlations.assign(family=family), p_column="p_value")
    counts = correlations.units if "units" in correlations else correlations.n
    pairs = zip(correlations.method, counts, strict=True)
    alpha = 1 - confidence
    return correlations.assign(mde=[correlation_mde(m, int(n), alpha=alpha) for m, n in pairs])


def _summary(correlations: pd.DataFrame, selection: pd.DataFrame) -> pd.DataFrame:
    """Per estimator: pooled target-level Spearman (CI, p) and mean target-level Regret@1/@3 vs random."""
    rows = []
    if correlations.empty:
        return pd.DataFrame()
    pooled = correlations[(correlations.view == "pooled over targets") & (correlations.method == "spearman")]
    targets = selection[selection.language == MACRO] if not selection.empty else selection
    for row in pooled.itertuples():
        entry = {
            "estimator": row.estimator,
            "spearman": row.coefficient,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "p_value": row.p_value,
            "n": row.n,
        }
        mine = targets[targets.estimator == row.estimator] if not targets.empty else targets
        if not mine.empty:
            for k in (1, 3):
                entry[f"regret@{k}"] = float(mine[f"regret@{k}"].mean())
                entry[f"random_regret@{k}"] = float(mine[f"random_regret@{k}"].mean())
            entry["rank_of_best"] = float(mine["rank_of_best"].mean())
            entry["random_rank_of_best"] = float(mine["random_rank_of_best"].mean())
            entry["targets_beating_random@1"] = int(
                (mine["regret@1"] < mine["random_regret@1"] - 1e-12).sum()
            )
            entry["targets"] = len(mine)
        rows.append(entry)
    return pd.DataFrame(rows)
