"""Does the similarity of intermediate and target task predict how robust transfer is? The study's
robustness outcomes joined with its similarities, with the correlation and selection views of
`xlt.analysis.transfer`.

Outcomes, one per (method, suite) of `robustness.csv` and (method, suite) of `robust_gains.csv`:
- `drop: SUITE [METHOD]`: clean - perturbed (lower is more robust);
- `perturbed: SUITE [METHOD]`: the perturbed score itself (robust accuracy for `attack`, Spearman under
  attack for STS, the score on mixed-language pairs for `generalized`);
- `robust gain: SUITE [METHOD]`: the method's perturbed score minus standard training's.
Each outcome is correlated with each estimator's similarity per target, pooled over targets and per
language group; every estimator's correlations are one family for the q-values. Selection asks which
intermediate maximises the perturbed score (per target and group), against the exact random expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from xlt.analysis.languages import ALL_PAIRS
from xlt.analysis.selection import selection_table
from xlt.analysis.transfer import (
    MACRO,
    POOLED_UNITS,
    Views,
    correlations_by_view,
    join_similarity,
    with_tests,
)

OUTCOME_COLUMNS = ["outcome", "encoder", "target", "intermediate", "language", "members", "gain", "seeds"]


def robustness_outcomes(robustness: pd.DataFrame, robust_gains: pd.DataFrame) -> pd.DataFrame:
    """The long table of outcomes, in the shape `join_similarity` reads (the outcome value as `gain`). With
    several encoders every outcome is one per encoder (its name ends in the encoder): never pooled."""
    parts = []
    several = any(frame.get("encoder", pd.Series()).nunique() > 1 for frame in (robustness, robust_gains))
    for frame, values in ((robustness, ("drop", "perturbed")), (robust_gains, ("gain",))):
        if frame.empty:
            continue
        encoders = frame["encoder"] if "encoder" in frame else pd.Series("", index=frame.index)
        for value in values:
            name = "robust gain" if value == "gain" else value
            parts.append(
                pd.DataFrame(
                    {
                        "outcome": [
                            f"{name}: {s} [{m}]" + (f" ({e})" if several else "")
                            for s, m, e in zip(frame.suite, frame.variant, encoders, strict=True)
                        ],
                        "encoder": encoders,
                        "target": frame.target,
                        "intermediate": frame.intermediate,
                        "language": frame.language,
                        # a group row lists its members; a language (or generalized pair) row is its own
                        "members": frame.group,
                        "gain": frame[value].astype(float),
                        "seeds": frame.seeds,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    outcomes = pd.concat(parts, ignore_index=True)
    # robustness tables have no macro-average over all languages; the target-level row of this analysis is
    # the mean over the non-English languages (transfer's own), in the place of the gains' macro-average,
    # and for the generalized suite (language pairs, no non-English row) the mean over all its pairs
    is_macro = outcomes.language.isin(["non-English", ALL_PAIRS])
    return outcomes.assign(language=outcomes.language.where(~is_macro, MACRO))[OUTCOME_COLUMNS]


@dataclass(frozen=True)
class RobustTransferAnalysis:
    joined: pd.DataFrame  # per (outcome, estimator, target, intermediate, language-or-group)
    correlations: pd.DataFrame  # per (outcome, estimator, view, key, method)
    selection: pd.DataFrame  # per (outcome, estimator, target, language-or-group): perturbed scores only

    def summary(self) -> pd.DataFrame:
        """Per outcome and estimator: Spearman pooled over targets (target level) with CI, q and MDE."""
        if self.correlations.empty:
            return pd.DataFrame()
        pooled = self.correlations[
            (self.correlations.view == "pooled over targets") & (self.correlations.method == "spearman")
        ]
        columns = ["outcome", "estimator", "coefficient", "ci_low", "ci_high", "p_value", "q", "p_holm"]
        columns += ["mde", "n", "family"]
        return pooled[columns]


def analyse_robustness(
    robustness: pd.DataFrame,
    robust_gains: pd.DataFrame,
    similarity: pd.DataFrame,
    *,
    resamples: int = 1000,
    permutations: int = 10000,
    confidence: float = 0.95,
) -> RobustTransferAnalysis:
    outcomes = robustness_outcomes(robustness, robust_gains)
    joined_parts, tables, selections = [], [], []
    for outcome, block in outcomes.groupby("outcome", sort=False):
        joined = join_similarity(block.drop(columns="outcome"), similarity)
        if joined.empty:
            continue
        joined.insert(0, "outcome", outcome)
        joined_parts.append(joined)
        views: Views = {
            "per target": (joined[joined.level == "target"], ["target"]),
            "pooled over targets": (joined[joined.level == "target"], []),
            "per language group (pooled over targets)": (joined[joined.level == "group"], ["language"]),
        }
        for table in correlations_by_view(
            views,
            resamples=resamples,
            permutations=permutations,
            confidence=confidence,
            units=POOLED_UNITS,
        ):
            table.insert(0, "outcome", outcome)
            tables.append(table)
        candidates = joined[joined.level.isin(["target", "group"])]
        if str(outcome).startswith("perturbed") and not candidates.empty:
            selection = selection_table(candidates)
            if not selection.empty:
                selection.insert(0, "outcome", outcome)
                selections.append(selection)
    correlations = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if not correlations.empty:
        # each estimator's correlations with robustness are one family (every outcome, view, coefficient)
        correlations = with_tests(
            correlations, "robustness correlations of " + correlations.estimator, confidence
        )
    return RobustTransferAnalysis(
        pd.concat(joined_parts, ignore_index=True) if joined_parts else pd.DataFrame(),
        correlations,
        pd.concat(selections, ignore_index=True) if selections else pd.DataFrame(),
    )
