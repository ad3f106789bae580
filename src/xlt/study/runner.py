"""Execution of a study plan: finished stages are reused, interrupted ones resume, failures are recorded.
Each stage is built by `study.execute` (locally here, or on Ray by `study.ray_executor`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from xlt.runs.store import RunStore
from xlt.study.execute import run_stage, stage_provenance
from xlt.study.plan import Stage, StudyPlan
from xlt.study.stage_files import stale_parts
from xlt.study.steps import checkpoint_interval


@dataclass
class RunOutcome:
    done: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    # finished stages reused although built with another precision than `auto` resolves to here
    warnings: dict[str, str] = field(default_factory=dict)
    # finished stages retrained because their weights were not kept and a pending stage needs them
    weights_rebuilt: list[str] = field(default_factory=list)
    # finished stages taken from other study directories (`reuse`), also counted in `reused`
    adopted: list[str] = field(default_factory=list)
    # pending stages left for a later run because `only` did not select them
    deferred: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _depth_first(todo: list[Stage], plan_stages: list[Stage]) -> list[Stage]:
    """`todo` with the stages nothing pending builds on first (the baselines, in plan order), then each
    other stage followed by the pending stages built on it: an intermediate's weights are needed only
    until its targets finish, so a study stopped at any point (a session's end) leaves at most one
    intermediate whose targets still need it, and every finished intermediate has its baselines.
    Intermediates run one chain at a time, all its seeds before the next chain: a study stopped part-way
    has gains with seed intervals for the chains it finished, not one seed of every chain. Chains rank by
    their first stage in `plan_stages` (the whole plan), so a chain whose first seeds finished before a stop
    is completed before the next chain starts."""
    pending = {stage.stage_id for stage in todo}
    children: dict[str, list[Stage]] = {}
    for stage in todo:
        if stage.parent is not None and stage.parent.stage_id in pending:
            children.setdefault(stage.parent.stage_id, []).append(stage)
    ordered: list[Stage] = []

    def emit(stage: Stage) -> None:
        ordered.append(stage)
        for child in children.get(stage.stage_id, []):
            emit(child)

    roots = [stage for stage in todo if stage.parent is None or stage.parent.stage_id not in pending]
    chains: dict[tuple[str, str], int] = {}
    for stage in plan_stages:
        chains.setdefault((stage.encoder, stage.chain), len(chains))

    def order(stage: Stage) -> tuple[bool, int, int]:
        if stage.stage_id not in children:
            return (False, 0, 0)  # plan order (the sort is stable)
        return (True, chains[(stage.encoder, stage.chain)], stage.seed)

    # stages that train nothing others build on first (the baselines every gain needs), then each
    # intermediate chain, seed by seed, each stage followed by its targets
    for stage in sorted(roots, key=order):
        emit(stage)
    return ordered


def _with_weights(
    todo: list[Stage],
    store: RunStore,
    console: Console,
    outcome: RunOutcome,
    donors: Sequence[RunStore] = (),
) -> list[Stage]:
    """`todo` with every finished parent whose weights were not kept (a study kept in git) retrained just
    before the first pending stage that loads them, unless one of the `donors` (the `--reuse` studies)
    holds the same stage with its weights: then that one replaces it (`RunStore.take_weights`)."""
    ordered: list[Stage] = []
    queued = {stage.stage_id for stage in todo}
    for stage in todo:
        parent = stage.parent
        if parent is not None and parent.stage_id not in queued and store.missing_weights(parent.stage_id):
            queued.add(parent.stage_id)
            donor = next((d for d in donors if store.take_weights(parent.stage_id, d)), None)
            if donor is not None:
                action = f"took the same stage with its weights from {donor.root}"
            else:
                action = "retraining it"
                if parent.stage_id in outcome.reused:
                    outcome.reused.remove(parent.stage_id)
                outcome.weights_rebuilt.append(parent.stage_id)
                ordered.append(parent)
            console.print(
                Text.assemble(
                    (f"stage {parent.stage_id}:", "yellow"),
                    f" finished, but its weights were not kept; {action} for {stage.stage_id}",
                ),
                soft_wrap=True,
            )
        ordered.append(stage)
    return ordered


def _select(todo: list[Stage], tasks: set[str]) -> tuple[list[Stage], list[Stage]]:
    """(the pending stages of `tasks` and the pending stages they build on, the others), in `todo` order."""
    needed: set[str] = set()
    for stage in todo:
        if stage.task in tasks:
            link: Stage | None = stage
            while link is not None:
                needed.add(link.stage_id)
                link = link.parent
    return [s for s in todo if s.stage_id in needed], [s for s in todo if s.stage_id not in needed]


def _adopt(stages: list[Stage], store: RunStore, sources: list[RunStore]) -> list[str]:
    """Take every stage `store` has not finished from the first source that has it (weights kept first)."""
    adopted = []
    for stage in stages:
        if store.finished(stage.stage_id):
            continue
        ranked = sorted(sources, key=lambda source: not source.holds_weights(stage.stage_id))
        if any(store.adopt(stage.stage_id, source) for source in ranked):
            adopted.append(stage.stage_id)
    return adopted


def precision_warning(stage: Stage, store: RunStore) -> str | None:
    """Why a finished stage's results may differ from what this machine would compute: `precision: auto`
    resolved to another precision where it was built. The stage is still reused (its id names the setting,
    not the resolution), and its result rows carry the precision it was built with."""
    recorded = store.provenance(stage.stage_id)
    if recorded is None:
        return None
    here = stage_provenance(stage)
    differs = [
        f"{key} {recorded.get(key)} (here: {here[key]})"
        for key in ("train_precision", "eval_precision")
        if key in recorded and recorded[key] != here[key]
    ]
    return f"reused, but built with {', '.join(differs)}" if differs else None


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
    reuse: Sequence[Path] = (),
    only: Sequence[str] = (),
) -> RunOutcome:
    """Run every stage that has not finished. Finished stages are reused, never rebuilt; failed ones are
    retried only with `retry_failed`; a target whose intermediate did not finish is skipped. A stage this
    study has not finished that one of the `reuse` study directories has (same stage id) is taken from
    there (`RunStore.adopt`), from a directory that still holds its weights if any does; a target stage
    whose model one of them trained (same training key, weights kept) copies that model instead of
    training it, and is evaluated as this study says; a finished stage without its weights that a
    pending stage needs is taken from one of them that holds it with its weights before it is retrained.
    With `only` (task names), only the pending stages of those tasks run, with the intermediates they build
    on; the rest stay pending for a later run (`deferred`)."""
    console = console or Console(stderr=True)
    outcome = RunOutcome()
    start = time.perf_counter()
    stages = plan.stages
    checkpoint_interval()  # a malformed setting stops the study before any stage, not inside each
    store.remove_orphans({s.stage_id for s in stages})
    donors = [RunStore(path) for path in reuse]
    outcome.adopted = _adopt(stages, store, donors)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not show_progress, transient=False) as progress:
        study_bar = progress.add_task(f"study {plan.config.name} ({executor})", total=len(stages))
        todo: list[Stage] = []
        for stage in stages:
            if stale := stale_parts(store, stage):  # results of a known, since fixed bug: rebuilt below
                store.expire(stage.stage_id, "; ".join(f"{part}: {why}" for part, why in stale.items()))
            if store.finished(stage.stage_id) and (damage := store.damage(stage.stage_id)) is not None:
                outcome.warnings[stage.stage_id] = f"damaged ({damage}): rebuilt"
                console.print(
                    Text.assemble(
                        (f"stage {stage.stage_id}:", "yellow"), f" damaged ({damage}); rebuilding it"
                    ),
                    soft_wrap=True,
                )
                todo.append(stage)
                continue
            if store.is_done(stage.stage_id):
                outcome.reused.append(stage.stage_id)
                if (warning := precision_warning(stage, store)) is not None:
                    outcome.warnings[stage.stage_id] = warning
                    console.print(Text.assemble((f"stage {stage.stage_id}:", "yellow"), " ", warning))
            elif (failure := store.failure(stage.stage_id)) is not None and not retry_failed:
                outcome.failed[stage.stage_id] = str(failure.get("error"))
            else:
                todo.append(stage)
                continue
            progress.advance(study_bar)
        if only:
            todo, deferred = _select(todo, set(only))
            outcome.deferred = [stage.stage_id for stage in deferred]
            progress.advance(study_bar, len(deferred))
        todo = _with_weights(_depth_first(todo, stages), store, console, outcome, donors)
        progress.update(study_bar, total=len(stages) + len(outcome.weights_rebuilt))

        def finished(stage: Stage, state: str, detail: str) -> None:
            if state == "done":
                outcome.done.append(stage.stage_id)
            elif state == "skipped":
                outcome.skipped[stage.stage_id] = detail
            else:
                outcome.failed[stage.stage_id] = detail
                # a Text: brackets in an error ('[neutral]') are not markup
                console.print(
                    Text.assemble((f"stage {stage.stage_id} failed:", "red"), " ", detail), soft_wrap=True
                )
            progress.advance(study_bar)

        if executor == "ray":
            from xlt.study.ray_executor import run_on_ray

            run_on_ray(todo, plan, store, data_dir, finished, address=ray_address, donors=donors)
        else:
            for stage in todo:
                finished(stage, *run_stage(stage, store, data_dir, progress, donors))
    outcome.seconds = time.perf_counter() - start
    return outcome
