"""`xlt similarity`, `xlt report` and `xlt align`: the analyses of finished studies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xlt.cli.app import DataDirOption, app, console, err_console, study_dir_of
from xlt.core.errors import ConfigError


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
    targets: Annotated[
        str | None,
        typer.Option(
            "--targets",
            help="for a study: only the pairs of these targets (comma-separated); the study's similarity.csv "
            "keeps its other rows",
        ),
    ] = None,
    ranker: Annotated[
        str,
        typer.Option(
            "--ranker",
            help="model of the learned intermediate-task ranker evaluated on a study with gains: ridge, "
            "gbm, or none",
        ),
    ] = "ridge",
) -> None:
    """Similarity of every (intermediate, target) pair by each estimator; printed as matrices and saved
    as a long CSV. TaskEmb, LogME, LEEP and NCE need a study's finished stages (NaN otherwise). For a study
    directory with results, the learned ranker that combines the estimators is then evaluated on held-out
    targets and languages against each estimator and random choice."""
    import pandas as pd
    from rich.progress import Progress

    from xlt.core.settings import resolve_data_dir
    from xlt.runs.store import RunStore
    from xlt.similarity.estimators import SimilarityContext, similarity_matrix
    from xlt.similarity.registry import get_estimators
    from xlt.study.config import load_study
    from xlt.study.plan import build_plan
    from xlt.study.records import read_study
    from xlt.study.similarity import (
        SIMILARITY_CSV,
        merge_similarity,
        pairs_from_spec,
        save_similarity,
        study_similarity,
    )

    if ranker not in ("ridge", "gbm", "none"):
        raise ConfigError(f"unknown --ranker '{ranker}'", "use ridge, gbm or none")
    data = resolve_data_dir(data_dir)
    chosen = get_estimators([e.strip() for e in estimators.split(",")] if estimators else None)
    path = Path(source)
    with Progress(console=err_console, transient=True) as progress:
        bar = progress.add_task("similarity", total=None)

        def step(label: str) -> None:
            progress.update(bar, description=label, advance=1)

        if path.is_dir() or (path.suffix in (".yaml", ".yml") and path.is_file()):
            config = read_study(path) if path.is_dir() else load_study(path)
            root = path if path.is_dir() else study_dir_of(config, None)
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
                targets=[t.strip() for t in targets.split(",") if t.strip()] if targets else None,
                on_missing_weights=_missing_weights_note([e.name for e in chosen if e.needs_stages]),
            )
            target = output or root / SIMILARITY_CSV
            if target.is_file():  # what this run did not recompute stays
                fresh = len(frame)
                frame = merge_similarity(pd.read_csv(target), frame, plan)
                if len(frame) > fresh:
                    err_console.print(
                        f"kept {len(frame) - fresh} similarities of other estimators or targets"
                    )
        elif targets:
            raise ConfigError("--targets applies to a study", "name the targets in INTERMEDIATES:TARGETS")
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
    if ranker != "none" and path.is_dir() and output is None and (path / "results.json").is_file():
        _print_ranker(path, data, ranker)


def _missing_weights_note(names: list[str]) -> Callable[[str, str, str], None]:
    """A note for each finished stage the trained-model estimators could not read: their NaN is then not a
    pair they are undefined for, but weights that were not kept (a study kept in git without them)."""
    verb = "gives NaN where it needs" if len(names) == 1 else "give NaN where they need"

    def note(encoder: str, task: str, stage_id: str) -> None:
        err_console.print(
            f"note: {', '.join(names)} {verb} {task}'s model: its finished stage {stage_id} ({encoder}) was "
            "kept without its weights"
        )

    return note


def _print_ranker(study_dir: Path, data: Path, model: str) -> None:
    from xlt.analysis.ranker import headline
    from xlt.report.build import study_ranker

    evaluation = study_ranker(study_dir, data, model=model)  # type: ignore[arg-type]
    for note in evaluation.notes:
        err_console.print(f"ranker: {note}")
    table = headline(evaluation)
    if table.empty:
        return
    for (encoder, scheme), block in table.groupby(["encoder", "scheme"], sort=False):
        view = Table(
            title=f"learned ranker ({model}), {encoder}: {scheme}, top-1 shortfall (lower is better)"
        )
        for column in ("predictor", "shortfall@1", "95% CI", "minus ranker", "its CI", "cases"):
            view.add_column(column, justify="left" if column == "predictor" else "right")
        for row in block.itertuples():
            minus = getattr(row, "minus_ranker", float("nan"))
            view.add_row(
                str(row.predictor),
                f"{row.mean:.4f}",
                f"[{row.ci_low:.4f}, {row.ci_high:.4f}]",
                "-" if minus != minus else f"{minus:+.4f}",
                "-" if minus != minus else f"[{row.diff_ci_low:+.4f}, {row.diff_ci_high:+.4f}]",
                str(row.cases),
            )
        console.print(view)


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


@app.command("findings")
def findings_command(
    study_dirs: Annotated[
        list[Path], typer.Argument(help="study directories (with results and similarity.csv)")
    ],
    output: Annotated[Path, typer.Option("--output", help="the page to write")] = Path("FINDINGS.md"),
    examples: Annotated[
        Path, typer.Option("--examples", help="preset folder whose files give the reproducing commands")
    ] = Path("examples"),
    data_dir: DataDirOption = None,
    permutations: Annotated[
        int, typer.Option("--permutations", help="permutations for the correlation p-values")
    ] = 10000,
    align: Annotated[
        list[Path] | None,
        typer.Option("--align", help="output directory of `xlt align` (alignment.csv); repeatable"),
    ] = None,
) -> None:
    """Answer every research question from one or more studies on one page (FINDINGS.md): each study's
    report is rebuilt, and under each question every study that measured it gives what survives, where it
    holds and the commands that reproduce it."""
    from xlt.core.io import atomic_path
    from xlt.core.settings import resolve_data_dir
    from xlt.report.build import build_report
    from xlt.report.findings_page import StudyFindings, findings_page
    from xlt.study.records import read_study

    for directory in align or []:  # checked before any study's report is built
        if not (directory / "alignment.csv").is_file():
            raise ConfigError(
                f"{directory} has no alignment.csv", "pass the --output directory of a finished `xlt align`"
            )
    try:
        data: Path | None = resolve_data_dir(data_dir)
    except ConfigError:
        data = None
    studies = []
    for directory in study_dirs:
        config = read_study(directory)
        report = build_report(directory, data, permutations=permutations)
        err_console.print(f"report of {config.name}: {report.markdown}")
        studies.append(StudyFindings(directory, config, report))
    page = findings_page(studies, examples=examples, alignments=align or [])
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp:
        tmp.write_text(page, encoding="utf-8")
    console.print(f"findings of {len(studies)} stud{'y' if len(studies) == 1 else 'ies'} written to {output}")


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
        str,
        typer.Option(
            "--languages",
            help="comma-separated languages (ISO 639-1 or 639-3), or 'all': every language with "
            "parallel data to English",
        ),
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
    if languages.strip() == "all":
        from xlt.alignment.parallel import parallel_languages

        codes = parallel_languages()
    else:
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
