"""The XTREME-R summary of a study (Ruder et al. 2021, "XTREME-R: Towards More Challenging and Nuanced
Multilingual Evaluation"): each task's metric averaged over its languages, the tasks averaged within each of
XTREME-R's four categories, and the categories averaged into one score.

Computed from the per-language scores a study writes (results.json), one row per system (encoder, variant,
intermediate; seeds averaged per language first). A task's average is the unweighted mean over the study's
evaluated languages that are XTREME-R languages (its 50; English included where a task tests it), so
Tatoeba, UD-POS or PAN-X languages outside XTREME-R do not move it. A category averages the tasks of it the
study has; a task it lacks is listed as missing, never silently dropped, and with any task missing (Mewsli-X
always is) the score is over fewer tasks than XTREME-R's and not comparable with published numbers. Scores
stay on xlt's 0-1 scale (XTREME-R prints percentages). Tasks are found by their built-in names (`panx`,
`tydiqa` and `mlqa` included); a task file of another name is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlt.analysis.languages import XTREME_R, canonical

CLASSIFICATION = "classification"
STRUCTURED = "structured prediction"
QA = "question answering"
RETRIEVAL = "retrieval"
CATEGORIES = (CLASSIFICATION, STRUCTURED, QA, RETRIEVAL)
OVERALL = "XTREME-R"
SYSTEM = ["encoder", "variant", "intermediate"]


@dataclass(frozen=True)
class BenchmarkTask:
    """One XTREME-R task: xlt's task name, XTREME-R's name, category and metric, and how it differs here."""

    name: str
    label: str
    category: str
    metric: str
    here: str


XTREME_R_TASKS: tuple[BenchmarkTask, ...] = (
    BenchmarkTask(
        "xnli",
        "XNLI",
        CLASSIFICATION,
        "accuracy",
        "trained on XNLI dev items [0, 60%) in English and tested on items [70, 100%) in every language "
        "(the aligned split), not MultiNLI train and XNLI test",
    ),
    BenchmarkTask("xcopa", "XCOPA", CLASSIFICATION, "accuracy", "trained on English COPA (400 items) only"),
    BenchmarkTask(
        "udpos",
        "UD-POS",
        STRUCTURED,
        "accuracy",
        "8 test treebanks (yo wo af am de fr zh ar-PUD; am is no XTREME-R language), trained on UD "
        "English-LinES; XTREME-R tests 38 languages",
    ),
    BenchmarkTask(
        "panx",
        "PAN-X (WikiANN NER)",
        STRUCTURED,
        "entity F1",
        "the Rahimi et al. splits XTREME-R uses, trained on its English train split (20k sentences); Thai "
        "is absent and only XTREME-R languages are averaged",
    ),
    BenchmarkTask("xquad", "XQuAD", QA, "F1", "trained on TyDiQA-GoldP English, not SQuAD v1.1"),
    BenchmarkTask(
        "mlqa",
        "MLQA",
        QA,
        "F1",
        "MLQA dev (same-language pairs), as its test files are not available; trained on TyDiQA-GoldP "
        "English, not SQuAD v1.1",
    ),
    BenchmarkTask(
        "tydiqa",
        "TyDiQA-GoldP",
        QA,
        "F1",
        "GoldP dev with its answers, as XTREME-R evaluates it; trained on 90% of the TyDiQA-GoldP English "
        "train file (10% held out as dev), not SQuAD v1.1",
    ),
    BenchmarkTask(
        "tatoeba",
        "Tatoeba",
        RETRIEVAL,
        "accuracy",
        "accuracy@1 averaged over both directions (XTREME-R: non-English to English); the XTREME-R "
        "languages among the 112 LASER pairs",
    ),
    BenchmarkTask(
        "mewsli-x", "Mewsli-X", RETRIEVAL, "mAP@20", "not available anywhere reachable: always missing"
    ),
    BenchmarkTask(
        "lareqa",
        "LAReQA",
        RETRIEVAL,
        "mAP@20",
        "the encoder as its stages left it; pool sentences embedded alone (XTREME-R appends the paragraph)",
    ),
)
NOT_PART = "BUCC (bucc-zh here) is not part of XTREME-R and never counts."


@dataclass(frozen=True)
class XtremeRSummary:
    """`systems`: one row per (encoder, variant, intermediate) with the seeds, each task's language average,
    each category's average, the XTREME-R score and the tasks missing. `tasks`: per XTREME-R task, its
    category, the metric the study scored it with, the languages averaged and how it differs here."""

    systems: pd.DataFrame
    tasks: pd.DataFrame


def _xtreme_r_languages(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[scores["language"].map(lambda language: canonical(str(language)) in XTREME_R).astype(bool)]


def xtreme_r_summary(scores: pd.DataFrame) -> XtremeRSummary:
    """The summary of a study's long score table (columns encoder, variant, intermediate, target, language,
    metric, seed, score)."""
    names = [task.name for task in XTREME_R_TASKS]
    kept = _xtreme_r_languages(scores[scores["target"].isin(names)])
    per_task = pd.Series(dtype=float)
    if not kept.empty:
        per_language = kept.groupby([*SYSTEM, "target", "language"], sort=False)["score"].mean()
        per_task = per_language.groupby(level=[*SYSTEM, "target"], sort=False).mean()
    rows = []
    for system, block in scores.groupby(SYSTEM, sort=False):
        task_scores = {
            task.name: float(per_task.get((*system, task.name), np.nan)) for task in XTREME_R_TASKS
        }
        present = [task for task in XTREME_R_TASKS if np.isfinite(task_scores[task.name])]
        if not present:
            continue  # a system of no XTREME-R task (e.g. an STS-only study) has no summary
        categories = {
            category: float(np.mean([task_scores[t.name] for t in present if t.category == category]))
            if any(t.category == category for t in present)
            else np.nan
            for category in CATEGORIES
        }
        rows.append(
            dict(zip(SYSTEM, system, strict=True))
            | {"seeds": int(block["seed"].nunique())}
            | task_scores
            | categories
            | {
                OVERALL: float(np.nanmean(list(categories.values()))),
                "tasks": f"{len(present)} of {len(XTREME_R_TASKS)}",
                "missing": ", ".join(t.name for t in XTREME_R_TASKS if t not in present),
            }
        )
    columns = [*SYSTEM, "seeds", *names, *CATEGORIES, OVERALL, "tasks", "missing"]
    systems = pd.DataFrame(rows, columns=columns)
    metrics = kept.groupby("target")["metric"].agg(lambda m: ", ".join(sorted(set(m))))
    languages = kept.groupby("target")["language"].agg(lambda m: " ".join(dict.fromkeys(m)))
    tasks = pd.DataFrame(
        [
            {
                "category": task.category,
                "task": task.name,
                "XTREME-R task": task.label,
                "XTREME-R metric": task.metric,
                "metric here": metrics.get(task.name, "-"),
                "languages": len(languages.get(task.name, "").split()),
                "in this study": "yes" if task.name in metrics else "no",
                "differences here": task.here,
            }
            for task in XTREME_R_TASKS
        ]
    )
    return XtremeRSummary(systems, tasks)
