"""Execution of a study plan: finished stages are reused, interrupted ones restart, failures are recorded."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xlt.core.errors import XltError
from xlt.core.io import atomic_write_json
from xlt.evaluation.zero_shot import evaluate_language
from xlt.models.encoders import encoder_info
from xlt.models.sentence import SentenceEncoder
from xlt.runs.store import RunStore
from xlt.study.plan import Stage, StudyPlan
from xlt.study.stage_files import PREDICTIONS
from xlt.training.kinds import make_kind
from xlt.training.kinds.base import TaskKind
from xlt.training.loop import fit
from xlt.training.robust import SmoothedKind

log = logging.getLogger("xlt")


@dataclass
class RunOutcome:
    done: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@contextmanager
def stage_log(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    previous = log.level
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
        handler.close()


def _load_encoder(stage: Stage, store: RunStore) -> SentenceEncoder | None:
    if encoder_info(stage.encoder).kind == "lexical":
        return None
    encoder = SentenceEncoder(stage.encoder)
    if stage.parent is not None:
        encoder.load_trained(store.stage_dir(stage.parent.stage_id))
        log.info("loaded encoder trained by %s", stage.parent.stage_id)
    return encoder


def execute_stage(stage: Stage, store: RunStore, data_dir: Path, progress: Progress | None = None) -> None:
    task = stage.task_spec
    english = task.languages["train"][0] if "train" in task.languages else None
    spec = stage.spec()
    with store.building(stage.stage_id, spec) as out, stage_log(store.log_path(stage.stage_id)):
        log.info("stage %s: %s", stage.stage_id, json.dumps(spec, sort_keys=True))
        encoder = _load_encoder(stage, store)
        kind = None
        if encoder is not None and stage.training is not None and english is not None:
            kind = make_kind(encoder, task, stage.training)
            label = f"  train {stage.chain} s{stage.seed}"
            bar = progress.add_task(label, total=None) if progress else None

            def on_step(step: int, total: int, loss: float) -> None:
                if progress is not None and bar is not None:
                    progress.update(bar, completed=step, total=total, description=f"{label} loss {loss:.3f}")

            train = task.load(data_dir, "train", english)
            # RS-DA: the (limited) training set plus K synonym-substituted copies of each example
            if stage.training.robust.method == "rs-da":
                from xlt.robustness.augment import augment_dataset
                from xlt.robustness.neighbours import load_neighbours

                limit = stage.training.train_limit
                train = train.select(range(min(limit, len(train)))) if limit else train
                train = augment_dataset(
                    train, task.type, load_neighbours(data_dir), stage.training.robust.copies, stage.seed
                )
                log.info(
                    "rs-da: %d training examples with %d augmented copies each",
                    len(train),
                    stage.training.robust.copies,
                )
            training = stage.training
            if training.robust.method == "rs-da":  # the limit was applied before augmenting
                training = training.model_copy(update={"train_limit": None})
            report = fit(
                kind,
                train,
                task.load(data_dir, "dev", english),
                training,
                stage.seed,
                on_step=on_step,
                stage=stage.stage_id,
            )
            if progress is not None and bar is not None:
                progress.remove_task(bar)
            for entry in report.history:
                log.info(
                    "step %d loss %.4f dev %s %.4f",
                    entry["step"],
                    entry["loss"],
                    task.metric,
                    entry["dev_score"],
                )
            log.info(
                "best English dev %.4f at step %d; %.1f s, %d tokens (%s)",
                report.best_dev,
                report.best_step,
                report.seconds,
                report.train_tokens,
                report.precision,
            )
            atomic_write_json(out / "train.json", dataclasses.asdict(report))
            kind.save(out, {"stage": stage.stage_id})
        if stage.kind == "target" and stage.alignment != "none" and encoder is not None:
            from xlt.alignment.fit import fit_alignment
            from xlt.models.sentence import ALIGNMENT_DIR

            encoder.alignment = fit_alignment(
                encoder, task, data_dir, stage.languages, stage.alignment, seed=stage.seed
            )
            encoder.alignment.save(out / ALIGNMENT_DIR)
            log.info("aligned with %s: projections for %s", stage.alignment, ", ".join(encoder.alignment))
        if stage.kind == "target":
            if kind is not None and stage.training is not None and stage.training.robust.method == "rs-noise":
                # randomized smoothing: every test prediction is a vote over noisy passes
                kind = cast(TaskKind, SmoothedKind(kind, stage.training.robust, seed=stage.seed))
            _evaluate(stage, kind, encoder, data_dir, out, progress)
            if stage.robustness is not None and kind is not None:
                from xlt.robustness.suites import ROBUSTNESS, run_suites

                suites = run_suites(
                    stage.robustness,
                    kind,
                    task,
                    data_dir,
                    stage.languages,
                    stage.max_examples,
                    stage.precision,
                )
                atomic_write_json(out / ROBUSTNESS, suites)
        del encoder, kind
        gc.collect()


def _evaluate(
    stage: Stage,
    kind: TaskKind | None,
    encoder: SentenceEncoder | None,
    data_dir: Path,
    out: Path,
    progress: Progress | None,
) -> None:
    task = stage.task_spec
    label = f"  eval {stage.chain} s{stage.seed}"
    bar = progress.add_task(label, total=len(stage.languages)) if progress else None
    predictions: dict[str, Any] = {}
    for language in stage.languages:
        result = evaluate_language(
            task,
            data_dir,
            language,
            kind=kind,
            encoder=encoder,
            max_examples=stage.max_examples,
            precision=stage.precision,
        )
        log.info("%s %s = %.4f (n=%d)", language, task.metric, result.score, result.n)
        predictions[language] = {
            "ids": result.ids,
            "gold": result.gold,
            "pred": result.pred,
            "score": result.score,
            "extra": result.extra,
            "metric": task.metric,
            "files": task.file_hashes("test", language),
        }
        if progress is not None and bar is not None:
            progress.advance(bar)
    if progress is not None and bar is not None:
        progress.remove_task(bar)
    atomic_write_json(out / PREDICTIONS, predictions)


Executor = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = get_args(Executor)


def run_plan(
    plan: StudyPlan,
    store: RunStore,
    data_dir: Path,
    *,
    retry_failed: bool = False,
    console: Console | None = None,
    show_progress: bool = True,
    executor: Executor = "local",
    ray_address: str | None = None,
) -> RunOutcome:
    """Run every stage that has not finished. Finished stages are reused, never rebuilt; failed ones are
    retried only with `retry_failed`; a target whose intermediate did not finish is skipped."""
    console = console or Console(stderr=True)
    outcome = RunOutcome()
    start = time.perf_counter()
    stages = plan.stages
    store.remove_orphans({s.stage_id for s in stages})
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not show_progress, transient=False) as progress:
        study_bar = progress.add_task(f"study {plan.config.name} ({executor})", total=len(stages))
        todo: list[Stage] = []
        for stage in stages:
            if store.is_done(stage.stage_id):
                outcome.reused.append(stage.stage_id)
            elif (failure := store.failure(stage.stage_id)) is not None and not retry_failed:
                outcome.failed[stage.stage_id] = str(failure.get("error"))
            else:
                todo.append(stage)
                continue
            progress.advance(study_bar)

        def finished(stage: Stage, state: str, detail: str) -> None:
            if state == "done":
                outcome.done.append(stage.stage_id)
            elif state == "skipped":
                outcome.skipped[stage.stage_id] = detail
            else:
                outcome.failed[stage.stage_id] = detail
                console.print(f"[red]stage {stage.stage_id} failed:[/red] {detail}")
            progress.advance(study_bar)

        if executor == "ray":
            from xlt.study.ray_executor import run_on_ray

            run_on_ray(todo, plan, store, data_dir, finished, address=ray_address)
        else:
            for stage in todo:
                finished(stage, *run_stage(stage, store, data_dir, progress))
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_stage(
    stage: Stage, store: RunStore, data_dir: Path, progress: Progress | None = None
) -> tuple[str, str]:
    """Build one stage whose intermediate (if any) is finished: ("done" | "failed" | "skipped", detail)."""
    parent = stage.parent.stage_id if stage.parent is not None else None
    if parent is not None and not store.is_done(parent):
        return "skipped", f"its intermediate stage {parent} did not finish"
    try:
        execute_stage(stage, store, data_dir, progress)
    except XltError as exc:
        return "failed", exc.one_line()
    except Exception as exc:
        return "failed", f"{type(exc).__name__}: {exc}"
    return "done", ""
