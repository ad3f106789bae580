"""The report's section "Does similarity predict robustness?": each estimator's similarity against each
robustness outcome (drop, perturbed score, robust-method gain per suite and method), pooled over targets,
as a heatmap of Spearman's rho with the cells that survive the multiple-comparison control starred, the
table of those correlations, and how well similarity picks the intermediate with the best perturbed score."""

from __future__ import annotations

from pathlib import Path

from xlt.analysis.robust_transfer import RobustTransferAnalysis
from xlt.analysis.transfer import MACRO
from xlt.report import figures
from xlt.report.findings import ALPHA
from xlt.report.markdown import md_table, write_csv


def similarity_robustness_section(analysis: RobustTransferAnalysis, out: Path) -> list[str]:
    write_csv(analysis.correlations, out / "robustness_correlations.csv")
    write_csv(analysis.selection, out / "robustness_selection.csv")
    summary = analysis.summary()
    sections = ["\n## Does similarity predict robustness?\n"]
    if summary.empty:
        return [
            *sections,
            "Too few intermediates with robustness results to correlate (a study needs at least three "
            "intermediates of one target, each with the robustness suites).\n",
        ]
    matrix = summary.pivot_table(index="outcome", columns="estimator", values="coefficient", sort=False)
    marks = summary.assign(mark=summary.q < ALPHA).pivot_table(
        index="outcome", columns="estimator", values="mark", aggfunc="max", sort=False
    )
    figure = figures.heatmap(
        matrix,
        "Spearman: similarity vs robustness outcome (pooled over targets; * q < 0.05)",
        out / "figures" / "similarity_vs_robustness.png",
        label="rho",
        marks=marks,
    )
    sections += [
        "Spearman's rho between each estimator's similarity and each robustness outcome at target level "
        "(mean over the target's non-English languages), one point per intermediate x target, with its "
        "bootstrap CI, permutation p, Benjamini-Hochberg q within the estimator's family and the MDE for "
        "its n. A drop is clean - perturbed (negative rho: more similar, more robust); a perturbed score "
        "and a robust gain are higher-is-better.\n",
        f"\n![similarity vs robustness](figures/{figure.name})\n",
        md_table(summary),
    ]
    selection = analysis.selection
    if not selection.empty:
        targets = selection[selection.language == MACRO]
        by = ["outcome", "estimator"]
        columns = ["regret@1", "random_regret@1", "ndcg@3", "random_ndcg@3", "rank_of_best"]
        columns += ["random_rank_of_best"]
        mean = targets.groupby(by, sort=False)[columns].mean().reset_index()
        sections += [
            "\n### Choosing the intermediate with the best perturbed score\n",
            "Mean over targets of Regret@1, NDCG@3 and the rank of the true best intermediate when "
            "intermediates are ranked by similarity, against the exact expectation of a random choice "
            "(all cases, also per language group, in `robustness_selection.csv`).\n\n",
            md_table(mean),
        ]
    sections.append(
        "\nEvery view (per target, per language group, pooled) is in `robustness_correlations.csv`.\n"
    )
    return sections
