"""The report's XTREME-R section: the study's XTREME-R summary per system and how its tasks differ here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xlt.analysis.xtreme_r import CATEGORIES, NOT_PART, OVERALL, XtremeRSummary, xtreme_r_summary
from xlt.report.markdown import md_table, write_csv

SYSTEMS_CSV = "xtreme_r.csv"
TASKS_CSV = "xtreme_r_tasks.csv"


def xtreme_r_section(scores: pd.DataFrame, out: Path) -> list[str]:
    """The section (empty when the study has no XTREME-R task), with its two tables written as CSV."""
    summary: XtremeRSummary = xtreme_r_summary(scores)
    if summary.systems.empty:
        return []
    write_csv(summary.systems, out / SYSTEMS_CSV)
    write_csv(summary.tasks, out / TASKS_CSV)
    return [
        "\n## XTREME-R summary\n",
        "Each task's score is the unweighted mean over its evaluated XTREME-R languages (seeds averaged "
        f"first; English included where tested), each category ({', '.join(CATEGORIES)}) the mean of its "
        f"tasks present, and {OVERALL} the mean of the categories, as XTREME-R averages (0-1 scale; XTREME-R "
        "prints percentages). Missing tasks are listed, not dropped: a score with tasks missing averages "
        "fewer tasks than XTREME-R and is not comparable with its published numbers (Mewsli-X is never "
        f"available). {NOT_PART} In `{SYSTEMS_CSV}`.\n\n",
        md_table(summary.systems),
        "\nXTREME-R's tasks here, and how they differ from the benchmark (in `" + TASKS_CSV + "`):\n\n",
        md_table(summary.tasks),
    ]
