"""`xlt report STUDY_DIR`: one page that says whether similarity predicts transfer, for which targets and
languages. Writes report/report.md with PNG figures beside it and a self-contained report/report.html
(figures inlined), plus the analysis tables as CSV."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.analysis.inference import FEW_SEEDS
from xlt.analysis.languages import AFRICAN, SIZE_SOURCE, canonical, pretraining_gib
from xlt.analysis.ranker import Model, RankerEvaluation, evaluate_ranker, language_features
from xlt.analysis.robust_transfer import RobustTransferAnalysis, analyse_robustness
from xlt.analysis.transfer import MACRO, TransferAnalysis, analyse, join_similarity
from xlt.analysis.typology import FEATURE_SET, distance_to_english, dominant_script
from xlt.core.errors import ConfigError, XltError
from xlt.report import figures
from xlt.report.findings import ALPHA, Question, counts, findings_section
from xlt.report.markdown import html_page, md_table, pivot, write_csv, write_text
from xlt.report.ranker import ranker_section
from xlt.report.robustness import robustness_section
from xlt.report.similarity_robustness import similarity_robustness_section
from xlt.report.size import size_section
from xlt.report.xtreme_r import xtreme_r_section
from xlt.study.results import gains_frame, read_results, scores_frame
from xlt.study.similarity import SIMILARITY_CSV
from xlt.tasks import get_task

REPORT_DIR = "report"
ENGLISH = {"en", "eng"}
STS_QUESTION = "Does STS help African and low-resource languages more than other intermediates?"
ALIGNMENT_QUESTION = "What does cross-lingual alignment buy? (aligned - unaligned, same stages)"


@dataclass(frozen=True)
class Report:
    markdown: Path
    html: Path
    analysis: TransferAnalysis | None
    # what the findings page (`report/findings_page.py`) reads: the research questions with their tests,
    # the standard-training gains, the learned ranker's evaluation and the size slopes
    questions: list[Question] = field(default_factory=list)
    gains: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranker: RankerEvaluation | None = None
    size_slopes: pd.DataFrame = field(default_factory=pd.DataFrame)


def language_table(
    scores: pd.DataFrame,
    gains: pd.DataFrame,
    data_dir: Path | None,
    references: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per (target, language): baseline score, its drop from English, mean gain over intermediates,
    distance to English, script, CC-100 size and whether the language is African.

    `references` maps a target's name to how the study named it: a user's task is found by its task file,
    not by its name."""
    references = references or {}
    rows = []
    baseline = scores[scores.intermediate == "none"].groupby(["target", "language"])["score"].mean()
    language_gains = gains[gains.members == gains.language]
    mean_gain = language_gains.groupby(["target", "language"])["gain"].mean()
    for key, score in baseline.items():
        target, language = str(key[0]), str(key[1])  # type: ignore[index]
        english = [baseline.get((target, e)) for e in ENGLISH if (target, e) in baseline]
        script = "unknown"
        if data_dir is not None:
            from xlt.similarity.inputs import task_texts

            try:
                task = get_task(references.get(target, target))
                script = dominant_script(task_texts(task, data_dir, language=str(language), sample=30))
            except XltError:  # a data file that is not there: the script is simply unknown
                script = "unknown"
        rows.append(
            {
                "target": target,
                "language": language,
                "baseline": score,
                "drop_from_english": (english[0] - score)
                if english and str(language) not in ENGLISH
                else np.nan,
                "mean_gain": mean_gain.get((target, language), np.nan),
                "distance": distance_to_english(str(language)),
                "script": script,
                "cc100_gib": pretraining_gib(str(language)),
                "african": canonical(str(language)) in AFRICAN,
            }
        )
    return pd.DataFrame(rows)


def _task_references(payload: dict[str, Any]) -> dict[str, str]:
    """Target name -> the reference the study gave (a built-in name, or the path of a task file)."""
    references = [entry["task"] for entry in payload["config"].get("targets", [])]
    return {get_task(reference).name: reference for reference in references}


def _standard(gains: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Standard training only when the study has it: robust or aligned variants are not part of the
    gain and similarity analyses."""
    if (gains.variant == "standard").any():
        return gains[gains.variant == "standard"], scores[scores.variant == "standard"]
    return gains, scores


def study_ranker(study_dir: Path, data_dir: Path | None, *, model: Model = "ridge") -> RankerEvaluation:
    """The learned intermediate-task ranker of a study with results and `similarity.csv`, evaluated as in
    its report (`xlt similarity` prints it)."""
    payload = read_results(study_dir)
    gains, scores = _standard(gains_frame(payload), scores_frame(payload))
    joined = join_similarity(gains, pd.read_csv(study_dir / SIMILARITY_CSV))
    languages = language_table(scores, gains, data_dir, _task_references(payload))
    return evaluate_ranker(joined, language_features(languages), model=model)


def build_report(study_dir: Path, data_dir: Path | None = None, *, permutations: int = 10000) -> Report:
    payload = read_results(study_dir)
    gains, scores = gains_frame(payload), scores_frame(payload)
    out = study_dir / REPORT_DIR
    # every variant's scores: robust and aligned systems get their own row
    benchmark = xtreme_r_section(scores, out)
    if gains.empty and scores.empty and not payload.get("robustness"):
        raise ConfigError(f"{study_dir} has no results yet", "run the study's stages first (`xlt run`)")
    figs = out / "figures"
    confidence = float(payload.get("confidence", 0.95))
    gains, scores = _standard(gains, scores)
    transfer = gains[gains.target != "tatoeba"]
    n_seeds = len(payload["config"]["seeds"])
    head: list[str] = [f"# Study report: {payload['study']}\n"]
    head.append(
        f"Config hash `{payload['config_hash']}`, xlt {payload.get('xlt_version')} (git "
        f"`{str(payload.get('git_commit'))[:10]}`). Gains are with-intermediate minus baseline, mean over "
        f"{n_seeds} seed(s); intervals are {round(confidence * 100)}% over test items (paired bootstrap) and "
        "seeds (the seed variance with seeds - 1 degrees of freedom; see the README, 'Statistics'). "
        "Averages over languages are unweighted (macro).\n"
    )
    if n_seeds < FEW_SEEDS:
        head.append(
            f"**With {n_seeds} seed(s) the seed variance is barely estimated**: intervals are wide and "
            f"findings few; run at least {FEW_SEEDS} seeds.\n"
        )
    sections: list[str] = []
    analysis: TransferAnalysis | None = None
    ranking: RankerEvaluation | None = None
    # one table (each language's script is read from its data once): the languages section shows every
    # target but Tatoeba, whose gains are shown apart; the ranker, when it runs, reads Tatoeba's rows too
    similarity_path = study_dir / SIMILARITY_CSV
    ranks = not gains.empty and similarity_path.is_file()
    tabled = (scores, gains) if ranks else (scores[scores.target != "tatoeba"], transfer)
    all_languages = language_table(*tabled, data_dir, _task_references(payload))
    languages = (
        all_languages[all_languages.target != "tatoeba"].reset_index(drop=True)
        if not all_languages.empty
        else all_languages
    )
    if transfer.empty:
        sections += _scores_section(payload, scores, tatoeba_gains=not gains.empty)
    else:
        sections += _gains_section(payload, gains, transfer, figs)
    sections += benchmark
    if not gains.empty:
        # Tatoeba's gains too: like X-STILTs' retrieval targets (and LAReQA here), the check scores the
        # intermediate-trained encoder with no target training, and similarity may predict that change
        sections.append("\n## Does similarity predict the gain?\n")
        if not ranks:
            sections.append(
                f"No `{SIMILARITY_CSV}` in the study directory: run `xlt similarity {study_dir}` first.\n"
            )
        else:
            joined = join_similarity(gains, pd.read_csv(similarity_path))
            analysis = analyse(joined, permutations=permutations, confidence=confidence)
            sections += _similarity_section(analysis, out, confidence)
            if not all_languages.empty:
                ranking = evaluate_ranker(joined, language_features(all_languages), confidence=confidence)
                sections += ranker_section(ranking, out, confidence)
    robustness = pd.DataFrame(payload.get("robustness") or [])
    robust_gains = pd.DataFrame(payload.get("robust_gains") or [])
    robust_analysis: RobustTransferAnalysis | None = None
    if not robustness.empty:
        sections += robustness_section(robustness, robust_gains, out)
        if similarity_path.is_file():
            robust_analysis = analyse_robustness(
                robustness,
                robust_gains,
                pd.read_csv(similarity_path),
                permutations=permutations,
                confidence=confidence,
            )
            sections += similarity_robustness_section(robust_analysis, out)
        sections += size_section(robustness, out, confidence)
    slopes_path = out / "size_slopes.csv"
    slopes = pd.read_csv(slopes_path) if not robustness.empty and slopes_path.is_file() else pd.DataFrame()
    sections += _languages_section(languages, out)

    smallest = float(payload["config"].get("evaluation", {}).get("smallest_effect", 0.02))
    alignment_gains = pd.DataFrame(payload.get("alignment_gains") or [])
    sts_contrasts = pd.DataFrame(payload.get("sts_contrasts") or [])
    questions = _questions(
        gains, analysis, robustness, robust_gains, robust_analysis, alignment_gains, sts_contrasts
    )
    findings = findings_section(questions, smallest)
    markdown = "\n".join([*head, *findings, *sections])
    md_path, html_path = out / "report.md", out / "report.html"
    write_text(md_path, markdown)
    write_text(html_path, html_page(markdown, out))
    # every standard-training gain, Tatoeba's too (the X-STILTs retrieval claim is checked on them)
    return Report(md_path, html_path, analysis, questions, gains, ranking, slopes)


def _scores_section(payload: dict[str, Any], scores: pd.DataFrame, *, tatoeba_gains: bool) -> list[str]:
    """For a study without transfer gains: why there are none, and its scores per language (mean over
    seeds). `tatoeba_gains`: the study has gains, all of them its Tatoeba checks."""
    config = payload["config"]
    with_intermediates = config.get("intermediates") or any(
        entry.get("intermediates") for entry in config.get("targets", [])
    )
    if not with_intermediates:
        why = (
            "No gains: the study has no intermediate tasks (add intermediates to compare each with this "
            "baseline)."
        )
    elif tatoeba_gains:
        why = "No transfer gains: the study's only gains are its Tatoeba checks (in `gains.csv`)."
    else:
        why = "No gains yet: no intermediate-trained stage has finished (`xlt run` continues the study)."
    if scores.empty:
        return [why + "\n"]
    shown = scores.assign(seeds=scores.groupby(["encoder", "target", "variant"]).seed.transform("nunique"))
    return [
        why + " Its scores, mean over seeds, per language:\n\n",
        pivot(shown, ["encoder", "target", "variant", "metric", "seeds"], "score"),
    ]


def _questions(
    gains: pd.DataFrame,
    analysis: TransferAnalysis | None,
    robustness: pd.DataFrame,
    robust_gains: pd.DataFrame,
    robust_analysis: RobustTransferAnalysis | None,
    alignment_gains: pd.DataFrame,
    sts_contrasts: pd.DataFrame,
) -> list[Question]:
    """The study's research questions, each with its tests (rows with p, q and, but for correlations, MDE)."""
    with_tests = gains[gains.q.notna()] if "q" in gains else gains.iloc[0:0]
    correlations = pd.DataFrame()
    if analysis is not None and "q" in analysis.correlations:
        spearman = analysis.correlations[analysis.correlations.method == "spearman"]
        # a row's target (per-target view) or language (per-language views); pooled views have neither
        where = pd.Series("all", index=spearman.index, dtype=object)
        for column in ("language", "target"):
            if column in spearman:
                where = spearman[column].where(spearman[column].notna(), where)
        correlations = spearman.assign(where=where)

    def keyed(frame: pd.DataFrame, keys: list[str]) -> list[str]:
        """`keys`, led by the encoder where the rows come from several (else same-looking rows differ)."""
        several = "encoder" in frame and frame["encoder"].nunique() > 1
        return ["encoder", *keys] if several else keys

    robust_keys = keyed(
        pd.concat([robustness, robust_gains]), ["target", "variant", "intermediate", "suite", "language"]
    )
    return [
        Question(
            "Does intermediate training change zero-shot transfer?",
            with_tests,
            "gain",
            keyed(with_tests, ["target", "intermediate", "language"]),
            "gains.csv",
        ),
        Question(
            "Does task similarity predict the gain? (Spearman)",
            correlations,
            "coefficient",
            ["estimator", "view", "where"],
            "report/correlations.csv",
            per_stage=False,
            scale="correlation",
            note=_unconverged_pairs(gains) if not correlations.empty else "",
        ),
        Question(
            STS_QUESTION,
            sts_contrasts if "q" in sts_contrasts else pd.DataFrame(),
            "sts_minus_others",
            keyed(sts_contrasts, ["target", "intermediate", "language"]),
            "sts_contrasts.csv",
        ),
        Question(
            "What do perturbations cost? (drop: clean - perturbed)",
            robustness if "q" in robustness else pd.DataFrame(),
            "drop",
            robust_keys,
            "robustness.csv",
        ),
        Question(
            "Does robust training help under perturbation? (robust - standard, perturbed inputs)",
            robust_gains if "q" in robust_gains else pd.DataFrame(),
            "gain",
            robust_keys,
            "robust_gains.csv",
        ),
        Question(
            "Does task similarity predict robustness? (Spearman, pooled over targets)",
            robust_analysis.summary() if robust_analysis is not None else pd.DataFrame(),
            "coefficient",
            ["outcome", "estimator"],
            "report/robustness_correlations.csv",
            per_stage=False,
            scale="correlation",
        ),
        Question(
            ALIGNMENT_QUESTION,
            alignment_gains if "q" in alignment_gains else pd.DataFrame(),
            "gain",
            ["target", "variant", "intermediate", "language"],
            "alignment_gains.csv",
        ),
    ]


def _unconverged_pairs(gains: pd.DataFrame) -> str:
    """How many of the (intermediate, target) gains a correlation rests on come from a chain with a stage
    that did not converge: a correlation pools every gain, so the page says so instead of dropping them."""
    if gains.empty or "convergence" not in gains:
        return ""
    pairs = gains.groupby(["target", "intermediate"]).convergence.agg(
        lambda v: bool(v.isin(["capped", "fixed"]).any())
    )
    if not pairs.any():
        return ""
    named = ", ".join(f"{intermediate} > {target}" for target, intermediate in pairs[pairs].index)
    return (
        f"The correlations include the gains of {int(pairs.sum())} of {len(pairs)} (intermediate, target) "
        f"pairs whose chains have a stage that did not converge ({named})."
    )


def _surviving(frame: pd.DataFrame, index: str, columns: str) -> pd.DataFrame | None:
    """Where each cell of a gain heat map survives (q < 0.05 on converged stages, 2+ seeds), for its stars;
    None when the gains carry no q (a study with one seed has no test)."""
    if "q" not in frame:
        return None
    marked = frame.assign(mark=(frame.q < ALPHA) & counts(frame))
    return marked.pivot_table(index=index, columns=columns, values="mark", aggfunc="max", sort=False)


def _gains_section(
    payload: dict[str, Any], gains: pd.DataFrame, transfer: pd.DataFrame, figs: Path
) -> list[str]:
    """Macro gains (heat map and table), gains per language group, per-language heat maps, Tatoeba."""
    macro = transfer[transfer.language == MACRO]
    matrix = macro.pivot_table(index="intermediate", columns="target", values="gain", sort=False)
    heat = figures.heatmap(
        matrix,
        "gain over the baseline (macro-avg over languages; * q < 0.05, converged, 2+ seeds)",
        figs / "gains.png",
        marks=_surviving(macro, "intermediate", "target"),
    )
    columns = [
        "target",
        "intermediate",
        "baseline",
        "with_intermediate",
        "gain",
        "gain_std",
        "ci_low",
        "ci_high",
        "p",
        "q",
        "mde",
    ]
    columns = [c for c in columns if c in macro]
    sections = ["## Gains\n", f"![gain heatmap](figures/{heat.name})\n", md_table(macro[columns])]
    groups = transfer[(transfer.members != transfer.language) & (transfer.language != MACRO)]
    if not groups.empty:
        resource = payload.get("language_groups", {}).get("resource_level", SIZE_SOURCE)
        sections += ["\n### Per language group\n", f"Low/high-resource: {resource}.\n\n"]
        sections.append(pivot(groups, ["target", "intermediate"], "gain"))
    for target, block in transfer[transfer.members == transfer.language].groupby("target", sort=False):
        per_language = block.pivot_table(index="intermediate", columns="language", values="gain", sort=False)
        path = figs / f"gains-{re.sub(r'[^A-Za-z0-9.-]+', '_', str(target))}.png"
        figures.heatmap(
            per_language,
            f"{target}: gain per language (* q < 0.05, converged, 2+ seeds)",
            path,
            marks=_surviving(block, "intermediate", "language"),
        )
        sections.append(f"\n![{target} per language](figures/{path.name})\n")
    tatoeba = gains[(gains.target == "tatoeba") & (gains.members != gains.language)]
    if not tatoeba.empty:
        sections.append("\n### Tatoeba retrieval of the intermediate-trained encoders (gain in accuracy@1)\n")
        sections.append(pivot(tatoeba, ["intermediate"], "gain"))
    return sections


def _similarity_section(analysis: TransferAnalysis, out: Path, confidence: float) -> list[str]:
    """Correlation and selection summary, scatter and regret figures, Spearman per target and group."""
    figs = out / "figures"
    write_csv(analysis.joined, out / "similarity_gain.csv")
    write_csv(analysis.correlations, out / "correlations.csv")
    write_csv(analysis.selection, out / "selection.csv")
    sections = [
        "Spearman's rho between each estimator's similarity and the macro-averaged gain, pooled over targets "
        "(one point per intermediate x target), with its bootstrap CI and permutation p-value; selection "
        "regret is the mean over targets of Regret@k = (best gain - best gain among the top k by similarity) "
        "/ |best gain| x 100, against the exact expectation of a random choice.\n\n",
        md_table(analysis.summary),
    ]
    joined = analysis.joined
    scatter = figures.scatter_grid(
        joined[joined.level == "target"],
        analysis.correlations,
        figs / "similarity_vs_gain.png",
        confidence=confidence,
    )
    sections.append(f"\n![similarity vs gain](figures/{scatter.name})\n")
    if not analysis.summary.empty and "regret@1" in analysis.summary:
        bars = figures.regret_bars(analysis.summary, figs / "regret.png")
        sections.append(f"\n![selection regret](figures/{bars.name})\n")
    spearman = analysis.correlations[analysis.correlations.method == "spearman"]
    for view, key, title in (
        ("per target", "target", "Spearman per target"),
        (
            "per language group (pooled over targets)",
            "language",
            "Spearman per language group (pooled over targets)",
        ),
    ):
        block = spearman[spearman.view == view]
        if not block.empty:
            sections.append(f"\n### {title}\n")
            sections.append(
                md_table(block[["estimator", key, "coefficient", "ci_low", "ci_high", "p_value", "n"]])
            )
    if not analysis.mixed.empty:
        sections.append("\n### Mixed effects: gain ~ similarity, random intercepts (per-language gains)\n")
        sections.append(md_table(analysis.mixed))
    sections.append(
        "\nAll views (per target, per language, per group, pooled; Spearman, Kendall, Pearson) are "
        "in `correlations.csv`; selection per target and group in `selection.csv`.\n"
    )
    return sections


def _languages_section(languages: pd.DataFrame, out: Path) -> list[str]:
    """Zero-shot drop and mean gain against typological distance, pre-training size and script; nothing
    for a study whose only targets have no per-language baseline rows here (Tatoeba alone)."""
    if languages.empty:
        return []
    figs = out / "figures"
    write_csv(languages, out / "languages.csv")
    sections = [
        "\n## Languages\n",
        f"Distance: 1 - cosine of URIEL `{FEATURE_SET}` vectors (lang2vec) of the language and English; "
        f"script: the Unicode script of most letters in 30 test inputs; size: {SIZE_SOURCE}. Drop: English "
        "baseline score minus the language's (targets with an English test set).\n\n",
    ]
    if languages["distance"].notna().any():
        drop = figures.language_scatter(
            languages, "drop_from_english", "zero-shot drop from English", figs / "drop_vs_distance.png"
        )
        gain = figures.language_scatter(
            languages, "mean_gain", "mean gain over intermediates", figs / "gain_vs_distance.png"
        )
        sections.append(
            f"![drop vs distance](figures/{drop.name}) ![gain vs distance](figures/{gain.name})\n\n"
        )
        sections.append(md_table(_language_correlations(languages)))
    else:
        sections.append("_No typological distances: install lang2vec (`pip install 'xlt[analysis]'`)._\n")
    by_script = languages.groupby("script")[["drop_from_english", "mean_gain"]].mean().reset_index()
    sections.append("\nBy script (mean over target x language rows):\n\n" + md_table(by_script))
    return sections


def _language_correlations(languages: pd.DataFrame) -> pd.DataFrame:
    from scipy.stats import spearmanr

    rows = []
    for column in ("drop_from_english", "mean_gain"):
        for predictor in ("distance", "cc100_gib"):
            frame = languages.dropna(subset=[column, predictor])
            if len(frame) >= 3:
                rho, p = spearmanr(frame[predictor], frame[column])
                rows.append(
                    {
                        "quantity": column,
                        "against": predictor,
                        "spearman": float(rho),
                        "p_value": float(p),
                        "n": len(frame),
                    }
                )
    return pd.DataFrame(rows)
