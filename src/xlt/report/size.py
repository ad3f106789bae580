"""The report's section "Model size and robustness": clean, perturbed and drop per encoder against its
parameter count, per target, suite and language group, with the fitted slope per tenfold more parameters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlt.analysis.size import size_axis, size_slopes, size_table
from xlt.models.encoders import split_variant
from xlt.models.sentence import parameter_counts
from xlt.report import figures
from xlt.report.markdown import md_table, write_csv


def size_section(robustness: pd.DataFrame, out: Path, confidence: float) -> list[str]:
    encoders = list(dict.fromkeys(robustness.encoder))
    if len(encoders) < 2:
        return []
    # the size axis counts the parameters outside the word embeddings: cutting layers leaves the 96M-entry
    # embedding matrix of me5-small whole, so all parameters span only 102M-118M, the rest 6M-22M
    counts = {e: parameter_counts(e) for e in encoders}
    parameters = {e: counts[e][1] for e in encoders}
    axis = size_axis(encoders, {e: split_variant(e)[0] for e in encoders})
    table = size_table(robustness, parameters, axis)
    if table.empty:
        return []
    all_parameters = table.encoder.map(lambda e: counts[e][0])
    table.insert(list(table.columns).index("parameters") + 1, "all_parameters", all_parameters)
    slopes = size_slopes(table, confidence)
    write_csv(table, out / "size_robustness.csv")
    write_csv(slopes, out / "size_slopes.csv")
    figure = figures.size_lines(table, out / "figures" / "size_vs_drop.png")
    on_axis = ", ".join(sorted(axis, key=parameters.__getitem__))
    sections = [
        "\n## Model size and robustness\n",
        f"Encoders on the size axis: {on_axis}; off it (shown, not "
        f"fitted): {', '.join(sorted(set(encoders) - axis)) or 'none'}. Rows are standard training without "
        "an intermediate; groups are unweighted means over their languages; intervals are those of the drop "
        "in `robustness.csv`. `parameters` counts those outside the word embeddings (the size of the network "
        "that cutting layers changes; `all_parameters` includes them). Slopes are least squares of the score "
        f"on log10(parameters), per tenfold more parameters, with a {round(confidence * 100)}% t interval "
        "(n - 2 degrees of freedom); q is Benjamini-Hochberg within the perturbed-score slopes and within "
        "the drop slopes.\n",
        f"\n![size vs drop](figures/{figure.name})\n",
    ]
    if not slopes.empty:
        sections += ["\n### Slopes per tenfold more parameters\n", md_table(slopes.drop(columns="family"))]
    sections += ["\n### Per encoder\n", md_table(table.drop(columns="on_axis"))]
    return sections
