"""Similarities of a study's (intermediate, target) pairs, saved next to its results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from xlt.core.io import atomic_path
from xlt.runs.store import RunStore
from xlt.similarity.estimators import Estimator, similarity_matrix
from xlt.similarity.trained import TrainedContext, TrainedStages
from xlt.study.plan import StudyPlan
from xlt.tasks import TaskSpec, get_task

SIMILARITY_CSV = "similarity.csv"


def study_pairs(plan: StudyPlan) -> list[tuple[TaskSpec, TaskSpec]]:
    """Every (intermediate, target) transfer of the study, in plan order (Tatoeba checks excluded)."""
    seen: dict[tuple[str, str], tuple[TaskSpec, TaskSpec]] = {}
    for stage in plan.targets:
        if stage.parent is not None and stage.task != "tatoeba":
            key = (stage.parent.task, stage.task)
            if key not in seen:
                seen[key] = (stage.parent.task_spec, stage.task_spec)
    return list(seen.values())


def study_similarity(
    plan: StudyPlan,
    store: RunStore | None,
    data_dir: Path,
    estimators: Sequence[Estimator],
    *,
    sample: int = 500,
    seed: int = 0,
    fisher_examples: int = 64,
    probe_examples: int = 500,
    on_pair: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The long similarity table of the study's pairs; language-aware rows use the study's languages."""
    context = TrainedContext(
        data_dir,
        encoder=plan.config.encoders[0],
        sample=sample,
        seed=seed,
        stages=TrainedStages.from_plan(plan, store) if store is not None else None,
        fisher_examples=fisher_examples,
        probe_examples=probe_examples,
    )
    languages = {stage.task: list(stage.languages) for stage in plan.targets}
    return similarity_matrix(
        context,
        study_pairs(plan),
        estimators,
        languages=lambda task: languages.get(task.name, list(task.languages["test"])),
        on_pair=on_pair,
    )


def pairs_from_spec(spec: str) -> list[tuple[TaskSpec, TaskSpec]]:
    """`stsb,mrpc:semrel,xnli` -> every intermediate x target pair."""
    intermediates, _, targets = spec.partition(":")
    names = (
        [n.strip() for n in intermediates.split(",") if n.strip()],
        [n.strip() for n in targets.split(",") if n.strip()],
    )
    return [
        (get_task(i), get_task(t)) for i in names[0] for t in names[1] if get_task(i).name != get_task(t).name
    ]


def save_similarity(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
