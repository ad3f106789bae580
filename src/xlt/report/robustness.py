"""The report's robustness section: clean / perturbed / drop per method, intermediate and language group,
each robust method against standard training, and the drop per suite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlt.analysis.languages import canonical
from xlt.report import figures
from xlt.report.markdown import interval_pivot, md_table, triples, with_bounds, write_csv


def robustness_section(robustness: pd.DataFrame, robust_gains: pd.DataFrame, out: Path) -> list[str]:
    """Clean, perturbed and drop per training method x intermediate and language group (the headline), then
    each robust method against standard training, per target x suite, and the drop per language group."""
    robustness = with_bounds(robustness)
    singles = robustness[robustness.group == robustness.language]
    bars = figures.drop_bars(singles, out / "figures" / "robustness.png")
    factors = ["variant", "intermediate"]
    by_method = singles.groupby(["target", "suite", *factors], sort=False)[
        ["clean", "perturbed", "drop"]
    ].mean()
    sections = [
        "\n## Robustness\n",
        "Clean and perturbed score and their drop (clean - perturbed); mean over seeds, then over the rows "
        "shown. Generalized pairs are keyed A>B (sentence 1 in A, sentence 2 in B). The attack is a PGD "
        "attack on the input embeddings (robust accuracy), kept apart from the input perturbations.\n\n",
        f"![robustness](figures/{bars.name})\n\n",
    ]
    groups = robustness[robustness.group != robustness.language]
    if not groups.empty:
        sections += [
            "\n### Method x intermediate per language group\n",
            "Cells are clean / perturbed / drop, macro-averaged over the suites named (per target: its "
            "metric). English is the target's English test set; groups hold its other languages.\n",
        ]
        headline = english_and_groups(robustness)
        for target, block in headline.groupby("target", sort=False):
            for title, rows in (
                ("input perturbations", block[block.suite != "attack"]),
                ("embedding attack", block[block.suite == "attack"]),
            ):
                if not rows.empty:
                    suites = ", ".join(dict.fromkeys(rows.suite))
                    sections += [
                        f"\n**{target}, {title}** ({rows.metric.iloc[0]}; {suites})\n\n",
                        triples(rows, factors),
                    ]
    if not robust_gains.empty:
        robust_gains = with_bounds(robust_gains)
        sections += [
            "\n### Robust methods against standard training\n",
            "Perturbed score (e.g. accuracy under attack) of each method minus that of standard training "
            "with the same intermediate, on the same perturbed items, with its paired bootstrap interval; "
            "all languages in `robust_gains.csv`.\n\n",
            interval_pivot(english_and_groups(robust_gains), "gain", ["target", "suite", *factors]),
        ]
        write_csv(robust_gains, out / "robust_gains.csv")
    sections += ["\n### Per target and suite\n", md_table(by_method.reset_index())]
    if not groups.empty:
        sections += [
            "\n### Drop per language group\n",
            "Drop with its bootstrap interval over test items (paired, but for `ood`) and seeds.\n\n",
            interval_pivot(groups, "drop", ["target", "suite", *factors]),
        ]
    write_csv(robustness, out / "robustness.csv")
    return sections


def english_and_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of English (as language "English") and of the language groups, English first."""
    english = frame[(frame.group == frame.language) & (frame.language.map(canonical) == "en")]
    return pd.concat(
        [english.assign(language="English"), frame[frame.group != frame.language]], ignore_index=True
    )
