"""The findings page: every research question answered from one or more finished studies, on one page.

`xlt findings DIR [DIR ...]` rebuilds each study's report (`build_report`) and writes one section per
question. Under each question every study that measured it gives its answer: the tests that survive the
multiple-comparison control on converged stages with 2+ seeds (as the report's own Findings), or why
nothing does (underpowered, or no effect larger than the MDE), the languages an effect holds for, and the
commands that reproduce it. Nothing on the page is written by hand: rerunning the commands rewrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from xlt.analysis.ranker import headline
from xlt.core.errors import XltError
from xlt.report.build import ALIGNMENT_QUESTION, STS_QUESTION, Report
from xlt.report.findings import ALPHA, SMALLEST_CORRELATION, Question, answer, counts
from xlt.report.markdown import md_table
from xlt.study.config import StudyConfig, load_study

FOCUS_GROUPS = ("African", "low-resource")


@dataclass(frozen=True)
class StudyFindings:
    directory: Path
    config: StudyConfig
    report: Report


def findings_page(
    studies: Sequence[StudyFindings],
    *,
    examples: Path | None = None,
    confidence: float = 0.95,
    alignments: Sequence[Path] = (),
) -> str:
    """The page's markdown. `examples` is the folder of preset files a study may have been run from;
    `alignments` are output directories of `xlt align` (with `alignment.csv`)."""
    smallest = min((float(s.config.evaluation.smallest_effect) for s in studies), default=0.02)
    lines = [
        "# Findings\n",
        "Written by `xlt findings` from the studies below; every number comes from their results, and the "
        "commands under each study rebuild it. A test counts when it survives q < "
        f"{ALPHA} (Benjamini-Hochberg within its family) and, for effects of trained stages, every stage "
        "it rests on converged, on at least two seeds; `p_holm` is Holm's family-wise adjustment; MDE is "
        f"the smallest effect the design detects with 80% power. The smallest effect of interest is "
        f"{smallest:g} in the metric's units and {SMALLEST_CORRELATION:g} for a Spearman correlation.\n",
        "## Studies\n",
        md_table(_study_table(studies)),
        "",
    ]
    for study in studies:
        lines.append(f"- `{study.config.name}`: {_commands(study, examples)}")
    questions: list[tuple[str, list[str]]] = []
    by_title: dict[str, list[tuple[StudyFindings, Question]]] = {}
    for study in studies:
        for question in study.report.questions:
            by_title.setdefault(question.title, []).append((study, question))
    for title, entries in by_title.items():
        body = []
        for study, question in entries:
            if question.frame.empty:
                continue
            body.append(f"**{study.config.name}**: " + answer(question, smallest).strip())
            holds = _holds_for(question)
            if holds:
                body.append(holds)
            if title == STS_QUESTION:
                body.append(_sts_groups(question.frame))
        questions.append((title, body))
    questions.insert(
        2, ("Does choosing the intermediate by similarity beat a random choice?", _selection(studies))
    )
    questions.append(("How does model size change robustness?", _size(studies)))
    from xlt.report.published import published_section

    questions.append((
        "Against published results",
        published_section([(s.config.name, s.directory, s.report.gains) for s in studies]),
    ))  # fmt: skip
    if alignments:
        # right after the in-study alignment question, which says where to look when no study aligns
        learned = ("What does a learned alignment buy? (`xlt align`)", _align(alignments, confidence))
        at = next((i for i, (title, _) in enumerate(questions) if title == ALIGNMENT_QUESTION), None)
        if at is None:
            questions.append(learned)
        else:
            if not questions[at][1]:
                questions[at] = (
                    ALIGNMENT_QUESTION,
                    [
                        "No study here trains aligned stages; the projections `xlt align` learns on parallel "
                        "data, applied to the same encoder, are compared in the next section."
                    ],
                )
            questions.insert(at + 1, learned)
    for title, body in questions:
        lines.append(f"\n## {title}\n")
        if body:
            lines.extend(f"{entry}\n" for entry in body)
        else:
            lines.append("Not measured by these studies.\n")
    return "\n".join(lines) + "\n"


def _study_table(studies: Sequence[StudyFindings]) -> pd.DataFrame:
    rows = []
    for study in studies:
        gains = study.report.gains
        counted = int(counts(gains).sum()) if not gains.empty else 0
        rows.append(
            {
                "study": study.config.name,
                "directory": str(study.directory),
                "config": study.config.hash()[:12],
                "encoders": ", ".join(study.config.encoders),
                "seeds": len(study.config.seeds),
                "stages finished": _stages_finished(study),
                "test items": _test_items(study.config),
                "precision": _precisions(study.directory),
                "gain tests": len(gains),
                "counted (converged, 2+ seeds)": counted,
            }
        )
    return pd.DataFrame(rows)


def _test_items(config: StudyConfig) -> str:
    """How much of each test set the study scores: every item, or its cap per language (a cap the issue
    asks to state beside the answers it limits); Tatoeba's own cap when the study checks Tatoeba."""
    evaluation = config.evaluation
    text = f"first {evaluation.max_examples} per language" if evaluation.max_examples else "all"
    targets = {entry.task for entry in config.targets}
    if "tatoeba" in config.task_names() and "tatoeba" not in targets:  # the check of trained encoders
        pairs = evaluation.tatoeba.max_examples or evaluation.max_examples
        text += f"; Tatoeba {f'first {pairs} pairs' if pairs else 'all pairs'}"
    return text


def _stages_finished(study: StudyFindings) -> str:
    """ "N of M": the study's finished stages against its plan (a study still running, or resumed later,
    answers from the N)."""
    from xlt.runs.store import RunStore
    from xlt.study.plan import build_plan
    from xlt.study.stage_files import usable

    try:
        stages = build_plan(study.config).stages
    except XltError:  # e.g. a custom task file that is no longer where the study found it
        return "?"
    store = RunStore(study.directory)
    # damaged, expired or stale stages do not count: their results are not read
    return f"{sum(usable(store, stage) for stage in stages)} of {len(stages)}"


def _precisions(directory: Path) -> str:
    """The training and evaluation precisions its result rows were computed in (bf16 on CPUs with AMX or
    AVX512-BF16, else fp32), so that a study continued on another machine shows that it mixes them."""
    path = directory / "results.csv"
    if not path.is_file():
        return "-"
    rows = pd.read_csv(path, usecols=lambda c: c in ("train_precision", "eval_precision"))
    found = {str(v) for column in rows.columns for v in rows[column].dropna().unique()}
    return ", ".join(sorted(found)) or "-"


def _commands(study: StudyFindings, examples: Path | None) -> str:
    """How to rerun the study: from its preset when one has the same config, else from its directory;
    `xlt similarity` where there are intermediates to compare."""
    preset = _matching_preset(study.config, examples)
    source = str(preset) if preset is not None else str(study.directory)
    where = study.directory
    run = f"xlt run {source}" + (f" --output {where}" if preset is not None else "")
    config = study.config
    similarity = any(config.intermediates_for(entry) for entry in config.targets)
    return f"`{run}{f' && xlt similarity {where}' if similarity else ''} && xlt report {where}`"


def _matching_preset(config: StudyConfig, examples: Path | None) -> Path | None:
    if examples is None or not examples.is_dir():
        return None
    for path in sorted(examples.glob("*.yaml")):
        try:
            if load_study(path).hash() == config.hash():
                return path
        except Exception:
            continue
    return None


def _holds_for(question: Question) -> str:
    """For per-language effects that survive: the languages each holds for, by sign."""
    frame = question.frame
    if not question.per_stage or "members" not in frame or frame.empty:
        return ""
    survivors = frame[counts(frame) & (frame.q < ALPHA) & (frame.members == frame.language)]
    if survivors.empty:
        return ""
    # the encoder only where the question tells encoders apart (a study of several)
    keys = [c for c in ("target", "variant", "intermediate", "suite") if c in survivors]
    keys = ["encoder", *keys] if "encoder" in question.labels else keys
    parts = []
    for key, block in survivors.groupby(keys, sort=True):
        name = " / ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        up = sorted(block[block[question.effect] > 0].language.astype(str))
        down = sorted(block[block[question.effect] < 0].language.astype(str))
        parts.append(f"{name}: " + "; ".join(
            f"{sign} in {', '.join(langs)}" for sign, langs in (("higher", up), ("lower", down)) if langs
        ))  # fmt: skip
    return "Holds for: " + " | ".join(parts) + "."


def _selection(studies: Sequence[StudyFindings]) -> list[str]:
    """The learned ranker and every estimator against random choice, on held-out targets and languages."""
    body = []
    for study in studies:
        ranking = study.report.ranker
        if ranking is None or ranking.empty:
            continue
        table = headline(ranking)
        random = table[table.predictor == "random"]
        verdicts = []
        for row in random.itertuples():
            lead = f"{row.minus_ranker:+.4f} [{row.diff_ci_low:+.4f}, {row.diff_ci_high:+.4f}]"
            beats = "beats" if float(row.diff_ci_low) > 0 else "does not beat"  # type: ignore[arg-type]
            verdicts.append(f"{row.scheme} ({row.encoder}): the ranker {beats} random (its lead {lead})")
        body.append(
            f"**{study.config.name}**: top-1 shortfall (best gain minus the chosen one, lower is better); "
            + "; ".join(verdicts)
            + ".\n\n"
            + md_table(table[["encoder", "scheme", "predictor", "mean", "ci_low", "ci_high", "cases"]])
        )
    return body


def _sts_groups(contrasts: pd.DataFrame) -> str:
    """Every STS-minus-others contrast of the focus groups and the non-English languages beside them,
    surviving or not: the question is about these groups, so their rows are shown either way."""
    shown = contrasts[contrasts.language.isin([*FOCUS_GROUPS, "high-resource", "non-English"])]
    columns = ["target", "intermediate", "language", "compared", "seeds", "sts_minus_others"]
    columns += ["ci_low", "ci_high", "p", "q", "mde", "convergence"]
    return (
        "STS minus the mean of the other intermediates (the baseline cancels), per language group, with "
        "the interval honest about seeds and the family's q:\n\n" + md_table(shown[columns])
    )


def _size(studies: Sequence[StudyFindings]) -> list[str]:
    body = []
    for study in studies:
        slopes = study.report.size_slopes
        if slopes.empty:
            continue
        surviving = slopes[slopes.q < ALPHA] if "q" in slopes else slopes.iloc[0:0]
        shown = slopes.drop(columns=[c for c in ("family", "p_holm") if c in slopes])
        body.append(
            f"**{study.config.name}**: {len(surviving)} of {len(slopes)} slopes (score or drop per tenfold "
            f"more parameters) survive q < {ALPHA} (Benjamini-Hochberg within the perturbed-score slopes "
            f"and within the drop slopes); every slope is in `{study.directory}/report/size_slopes.csv`."
            "\n\n" + md_table(shown.sort_values("p").head(10))
        )
    return body


def _align(directories: Sequence[Path], confidence: float) -> list[str]:
    """Per `xlt align` run: each method's mean change over languages per evaluation, with a t interval and
    p-value over languages (the languages are the units: the question is what alignment buys a language),
    Benjamini-Hochberg q within the run's tests, the share of languages it improves, and the same for the
    African and low-resource groups."""
    from xlt.analysis.inference import adjust_families
    from xlt.analysis.languages import language_groups

    body = []
    for directory in directories:
        frame = pd.read_csv(directory / "alignment.csv").dropna(subset=["delta"])
        rows = []
        for (evaluation, method), block in frame.groupby(["evaluation", "method"], sort=False):
            groups = {g.name: g.members for g in language_groups(list(block.language))}
            for group in ("all", *(g for g in ("African", "low-resource") if g in groups)):
                members = block if group == "all" else block[block.language.isin(groups[group])]
                deltas = members.delta.to_numpy(dtype=float)
                rows.append({
                    "evaluation": evaluation, "method": method, "languages": group, "n": len(deltas),
                    "mean_delta": deltas.mean(), **_t_interval(deltas, confidence),
                    "improved": f"{int((deltas > 0).sum())}/{len(deltas)}", "family": "alignment changes",
                })  # fmt: skip
        table = pd.DataFrame(rows)
        if table.empty:
            body.append(f"**{directory}**: no method was fitted (no language had parallel data).")
            continue
        table = adjust_families(table).drop(columns=["family", "p_holm"])
        overall = table[table.languages == "all"]
        best = overall.loc[overall.groupby("evaluation").mean_delta.idxmax()]
        claims = []
        for row in best.to_dict("records"):
            low, high, mean = float(row["ci_low"]), float(row["ci_high"]), float(row["mean_delta"])
            surviving = float(row["q"]) < ALPHA
            verdict = ("helps" if mean > 0 else "hurts") if surviving else "does not change"
            claims.append(
                f"{row['evaluation']}: the best method, {row['method']}, {verdict} it on average "
                f"({mean:+.3f} [{low:+.3f}, {high:+.3f}], q {float(row['q']):.3f}, better in "
                f"{row['improved']} languages)"
            )
        languages = frame.language.nunique()
        body.append(
            f"**{directory}** ({languages} languages; {confidence:.0%} t interval over languages; q: "
            f"Benjamini-Hochberg over the {len(table)} tests below; a change counts when q < {ALPHA}): "
            + "; ".join(claims)
            + "."
        )
        order = ["evaluation", "languages", "mean_delta"]
        body.append(md_table(table.sort_values(order, ascending=[True, True, False])))
    return body


def _t_interval(values: np.ndarray, confidence: float) -> dict[str, float]:
    """The t interval of the mean and the two-sided one-sample t-test p-value (NaN below 2 values; a
    constant sample has no spread: p 1 at mean 0, else 0)."""
    n = len(values)
    if n < 2:
        return {"ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    mean, se = float(values.mean()), float(values.std(ddof=1) / np.sqrt(n))
    if se == 0:
        return {"ci_low": mean, "ci_high": mean, "p": 1.0 if mean == 0 else 0.0}
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return {"ci_low": mean - half, "ci_high": mean + half, "p": p}
