"""The long table of every score, the gains table, and their files in the study directory."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from xlt.analysis.gains import SeedReplicates, bootstrap_contrast
from xlt.analysis.inference import FEW_SEEDS, adjust_families, inference_columns
from xlt.analysis.languages import SIZE_SOURCE, LanguageGroup, language_groups
from xlt.core.errors import ConfigError
from xlt.core.io import atomic_write_json, commit_files
from xlt.data.schema import TaskType
from xlt.runs.provenance import ROW_FIELDS, environment, row_fields
from xlt.runs.store import RunStore
from xlt.study.plan import Stage, StudyPlan, seed_independent
from xlt.study.records import STUDY_RECORD, write_study_record
from xlt.study.robustness import ROBUST_GAINS_CSV, ROBUSTNESS_CSV, robustness_tables
from xlt.study.stage_files import chain_convergence, convergence, load_predictions, usable

RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
GAINS_CSV = "gains.csv"
MACRO = "macro-avg"
GAIN_COLUMNS = [
    "encoder",
    "target",
    "variant",
    "intermediate",
    "language",
    "n",
    "seeds",
    "baseline",
    "with_intermediate",
    "gain",
    "gain_std",
    "ci_low",
    "ci_high",
    "se",
    "p",
    "mde",
    "family",
    "q",
    "p_holm",
    "convergence",
    "members",
]
# the families of tests whose p-values are adjusted together (Benjamini-Hochberg q, Holm)
LANGUAGE_FAMILY = "gains per language"
GROUP_FAMILY = "gains per language group"
ALIGNMENT_LANGUAGE_FAMILY = "alignment gains per language"
ALIGNMENT_GROUP_FAMILY = "alignment gains per language group"
ALIGNMENT_GAINS_CSV = "alignment_gains.csv"
STS_LANGUAGE_FAMILY = "STS minus other intermediates per language"
STS_GROUP_FAMILY = "STS minus other intermediates per language group"
STS_CONTRASTS_CSV = "sts_contrasts.csv"
# the taxonomy family of the STS intermediates (`xlt.tasks`), contrasted with every other intermediate
STS_TASK_FAMILY = "similarity"
SCORE_COLUMNS = [
    "encoder",
    "encoder_weights",
    "intermediate",
    "target",
    "variant",
    "language",
    "split",
    "metric",
    "seed",
    "score",
    "n",
    "stage_chain",
    "stage_id",
    "convergence",
    "intermediate_convergence",
    "chain_convergence",
    "config_hash",
    *ROW_FIELDS,
    "data_files",
]


def gains_frame(payload: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(payload["gains"], columns=GAIN_COLUMNS)


def scores_frame(payload: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(payload["scores"], columns=SCORE_COLUMNS)


def score_rows(plan: StudyPlan, store: RunStore) -> pd.DataFrame:
    """One row per (stage, language) score with its provenance: the code, libraries, device and precision
    the stage was built with ("unrecorded" for stages built before xlt recorded them), and the training
    verdict of the target stage, of its intermediate ("none" without one) and of the chain (converged
    only if every trained stage of it converged), so that no score hides an unconverged stage."""
    config_hash = plan.config.hash()
    rows = []
    for stage in plan.targets:
        if not usable(store, stage):
            continue
        meta = row_fields(store.provenance(stage.stage_id))
        verdicts = [convergence(store, s) for s in (stage.parent, stage) if s is not None]
        trained = {
            "convergence": verdicts[-1],
            "intermediate_convergence": verdicts[0] if stage.parent is not None else "none",
            "chain_convergence": chain_convergence(verdicts),
        }
        for language, entry in load_predictions(store, stage).items():
            rows.append(
                {
                    "encoder": stage.encoder,
                    "encoder_weights": stage.encoder_weights,
                    "intermediate": stage.intermediate,
                    "target": stage.task,
                    "variant": stage.variant,
                    "language": language,
                    "split": "test",
                    "metric": entry["metric"],
                    "seed": stage.seed,
                    "score": entry["score"],
                    "n": len(entry["ids"]),
                    "stage_chain": stage.chain,
                    "stage_id": stage.stage_id,
                    **trained,
                    "config_hash": config_hash,
                    **meta,
                    "data_files": ";".join(f"{p}:{h}" for p, h in sorted(entry["files"].items())),
                }
            )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def gain_rows(plan: StudyPlan, store: RunStore) -> pd.DataFrame:
    """Per language and per language group (macro-average first): baseline, treated, gain (mean and sd
    over seeds), its interval, p-value and MDE (`xlt.analysis.inference`), and the p-values adjusted
    within their family (every per-language gain of the study; every group gain)."""
    groups = _stages_by_seed(plan)
    comparisons = []
    for (encoder, target, variant, intermediate), by_seed in groups.items():
        if intermediate == "none":
            continue
        baseline_stages = dict(groups[(encoder, target, variant, "none")])
        shared = [b for b in baseline_stages.values() if seed_independent(b.training, b.parent, b.alignment)]
        if shared:  # an untrained baseline is planned once and serves every seed
            baseline_stages = {s: shared[0] for s in by_seed}
        head = {"encoder": encoder, "target": target, "variant": variant, "intermediate": intermediate}
        comparisons.append((head, [by_seed], [baseline_stages]))
    return _paired_rows(plan, store, comparisons, (LANGUAGE_FAMILY, GROUP_FAMILY))


def sts_contrast_rows(plan: StudyPlan, store: RunStore) -> pd.DataFrame:
    """Each STS intermediate (taxonomy family "similarity") against the mean of the study's other
    intermediates, same target, variant and seeds: `others` (their mean score), `sts` and `sts_minus_others`
    = the STS gain minus the others' mean gain (the baseline cancels, so it is the difference of the
    intermediate-trained scores), with the interval, p, MDE and q (families: per language / per group);
    `compared` names the others. They are the intermediates that have finished every seed the STS one has
    (in a study still running, one with fewer seeds done waits rather than cut the seeds compared)."""
    groups = _stages_by_seed(plan)
    comparisons, compared = [], {}
    for (encoder, target, variant, intermediate), by_seed in groups.items():
        if intermediate == "none" or _intermediate_family(by_seed) != STS_TASK_FAMILY:
            continue
        done = {seed for seed, stage in by_seed.items() if usable(store, stage)}
        others = {
            other: stages
            for (e, t, v, other), stages in groups.items()
            if (e, t, v) == (encoder, target, variant)
            and other != "none"
            and _intermediate_family(stages) != STS_TASK_FAMILY
            and all(seed in stages and usable(store, stages[seed]) for seed in done)
        }
        if others:
            head = {"encoder": encoder, "target": target, "variant": variant, "intermediate": intermediate}
            comparisons.append((head, [by_seed], list(others.values())))
            compared[(encoder, target, variant, intermediate)] = " ".join(others)
    frame = _paired_rows(plan, store, comparisons, (STS_LANGUAGE_FAMILY, STS_GROUP_FAMILY))
    keys = list(zip(frame.encoder, frame.target, frame.variant, frame.intermediate, strict=True))
    return frame.rename(
        columns={"baseline": "others", "with_intermediate": "sts", "gain": "sts_minus_others"}
    ).assign(compared=[compared[key] for key in keys])


def _intermediate_family(by_seed: dict[int, Stage]) -> str:
    """The taxonomy family of the intermediate the stages were trained after (a user's task file too)."""
    parent = next(iter(by_seed.values())).parent
    return parent.task_spec.taxonomy.family if parent is not None else "none"


def alignment_gain_rows(plan: StudyPlan, store: RunStore) -> pd.DataFrame:
    """Each aligned variant against the same stages unaligned (same robust method, same intermediate), on
    the same test items and seeds: `unaligned`, `aligned` and `gain` = aligned - unaligned, with the
    interval, p, MDE and q (families: alignment gains per language / per language group)."""
    groups = _stages_by_seed(plan)
    comparisons = []
    for (encoder, target, variant, intermediate), by_seed in groups.items():
        first = next(iter(by_seed.values()))
        if first.alignment == "none":
            continue
        unaligned = "+".join(variant.split("+")[:-1]) or "standard"  # the alignment is the last part
        base = groups.get((encoder, target, unaligned, intermediate))
        if base is None:
            continue
        head = {"encoder": encoder, "target": target, "variant": variant, "intermediate": intermediate}
        comparisons.append((head, [by_seed], [base]))
    frame = _paired_rows(plan, store, comparisons, (ALIGNMENT_LANGUAGE_FAMILY, ALIGNMENT_GROUP_FAMILY))
    return frame.rename(columns={"baseline": "unaligned", "with_intermediate": "aligned"})


def _stages_by_seed(plan: StudyPlan) -> dict[tuple[str, str, str, str], dict[int, Stage]]:
    groups: dict[tuple[str, str, str, str], dict[int, Stage]] = {}
    for stage in plan.targets:
        groups.setdefault((stage.encoder, stage.task, stage.variant, stage.intermediate), {})[stage.seed] = (
            stage
        )
    return groups


# head, treated arms, base arms (each arm its stages by seed); the effect is mean(treated) - mean(base)
Comparison = tuple[dict[str, Any], list[dict[int, Stage]], list[dict[int, Stage]]]


def _paired_rows(
    plan: StudyPlan, store: RunStore, comparisons: list[Comparison], families: tuple[str, str]
) -> pd.DataFrame:
    """Treated minus base on the same items and seeds, per language and language group (the rows of
    `gain_rows`), for every comparison whose both sides have finished stages of a seed."""
    evaluation = plan.config.evaluation
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []
    loaded: dict[str, dict[str, dict[str, Any]]] = {}  # a stage serves many comparisons: read it once

    def predictions(stage: Stage) -> dict[str, dict[str, Any]]:
        if stage.stage_id not in loaded:
            loaded[stage.stage_id] = load_predictions(store, stage)
        return loaded[stage.stage_id]

    for head, treated_arms, base_arms in comparisons:
        arms = [*treated_arms, *base_arms]
        seeds = [s for s in treated_arms[0] if all(s in arm and usable(store, arm[s]) for arm in arms)]
        if not seeds:
            continue
        treated = [[predictions(arm[s]) for s in seeds] for arm in treated_arms]
        base = [[predictions(arm[s]) for s in seeds] for arm in base_arms]
        chains = [arm[s] for arm in arms for s in seeds]
        verdict = chain_convergence([convergence(store, x) for t in chains for x in (t.parent, t) if x])
        head = head | {"convergence": verdict}
        first = treated_arms[0][seeds[0]]
        languages = list(first.languages)
        estimates = {}
        for language in languages:
            gold = treated[0][0][language]["gold"]
            estimate = bootstrap_contrast(
                [[p[language]["pred"] for p in arm] for arm in treated],
                [[p[language]["pred"] for p in arm] for arm in base],
                gold,
                treated[0][0][language]["metric"],
                resamples=evaluation.bootstrap,
                rng=rng,
            )
            estimates[language] = estimate
            rows.append(
                head
                | {"language": language, "n": len(gold), "seeds": len(seeds)}
                | _effect(estimate.baseline, estimate.treated, estimate.seeds, evaluation.confidence)
                | {"family": families[0], "members": language}
            )
        groups_of_target = [LanguageGroup(MACRO, "every evaluated language", tuple(languages))]
        groups_of_target += language_groups(
            languages,
            high_resource_gib=evaluation.high_resource_gib,
            xtreme_r=first.task_spec.type == TaskType.RETRIEVAL,
        )
        for group in groups_of_target:
            members = [estimates[lang] for lang in group.members]
            combined = SeedReplicates.mean_of([m.seeds for m in members])
            assert combined is not None  # the members share the study's seeds and resamples
            rows.append(
                head
                | {
                    "language": group.name,
                    "n": sum(len(treated[0][0][lang]["gold"]) for lang in group.members),
                    "seeds": len(seeds),
                }
                | _effect(
                    float(np.mean([m.baseline for m in members])),
                    float(np.mean([m.treated for m in members])),
                    combined,
                    evaluation.confidence,
                )
                | {"family": families[1], "members": " ".join(group.members)}
            )
    frame = pd.DataFrame(rows, columns=[c for c in GAIN_COLUMNS if c not in ("q", "p_holm")])
    return adjust_families(frame)[GAIN_COLUMNS]


def _effect(baseline: float, treated: float, seeds: SeedReplicates, confidence: float) -> dict[str, Any]:
    return {
        "baseline": baseline,
        "with_intermediate": treated,
        "gain": float(seeds.estimates.mean()),
        "gain_std": seeds.std,
    } | inference_columns(seeds.inference(confidence))


def _csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_csv(path, index=False)


def write_results(plan: StudyPlan, store: RunStore) -> dict[str, Any]:
    """Write the results files and study.json as one step (`commit_files`): after a kill or a full disk,
    the files of a study directory are all of one run or all of the one before."""
    scores = score_rows(plan, store)
    gains = gain_rows(plan, store)
    alignment_gains = alignment_gain_rows(plan, store)
    sts_contrasts = sts_contrast_rows(plan, store)
    robustness, robust_gains = robustness_tables(plan, store)
    payload = {
        "study": plan.config.name,
        "config": plan.config.resolved(),
        "config_hash": plan.config.hash(),
        # of the process that wrote these files; each score row carries its own stage's
        "xlt_version": environment()["xlt_version"],
        "git_commit": environment()["git_commit"],
        "confidence": plan.config.evaluation.confidence,
        "averaging": "macro over languages (unweighted)",
        "language_groups": {
            "resource_level": f"{SIZE_SOURCE}; high-resource from "
            f"{plan.config.evaluation.high_resource_gib:g} GiB",
            "African": "languages of Africa, incl. North African Arabic varieties and Berber",
            "XTREME-R": "non-English languages of XTREME-R (Tatoeba only)",
        },
        "scores": _records(scores),
        "gains": _records(gains),
        "robustness": _records(robustness),
        "robust_gains": _records(robust_gains),
        "alignment_gains": _records(alignment_gains),
        "sts_contrasts": _records(sts_contrasts),
    }
    writes: dict[str, Callable[[Path], None]] = {
        RESULTS_CSV: _csv(scores),
        GAINS_CSV: _csv(gains),
        RESULTS_JSON: functools.partial(atomic_write_json, obj=payload),
        STUDY_RECORD: functools.partial(write_study_record, config=plan.config),
    }
    for name, frame in (
        (ROBUSTNESS_CSV, robustness),
        (ROBUST_GAINS_CSV, robust_gains),
        (ALIGNMENT_GAINS_CSV, alignment_gains),
        (STS_CONTRASTS_CSV, sts_contrasts),
    ):
        if not frame.empty:
            writes[name] = _csv(frame)
    commit_files(store.root, writes)
    return payload


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return records


def read_results(study_dir: Path) -> dict[str, Any]:
    path = study_dir / RESULTS_JSON
    if not path.is_file():
        raise ConfigError(
            f"{path} not found", "run the study first (`xlt run STUDY.yaml`), or check the directory"
        )
    try:
        payload: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc.msg})", "re-run `xlt run` to rewrite it") from exc
    return payload


def _fmt(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _convergence_note(block: pd.DataFrame) -> str:
    """A warning in the title of a comparison whose stages did not all converge (not a finding)."""
    verdicts = {str(v) for v in block.get("convergence", pd.Series(dtype=object)).dropna()}
    if not verdicts or verdicts <= {"converged", "untrained"}:
        return ""
    if "capped" in verdicts:
        return (
            ". NOT CONVERGED: a stage hit its step cap while still improving, so these gains are not findings"
        )
    return ". NOT CONVERGED: fixed training budgets (no early stopping), so these gains are not findings"


def _interval(low: Any, high: Any) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "-"
    return f"[{low:+.3f}, {high:+.3f}]"


def _p(value: Any) -> str:
    """A p- or q-value: three decimals, or '<0.001'; '-' where there is none (results of older xlt)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def render(payload: dict[str, Any], console: Console) -> None:
    """Per (encoder, target, intermediate): a per-language table of baseline, with-intermediate, gain, CI."""
    confidence = round(payload.get("confidence", 0.95) * 100)
    gains = gains_frame(payload)
    scores = scores_frame(payload)
    if gains.empty:
        if scores.empty:
            console.print("no finished results yet")
            return
        table = Table(title=f"{payload['study']}: scores (mean over seeds)")
        for column in ("encoder", "target", "variant", "language", "metric", "score", "seeds"):
            table.add_column(column)
        summary = scores.groupby(["encoder", "target", "variant", "language", "metric"], sort=False)[
            "score"
        ].agg(["mean", "count"])
        for key, row in summary.iterrows():
            parts = key if isinstance(key, tuple) else (key,)
            table.add_row(*(str(part) for part in parts), _fmt(row["mean"]), str(int(row["count"])))
        console.print(table)
        return
    metric_of = scores.groupby("target")["metric"].first().to_dict() if not scores.empty else {}
    for (encoder, target, variant, intermediate), block in gains.groupby(
        ["encoder", "target", "variant", "intermediate"], sort=False
    ):
        seeds = int(block["seeds"].max())
        table = Table(
            title=(
                f"{target} ({metric_of.get(target, 'score')}), encoder {encoder}"
                + (f", {variant}" if variant != "standard" else "")
                + ": "
                f"baseline vs intermediate {intermediate}, mean of {seeds} seed(s)" + _convergence_note(block)
            ),
            caption=f"{MACRO} and groups: unweighted mean over their languages; CI: {confidence}% interval "
            "over test items and seeds (paired bootstrap of items; seed variance with seeds - 1 degrees of "
            "freedom); p: two-sided, no gain; q: Benjamini-Hochberg within the family "
            f"'{LANGUAGE_FAMILY}' (languages) or '{GROUP_FAMILY}' (groups); MDE: smallest gain this "
            "design detects with 80% power; low/high-resource: "
            + payload.get("language_groups", {}).get("resource_level", "pre-training data size")
            + (
                f". With {seeds} seed(s) the seed variance is barely estimated: use at least {FEW_SEEDS}"
                if seeds < FEW_SEEDS
                else ""
            ),
            box=box.SIMPLE_HEAD,
        )
        for column in (
            "language",
            "n",
            "baseline",
            f"+{intermediate}",
            "gain",
            "sd(seeds)",
            f"{confidence}% CI",
            "p",
            "q",
            "MDE",
        ):
            table.add_column(column, justify="left" if column == "language" else "right", no_wrap=True)
        for _, row in block.iterrows():
            style = (
                "bold"
                if row["language"] == MACRO
                else "italic"
                if row["members"] != row["language"]
                else None
            )
            table.add_row(
                row["language"],
                str(row["n"]),
                _fmt(row["baseline"]),
                _fmt(row["with_intermediate"]),
                _fmt(row["gain"], signed=True),
                _fmt(row["gain_std"]),
                _interval(row["ci_low"], row["ci_high"]),
                _p(row.get("p")),
                _p(row.get("q")),
                _fmt(row.get("mde")),
                style=style,
            )
        console.print(table)
