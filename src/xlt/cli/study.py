"""`xlt run`, `xlt train-eval`, `xlt status` and `xlt results`: running studies and reading them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from xlt.cli.app import DataDirOption, app, console, err_console, study_dir_of
from xlt.core.errors import ConfigError

if TYPE_CHECKING:
    from xlt.runs.store import RunStore
    from xlt.study.plan import StudyPlan


@app.command("run")
def run_command(
    study: Annotated[
        Path, typer.Argument(help="study YAML file, or a study directory to run its recorded config again")
    ],
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="override a setting: key.sub=value")
    ] = None,
    data_dir: DataDirOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="study directory (default: output_dir/name)")
    ] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="run failed stages again")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="show progress bars")] = True,
    executor: Annotated[
        str, typer.Option("--executor", help="local (one stage at a time) or ray (stages as Ray tasks)")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="existing Ray cluster (e.g. auto, ray://host:10001); default: local"
        ),
    ] = None,
    reuse: Annotated[
        list[Path] | None,
        typer.Option(
            "--reuse",
            help="another study directory whose finished stages with the same stage id are taken instead of "
            "built again (repeatable)",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="comma-separated task names: run only their pending stages (and the intermediates they "
            "need); the rest stay pending",
        ),
    ] = None,
) -> None:
    """Run a study: train and evaluate every stage not yet finished, then print the results table."""
    from xlt.study.config import load_study
    from xlt.study.runner import EXECUTORS

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor '{executor}'", f"choose one of: {', '.join(EXECUTORS)}")
    if ray_address is not None and executor != "ray":
        raise ConfigError("--ray-address is given but the executor is local", "add --executor ray")
    if study.is_dir():
        from xlt.study.records import read_study

        if overrides:
            raise ConfigError(
                f"--set cannot change the config recorded in {study}",
                "run the study's YAML file with --set instead (a new config is a new study)",
            )
        config = read_study(study)
        output = output or study
    else:
        config = load_study(study, overrides)
    _run_study(
        config,
        data_dir,
        output,
        retry_failed=retry_failed,
        progress=progress,
        executor=executor,
        ray_address=ray_address,
        reuse=reuse or [],
        only=[name.strip() for name in only.split(",") if name.strip()] if only is not None else [],
    )


def _run_study(
    config: Any,
    data_dir: Path | None,
    output: Path | None,
    *,
    retry_failed: bool,
    progress: bool,
    executor: Any = "local",
    ray_address: str | None = None,
    reuse: list[Path] | None = None,
    only: list[str] | None = None,
) -> tuple[StudyPlan, RunStore]:
    from xlt.core.settings import resolve_data_dir
    from xlt.runs.store import RunStore
    from xlt.study.preflight import preflight
    from xlt.study.records import record_study
    from xlt.study.results import render, write_results
    from xlt.study.runner import run_plan

    data = resolve_data_dir(data_dir)
    root = study_dir_of(config, output)
    checked = preflight(config, data, root)  # every problem at once, before any stage starts
    for warning in checked.warnings:
        err_console.print(Text.assemble(("warning:", "yellow"), " ", warning), soft_wrap=True)
    plan = checked.plan
    store = RunStore(root)
    _check_reuse(reuse or [], root)
    _check_only(only or [], plan)
    with store.locked():
        record_study(store.root, config, err_console)
        outcome = run_plan(
            plan,
            store,
            data,
            retry_failed=retry_failed,
            console=err_console,
            show_progress=progress,
            executor=executor,
            ray_address=ray_address,
            reuse=reuse or [],
            only=only or [],
        )
        payload = write_results(plan, store)
    render(payload, console)
    adopted = f" ({len(outcome.adopted)} from other studies)" if outcome.adopted else ""
    deferred = f", {len(outcome.deferred)} left pending (--only)" if outcome.deferred else ""
    err_console.print(
        f"{len(outcome.done)} stage(s) run, {len(outcome.reused)} reused{adopted}, "
        f"{len(outcome.failed)} failed, {len(outcome.skipped)} skipped{deferred} in "
        f"{outcome.seconds:.0f} s; results in {store.root}"
    )
    if outcome.failed or outcome.skipped:
        first = next(iter(outcome.failed.values()), next(iter(outcome.skipped.values()), ""))
        raise ConfigError(
            f"{len(outcome.failed)} stage(s) failed and {len(outcome.skipped)} were skipped (first: {first})",
            f"see `xlt status {store.root}` and its logs/, fix the cause, then re-run with --retry-failed",
        )
    return plan, store


def _check_reuse(directories: list[Path], root: Path) -> None:
    """Each `--reuse` directory is a study directory other than this one."""
    for directory in directories:
        if not (directory / "stages").is_dir():
            raise ConfigError(
                f"--reuse {directory}: not a study directory (no stages/ in it)",
                "give the directory `xlt run` wrote a study to (it holds stages/ and results.json)",
            )
        if directory.resolve() == root.resolve():
            raise ConfigError(
                f"--reuse {directory} is this study's own directory", "give another study's directory"
            )


def _check_only(tasks: list[str], plan: StudyPlan) -> None:
    known = list(dict.fromkeys(stage.task for stage in plan.stages))
    unknown = [task for task in tasks if task not in known]
    if unknown:
        raise ConfigError(
            f"--only names task(s) not in this study: {', '.join(unknown)}",
            f"choose among the study's tasks: {', '.join(known)}",
        )


@app.command("train-eval")
def train_eval_command(
    task: Annotated[str, typer.Option("--task", help="target task name (see `xlt tasks`) or task file")],
    encoder: Annotated[
        str, typer.Option("--encoder", help="built-in name, HF id or model directory")
    ] = "me5-small",
    limit: Annotated[
        int | None, typer.Option("--limit", help="cap training and per-language test examples")
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", help="optimiser steps per stage (epochs are raised so that all of them run)"),
    ] = None,
    intermediate: Annotated[
        str | None, typer.Option("--intermediate", help="train on this English task first")
    ] = None,
    languages: Annotated[
        str | None, typer.Option("--languages", help="comma-separated test languages")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    align: Annotated[
        str | None,
        typer.Option(
            "--align",
            help="also evaluate with a cross-lingual alignment (e.g. procrustes, least_squares+whiten): "
            "prints both the unaligned and the aligned table",
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="override a setting: key.sub=value")
    ] = None,
    data_dir: DataDirOption = None,
    output: Annotated[Path, typer.Option("--output", help="where the run is kept")] = Path("runs/train-eval"),
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="show progress bars")] = True,
) -> None:
    """Train one target task in English and evaluate it zero-shot, printing the per-language table."""
    from xlt.study.config import study_from_dict
    from xlt.tasks import get_task
    from xlt.tasks.custom import is_task_file

    if is_task_file(task):
        # an absolute path keeps the recorded study usable from any directory
        task = str(Path(task).expanduser().resolve())
    budget: dict[str, Any] = {}
    if limit is not None:
        budget["train_limit"] = limit
    if steps is not None:
        # every epoch has at least one step, so `steps` epochs never end training before `steps` steps
        budget["max_steps"] = steps
        budget["epochs"] = steps
    data: dict[str, Any] = {
        "name": f"{get_task(task).name}-{Path(encoder).name}",
        "encoders": [encoder],
        "seeds": [seed],
        "targets": [{"task": task, "intermediates": [intermediate] if intermediate else []}],
        "training": {"intermediate": dict(budget), "target": dict(budget)},
        "evaluation": {
            "max_examples": limit,
            "languages": languages.split(",") if languages else None,
            "tatoeba": {"enabled": False},  # one target here; studies run the Tatoeba check
        },
        "output_dir": str(output),
    }
    if align is not None:
        data["alignments"] = ["none", align]
    config = study_from_dict(data, overrides, source="train-eval options")
    plan, store = _run_study(config, data_dir, None, retry_failed=True, progress=progress)
    _training_summary(plan, store, steps)


def _training_summary(plan: StudyPlan, store: RunStore, asked: int | None) -> None:
    """One line per trained stage: the steps it ran, its verdict and why it stopped, saying plainly when it
    ran fewer steps than `--steps` asked (early stopping, or an `epochs` cap set with --set)."""
    from xlt.study.stage_files import TRAIN_REPORT

    for stage in plan.stages:
        path = store.stage_dir(stage.stage_id) / TRAIN_REPORT
        if not path.is_file():
            continue
        report = json.loads(path.read_text())
        ran = report["steps"]
        steps = (
            f"ran {ran} of the {asked} steps asked" if asked is not None and ran < asked else f"{ran} steps"
        )
        # stages trained before verdicts were recorded had a fixed budget
        verdict, stopped = report.get("verdict", "fixed"), report.get("stopped", "")
        console.print(
            f"{stage.chain} s{stage.seed}: {steps}; {verdict}" + (f": {stopped}" if stopped else "")
        )


@app.command("status")
def status_command(study_dir: Annotated[Path, typer.Argument(help="study directory")]) -> None:
    """Say which stages of a study are done, failed, running or pending, for each finished stage whether
    its training converged (and why it stopped), and what the pending stages will cost."""
    from xlt.runs.store import WEIGHTS_NOT_KEPT, RunStore
    from xlt.study.plan import build_plan
    from xlt.study.records import read_study
    from xlt.study.stage_files import CONVERGENCE, convergence

    config = read_study(study_dir)
    plan = build_plan(config)
    store = RunStore(study_dir)
    table = Table(title=f"{config.name}: {study_dir}")
    for column in ("stage", "kind", "chain", "variant", "seed", "state", "training", "detail"):
        table.add_column(column)
    colours = {"done": "green", "failed": "red", "running": "yellow", "pending": "white"}
    verdict_colours = {"converged": "green", "capped": "red", "fixed": "yellow", "untrained": "white"}
    statuses = store.status([s.stage_id for s in plan.stages])
    counts: dict[str, int] = {}
    verdicts: dict[str, int] = {}
    for stage, status in zip(plan.stages, statuses, strict=True):
        counts[status.state] = counts.get(status.state, 0) + 1
        verdict, detail = "", status.detail
        if status.state == "done":
            verdict = convergence(store, stage)
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            stopped = (store.outcome(stage.stage_id, CONVERGENCE) or {}).get("stopped", "")
            detail = "; ".join(part for part in (stopped, status.detail) if part)
        table.add_row(
            stage.stage_id,
            stage.kind,
            stage.chain,
            stage.variant,
            str(stage.seed),
            f"[{colours[status.state]}]{status.state}[/]",
            f"[{verdict_colours[verdict]}]{verdict}[/]" if verdict else "",
            detail,
        )
    console.print(table)
    console.print(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if verdicts:
        console.print("training: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())))
    from xlt.study.cost import project

    console.print(project(plan.stages, statuses, store).describe())
    weightless = sum(1 for status in statuses if status.detail == WEIGHTS_NOT_KEPT)
    if weightless:
        console.print(
            f"{weightless} finished stage(s) without their trained weights (weights not kept): results "
            "stand; `xlt run` retrains one only when a pending stage needs it"
        )


@app.command("results")
def results_command(
    study_dir: Annotated[Path, typer.Argument(help="study directory")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or md")] = "table",
    refresh: Annotated[
        bool,
        typer.Option("--refresh", help="recompute the results files from the stages finished so far"),
    ] = False,
) -> None:
    """Print a study's results from disk (`--refresh`: from its finished stages, e.g. while it runs)."""

    from xlt.study.results import gains_frame, read_results, render, scores_frame

    if refresh:
        from xlt.runs.store import RunStore
        from xlt.study.plan import build_plan
        from xlt.study.records import read_study
        from xlt.study.results import write_results

        write_results(build_plan(read_study(study_dir)), RunStore(study_dir))
    payload = read_results(study_dir)
    if fmt == "table":
        render(payload, console)
    elif fmt == "json":
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    elif fmt in ("csv", "md"):
        frame = gains_frame(payload) if payload["gains"] else scores_frame(payload)
        sys.stdout.write(frame.to_csv(index=False) if fmt == "csv" else _markdown(frame))
    else:
        raise ConfigError(f"unknown format '{fmt}'", "use --format table, csv, json or md")


def _markdown(frame: Any) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    cells = [
        "| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return header + "\n".join(cells) + "\n"
