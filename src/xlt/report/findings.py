"""The report's opening: one table per research question with the effects that survive the control for
multiple comparisons (q < 0.05 within their family) and rest on converged stages measured on at least two
seeds, each with its interval, q, Holm-adjusted p and MDE; where nothing survives, whether the design could
have seen an effect of interest ("no effect larger than the MDE") or not ("underpowered")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from xlt.report.markdown import md_table

ALPHA = 0.05
SHOWN = 15  # rows per question; the rest are in the CSV named
# The smallest correlation of interest (Spearman's rho): a similarity that explains less than about a tenth
# of the variance of the gain ranks intermediates little better than chance, whatever its q. The smallest
# effect of a study's config is in its metric's units and does not apply to a coefficient.
SMALLEST_CORRELATION = 0.3


@dataclass(frozen=True)
class Question:
    title: str
    frame: pd.DataFrame
    effect: str  # the column holding the effect
    labels: list[str]  # the columns that say which effect a row is
    source: str  # the file with every row
    # whether each row rests on trained stages (a `convergence` column); correlations do not
    per_stage: bool = True
    # "metric": effects in the metric's units (gains, drops); "correlation": coefficients, whose smallest
    # effect of interest is SMALLEST_CORRELATION
    scale: Literal["metric", "correlation"] = "metric"
    # said after the answer: e.g. that correlations rest on gains of stages that did not converge
    note: str = ""

    def smallest(self, smallest_effect: float) -> float:
        """The smallest effect of interest of this question's rows."""
        return SMALLEST_CORRELATION if self.scale == "correlation" else smallest_effect


def findings_section(questions: list[Question], smallest_effect: float) -> list[str]:
    sections = [
        "## Findings\n",
        f"Effects that survive: q < {ALPHA} (Benjamini-Hochberg within the family named) and, for gains and "
        "robustness, every stage they rest on converged, on at least two seeds. `p_holm` is Holm's "
        "family-wise adjustment: the claims that hold under it are the headline. MDE: the smallest effect "
        f"the design detects with 80% power at alpha {ALPHA}. Where nothing survives, the smallest effect "
        "of interest "
        f"(`evaluation.smallest_effect`, {smallest_effect:g} in the metric's units; "
        f"{SMALLEST_CORRELATION:g} for a Spearman correlation) tells apart 'no effect larger than the MDE' "
        "(the median MDE is at most that) from 'underpowered' (it is larger).\n",
    ]
    for question in questions:
        sections.append(f"\n### {question.title}\n")
        frame = question.frame
        if frame.empty:
            sections.append("Not measured in this study.\n")
            continue
        sections.append(answer(question, smallest_effect))
    return sections


def answer(question: Question, smallest_effect: float) -> str:
    """`smallest_effect` is in the metric's units; a correlation question compares its MDE with
    SMALLEST_CORRELATION instead."""
    frame = question.frame
    smallest_effect = question.smallest(smallest_effect)
    counted = frame[counts(frame)] if question.per_stage else frame
    note = ""
    if len(counted) < len(frame) and "convergence" not in frame:
        note = (
            " Convergence is not recorded in these results (`xlt results --refresh` adds it): none counted."
        )
    elif len(counted) < len(frame):
        unconverged = ~converged(frame)
        if unconverged.any():
            verdicts = frame.loc[unconverged, "convergence"].value_counts().to_dict()
            detail = ", ".join(f"{n} {v}" for v, n in verdicts.items())
            note += (
                f" {int(unconverged.sum())} test(s) rest on stages that did not converge ({detail}) and are "
                "not counted."
            )
        alone = single_seed(frame) & ~unconverged
        if alone.any():
            note += (
                f" {int(alone.sum())} test(s) on converged stages rest on one seed (their interval holds the "
                "item variance only) and are not counted."
            )
    survivors = counted[counted.q < ALPHA].sort_values("q")
    families = ", ".join(f"'{f}'" for f in dict.fromkeys(frame.family))
    if question.note:
        note += f" {question.note}"
    if counted.empty:
        return f"No test counts ({families}):{note}\n"
    if survivors.empty:
        mde = float(np.nanmedian(counted.mde)) if "mde" in counted and counted.mde.notna().any() else np.nan
        if not np.isfinite(mde):
            verdict = "nothing survives, and the design's power is unknown (no MDE)"
        elif mde <= smallest_effect:
            verdict = f"no effect larger than the MDE (median {mde:.3f} <= {smallest_effect:g})"
        else:
            verdict = (
                f"underpowered: the median MDE {mde:.3f} exceeds the effect of interest {smallest_effect:g}"
            )
        return f"Nothing survives among {len(counted)} test(s) ({families}): {verdict}.{note}\n"
    columns = [*question.labels, question.effect, "ci_low", "ci_high", "q", "p_holm"]
    columns += ["mde"] if "mde" in survivors else []
    shown = survivors[columns].head(SHOWN)
    holm = int((survivors.p_holm < ALPHA).sum())
    more = (
        f" The other {len(survivors) - SHOWN} are in `{question.source}`." if len(survivors) > SHOWN else ""
    )
    return (
        f"{len(survivors)} of {len(counted)} test(s) survive ({families}); {holm} also under Holm."
        f"{more}{note}\n\n" + md_table(shown) + "\n"
    )


def converged(frame: pd.DataFrame) -> pd.Series:
    """Rows whose every trained stage converged (early stopping ended it; `untrained` stages, e.g. a
    lexical scorer, have nothing to converge); none where convergence was not recorded."""
    if "convergence" not in frame:
        return pd.Series(False, index=frame.index)
    return frame.convergence.isin(["converged", "untrained"])


def single_seed(frame: pd.DataFrame) -> pd.Series:
    """Rows of trained stages measured on one seed: their interval and q hold the item variance only, while
    a second seed of the same stage may move the score by more than that, so they are not counted. Untrained
    stages (a lexical scorer, an encoder as released) give the same scores on every seed."""
    if "seeds" not in frame:
        return pd.Series(False, index=frame.index)
    trained = frame.convergence != "untrained" if "convergence" in frame else True
    return (frame.seeds < 2) & trained


def counts(frame: pd.DataFrame) -> pd.Series:
    """Rows a finding may rest on: every trained stage converged, on at least two seeds."""
    return converged(frame) & ~single_seed(frame)
