"""The report's section "Can a learned ranker choose the intermediate?": the ranker of `analysis.ranker`
against every single estimator and random choice, on targets and languages it was not fitted on."""

from __future__ import annotations

from pathlib import Path

from xlt.analysis.ranker import RankerEvaluation, headline
from xlt.report import figures
from xlt.report.markdown import md_table, write_csv


def ranker_section(evaluation: RankerEvaluation, out: Path, confidence: float) -> list[str]:
    sections = ["\n## Can a learned ranker choose the intermediate?\n"]
    if evaluation.empty:
        reasons = "; ".join(evaluation.notes) or "no per-language gains with similarities"
        return [*sections, f"Not evaluated: {reasons}.\n"]
    write_csv(evaluation.summary, out / "ranker_summary.csv")
    write_csv(evaluation.cases, out / "ranker_cases.csv")
    write_csv(evaluation.predictions, out / "ranker_predictions.csv")
    write_csv(evaluation.features, out / "ranker_features.csv")
    table = headline(evaluation)
    figure = figures.ranker_bars(table, out / "figures" / "ranker.png")
    level = round(confidence * 100)
    sections += [
        f"A `{evaluation.model}` model of every estimator's similarity (centred within each (target, "
        "language) case) and its products with the language's URIEL distance to English, non-Latin script "
        "and log CC-100 size, fitted per encoder and scored on held-out targets (leave-one-target-out) and "
        "held-out languages (leave-one-language-out). Shortfall@1 is the best candidate's gain minus the "
        "gain of the one chosen, in metric points (random: its exact expectation); `minus_ranker` is the "
        f"predictor's shortfall minus the ranker's on the same cases (> 0: the ranker chose better), with "
        f"{level}% bootstrap intervals over cases, which treat the languages of one target as independent.\n",
        f"\n![ranker vs single estimators](figures/{figure.name})\n\n",
        md_table(table),
    ]
    if evaluation.notes:
        sections.append("\n" + "; ".join(evaluation.notes) + ".\n")
    top = evaluation.features.groupby("encoder", sort=False).head(6)
    sections += [
        "\n### What the ranker leans on (standardised ridge coefficients, fitted on every case)\n",
        md_table(top),
        "\nRegret@1, NDCG@3 and rank of the best per predictor in `ranker_summary.csv`; per case in "
        "`ranker_cases.csv`; held-out predictions in `ranker_predictions.csv`.\n",
    ]
    return sections
