"""Published findings the studies can be held against, and what the studies say of each.

Each claim names its source and the setting it was found in; its check reads the studies' own tables
(gains, robust-method gains, the learned ranker's summary) and returns xlt's verdict: agrees (an effect of
the claimed sign survives q < 0.05 on converged stages, none of the other sign), disagrees (one of the
other sign survives), not shown (measured, nothing survives: with the MDE, so "no effect" and "too small a
design" stay apart), or not measured. The setting difference (encoder, data, budget) is stated beside
every verdict, since it is the first explanation of a disagreement.

Only qualitative claims are recorded: no published number is copied here unless it was checked against its
source, and the SemRel 2024 / MTEB figures for multilingual-e5-small are not (yet) among them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
        "The SemRel 2024 and MTEB figures for multilingual-e5-small are not compared yet: no published "
        "number has been checked against its source here."
    )
    return body
