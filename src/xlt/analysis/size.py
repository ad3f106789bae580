"""How robustness changes with model size: per target, suite and language group, each encoder's clean
score, perturbed score and drop against its parameter count, and the least-squares slope of the perturbed
score and of the drop on log10(parameters) over the encoders of the size axis (one base model cut to several
depths, or one family), with a t interval on n - 2 degrees of freedom. Encoders outside the axis (e.g. the
English-only control) are shown, not fitted."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from xlt.analysis.inference import adjust_families

GROUPS = ("English", "non-English", "African", "low-resource", "high-resource")
SIZE_COLUMNS = [
    "target",
    "suite",
    "language",
    "encoder",
    "parameters",
    "on_axis",
    "clean",
    "perturbed",
    "drop",
]
SIZE_COLUMNS += ["ci_low", "ci_high"]
SLOPE_FAMILIES = {"perturbed": "size slopes of the perturbed score", "drop": "size slopes of the drop"}
SLOPE_COLUMNS = [
    "target", "suite", "language", "quantity", "slope", "ci_low", "ci_high", "p", "n", "family", "q", "p_holm"
]  # fmt: skip


def size_table(robustness: pd.DataFrame, parameters: Mapping[str, int], axis: set[str]) -> pd.DataFrame:
    """Rows of standard training without an intermediate, for English and the language groups, with each
    encoder's parameter count; `axis` names the encoders of the size axis."""
    plain = robustness[(robustness.variant == "standard") & (robustness.intermediate == "none")]
    english = plain.language.isin(["en", "eng"]) & (plain.group == plain.language)
    rows = pd.concat([plain[english].assign(language="English"), plain[plain.language.isin(GROUPS[1:])]])
    if rows.empty:
        return pd.DataFrame(columns=SIZE_COLUMNS)
    rows = rows.assign(parameters=rows.encoder.map(parameters).astype(float), on_axis=rows.encoder.isin(axis))
    return rows[SIZE_COLUMNS].sort_values(["target", "suite", "language", "parameters"], ignore_index=True)


def size_slopes(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The slope of the perturbed score and of the drop per tenfold more parameters, on the axis only, with
    Benjamini-Hochberg q (and Holm) within two families: the perturbed-score slopes and the drop slopes."""
    rows = []
    on_axis = table[table.on_axis & (table.parameters > 0)]
    for (target, suite, language), block in on_axis.groupby(["target", "suite", "language"], sort=False):
        if block.parameters.nunique() < 3:  # a slope through two points has no interval
            continue
        x = np.log10(block.parameters.to_numpy(float))
        for quantity in ("perturbed", "drop"):
            fit = stats.linregress(x, block[quantity].to_numpy(float))
            half = stats.t.ppf(1 - (1 - confidence) / 2, len(x) - 2) * fit.stderr
            rows.append(
                {
                    "target": target, "suite": suite, "language": language, "quantity": quantity,
                    "slope": fit.slope, "ci_low": fit.slope - half, "ci_high": fit.slope + half,
                    "p": fit.pvalue if math.isfinite(fit.pvalue) else math.nan, "n": len(x),
                    "family": SLOPE_FAMILIES[quantity],
                }
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=SLOPE_COLUMNS[:-2])
    return adjust_families(frame)[SLOPE_COLUMNS]


def size_axis(encoders: list[str], base_of: Mapping[str, str]) -> set[str]:
    """The encoders of the size axis: those sharing the most common base model (ties: the first)."""
    bases = [base_of[e] for e in encoders]
    if not bases:
        return set()
    common = max(dict.fromkeys(bases), key=bases.count)
    return {e for e in encoders if base_of[e] == common}
