"""Similarities of a study's (intermediate, target) pairs, saved next to its results: the study layer's
view of `xlt.similarity`, which knows nothing of plans or run stores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from xlt.core.errors import ConfigError, did_you_mean
from xlt.core.io import atomic_path
from xlt.models.encoders import encoder_info
from xlt.runs.store import RunStore
from xlt.similarity.estimators import Estimator, similarity_matrix
from xlt.similarity.trained import TrainedContext, TrainedModel, TrainedStages
from xlt.study.plan import Stage, StudyPlan
from xlt.tasks import TaskSpec, get_task

SIMILARITY_CSV = "similarity.csv"


def study_pairs(plan: StudyPlan) -> list[tuple[TaskSpec, TaskSpec]]:
    """Every (intermediate, target) transfer of the study, in plan order. The Tatoeba checks of the
    intermediate-trained encoders count: like X-STILTs' retrieval targets they score the encoder with no
    target training, and their gains are gains like any other."""
    seen: dict[tuple[str, str], tuple[TaskSpec, TaskSpec]] = {}
    for stage in plan.targets:
        if stage.parent is not None:
            key = (stage.parent.task, stage.task)
            if key not in seen:
                seen[key] = (stage.parent.task_spec, stage.task_spec)
    return list(seen.values())


def trained_stages(plan: StudyPlan, store: RunStore, encoder: str | None = None) -> TrainedStages:
    """The finished models the trained-model estimators read, by task: each intermediate's stage and each
    target's baseline stage (trained from the base encoder), of the study's first seed and of `encoder`
    (default: the study's first)."""
    seed = plan.config.seeds[0]
    encoder = encoder or plan.config.encoders[0]
    found = TrainedStages()
    for stage in plan.intermediates:
        mine = stage.seed == seed and stage.encoder == encoder
        if mine and stage.training is not None:
            _take(found, stage, store)
    for stage in plan.targets:
        trained = stage.training is not None and stage.parent is None and stage.seed == seed
        if trained and stage.encoder == encoder:
            _take(found, stage, store)
    return found


def _take(found: TrainedStages, stage: Stage, store: RunStore) -> None:
    if stage.task in found.models or not store.is_done(stage.stage_id):
        return
    if store.missing_weights(stage.stage_id):
        found.without_weights.setdefault(stage.task, stage.stage_id)
    else:
        found.models[stage.task] = _trained_model(stage, store)
        found.without_weights.pop(stage.task, None)


def _trained_model(stage: Stage, store: RunStore) -> TrainedModel:
    assert stage.training is not None
    return TrainedModel(
        stage_id=stage.stage_id,
        task_spec=stage.task_spec,
        encoder=stage.encoder,
        training=stage.training,
        directory=store.stage_dir(stage.stage_id),
    )


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
    targets: Sequence[str] | None = None,
    on_missing_weights: Callable[[str, str, str], None] | None = None,
) -> pd.DataFrame:
    """The long similarity table of the study's pairs, one block per encoder of the study (its `encoder`
    column): embedding estimators use that encoder, trained-model ones its stages. Language-aware rows use
    the study's languages. `targets`: only the pairs of these targets (task names of the study).
    `on_missing_weights(encoder, task, stage_id)`: called for each finished stage a trained-model estimator
    of these pairs needs but whose weights were not kept (its similarities are NaN)."""
    pairs = study_pairs(plan)
    if targets is not None:
        known = list(dict.fromkeys(t.name for _, t in pairs))
        unknown = [name for name in targets if name not in known]
        if unknown:
            raise ConfigError(
                f"'{unknown[0]}' is not a target of study {plan.config.name}"
                f"{did_you_mean(unknown[0], known)}",
                f"choose from: {', '.join(known)}",
            )
        pairs = [(i, t) for i, t in pairs if t.name in targets]
    languages = {stage.task: list(stage.languages) for stage in plan.targets}
    blocks = []
    # a lexical scorer has no embedding space and no intermediate stages: nothing to estimate with
    neural = [e for e in plan.config.encoders if encoder_info(e).kind == "transformer"]
    tasks = {task.name for pair in pairs for task in pair}
    for encoder in neural or plan.config.encoders[:1]:
        stages = trained_stages(plan, store, encoder) if store is not None else None
        if stages is not None and on_missing_weights is not None and any(e.needs_stages for e in estimators):
            for task, stage_id in sorted(stages.without_weights.items()):
                if task in tasks:
                    on_missing_weights(encoder, task, stage_id)
        context = TrainedContext(
            data_dir,
            encoder=encoder,
            sample=sample,
            seed=seed,
            stages=stages,
            fisher_examples=fisher_examples,
            probe_examples=probe_examples,
        )
        frame = similarity_matrix(
            context,
            pairs,
            estimators,
            languages=lambda task: languages.get(task.name, list(task.languages["test"])),
            on_pair=on_pair,
        )
        blocks.append(frame.assign(encoder=encoder))
    frame = pd.concat(blocks, ignore_index=True)
    return frame[["encoder", *(c for c in frame.columns if c != "encoder")]]


KEY = ["encoder", "estimator", "intermediate", "target", "language"]


def merge_similarity(previous: pd.DataFrame, fresh: pd.DataFrame, plan: StudyPlan) -> pd.DataFrame:
    """`fresh` with every row of `previous` it does not recompute (another estimator, another target)
    that still belongs to the study (a pair it plans): a run restricted by `--estimators` or `--targets`
    adds to the study's similarities instead of replacing them."""
    pairs = {(i.name, t.name) for i, t in study_pairs(plan)}
    if previous.empty or not set(KEY) <= set(previous.columns):
        return fresh
    ours = [(str(i), str(t)) in pairs for i, t in zip(previous.intermediate, previous.target, strict=True)]
    kept = previous[ours]
    recomputed = pd.MultiIndex.from_frame(fresh[KEY].astype(str))
    kept = kept[~pd.MultiIndex.from_frame(kept[KEY].astype(str)).isin(recomputed)]
    return pd.concat([kept[fresh.columns], fresh], ignore_index=True) if len(kept) else fresh


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
