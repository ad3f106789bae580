"""A learned intermediate-task ranker: every estimator's similarity, and what is known about the target
language, combined by a small scikit-learn model, evaluated on targets and languages it never saw.

One *case* is a (target, test language) of one encoder; its candidates are the study's intermediates, each
with a true per-language gain. Choosing an intermediate only needs the order of the candidates inside a
case, so the model learns within cases: every similarity and the gain are centred on their case mean (the
target's and the language's own level, which no choice can change, drops out), and the language enters
through its interactions with the centred similarities (does this estimator matter more for a distant
language, a non-Latin script, a language with little pre-training text?).

Features of a (case, intermediate) row:
- `sim:<estimator>` — each estimator's similarity (the random baseline excluded), centred within the case;
- `sim:<estimator> x distance | non_latin | log_gib` — its products with the language's URIEL distance to
  English, whether its script is not Latin, and log(1 + CC-100 GiB) (`typology`, `languages`).
Missing values (an estimator without a value, a language URIEL does not know) are imputed with the
training fold's median, after which every column is standardised.

Models: `ridge` (default; `RidgeCV`, its penalty chosen by efficient leave-one-out on the training fold) or
`gbm` (`HistGradientBoostingRegressor`, shallow, for non-linear combinations once a study has many cases).

Evaluation, always per encoder and never pooled across encoders (a correlation pooled over models can
reverse sign, Idris et al. 2026):
- leave-one-target-out: fit on every other target's cases, rank the held-out target's candidates;
- leave-one-language-out: fit on every other language's cases (all targets), rank the held-out language's.
Every single estimator ranks the same held-out cases by its own similarity, and the exact expectation of a
random choice is computed per case (`selection`). The mean over cases of each score carries a percentile
bootstrap interval over cases, and the ranker's difference from each other predictor a paired one (the
cases of one target share its intermediate stages, so these intervals treat cases as independent and are
optimistic when there are few targets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlt.analysis.selection import random_expectation, selection_scores

RANKER = "ranker"
RANDOM = "random"
LANGUAGE_FEATURES = ("distance", "non_latin", "log_gib")
SCHEMES = {"target": "leave-one-target-out", "language": "leave-one-language-out"}
Model = Literal["ridge", "gbm"]
SCORES = ("shortfall@1", "regret@1", "ndcg@3", "rank_of_best")
CASE = ["target", "language"]


@dataclass(frozen=True)
class RankerEvaluation:
    predictions: pd.DataFrame  # encoder, scheme, target, language, intermediate, gain, ranker score
    cases: pd.DataFrame  # encoder, scheme, predictor, target, language, n_candidates, SCORES
    summary: pd.DataFrame  # encoder, scheme, predictor, score, mean, CI, vs ranker (difference, CI), cases
    features: pd.DataFrame  # encoder, feature, coefficient of the ridge model fitted on every case
    model: str
    notes: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.summary.empty


def language_features(table: pd.DataFrame) -> pd.DataFrame:
    """Per language: URIEL `distance`, `non_latin` (1 if the dominant script is known and not Latin) and
    `log_gib`, from a frame with columns language, distance, script, cc100_gib (the report's language
    table; one row per (target, language), the first of each language is kept)."""
    first = table.drop_duplicates("language").set_index("language")
    script = first["script"].astype(str)
    return pd.DataFrame(
        {
            "distance": pd.to_numeric(first["distance"], errors="coerce"),
            "non_latin": ((script != "LATIN") & (script != "unknown")).astype(float),
            "log_gib": np.log1p(pd.to_numeric(first["cc100_gib"], errors="coerce")),
        },
        index=first.index,
    )


def case_features(rows: pd.DataFrame, estimators: Sequence[str], languages: pd.DataFrame) -> pd.DataFrame:
    """The model's features of `rows` (one per case and intermediate, with a column per estimator)."""
    features = {}
    centred = rows[list(estimators)].astype(float) - rows.groupby(CASE)[list(estimators)].transform("mean")
    lang = languages.reindex(rows["language"].astype(str)).set_axis(rows.index)
    for name in estimators:
        features[f"sim:{name}"] = centred[name]
        for feature in LANGUAGE_FEATURES:
            features[f"sim:{name} x {feature}"] = centred[name] * lang[feature]
    return pd.DataFrame(features, index=rows.index)


def evaluate_ranker(
    joined: pd.DataFrame,
    languages: pd.DataFrame,
    *,
    model: Model = "ridge",
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankerEvaluation:
    """Leave-one-target-out and leave-one-language-out evaluation of the learned ranker against every
    single estimator and random choice, per encoder.

    `joined` is the similarity/gain table of `analysis.transfer.join_similarity` (its `language`-level
    rows are used); `languages` is `language_features` of the study's languages."""
    rows = joined[joined.level == "language"] if "level" in joined else joined
    if "encoder" not in rows:
        rows = rows.assign(encoder="")
    notes: list[str] = []
    predictions, cases, summaries, coefficients = [], [], [], []
    for encoder, block in rows.groupby("encoder", sort=True):
        wide = _wide(block)
        estimators = [c for c in wide.columns if c not in (*CASE, "intermediate", "gain") and c != RANDOM]
        wide = wide[wide.groupby(CASE)["intermediate"].transform("size") >= 2]
        if not estimators or wide.empty:
            notes.append(f"{encoder}: fewer than two intermediates per case, nothing to rank")
            continue
        coefficients.append(_coefficients(wide, estimators, languages).assign(encoder=encoder))
        for scheme, column in (("target", "target"), ("language", "language")):
            folds = sorted(wide[column].astype(str).unique())
            if len(folds) < 2:
                notes.append(f"{encoder}: one {column} only, so no {SCHEMES[scheme]} evaluation")
                continue
            held_out = []
            for fold in folds:
                test = wide[wide[column].astype(str) == fold]
                train = wide[wide[column].astype(str) != fold]
                fitted = _fit(train, estimators, languages, model, seed)
                held_out.append(test.assign(**{RANKER: fitted(test)}))
            scored = pd.concat(held_out).assign(encoder=encoder, scheme=SCHEMES[scheme])
            predictions.append(
                scored[["encoder", "scheme", *CASE, "intermediate", "gain", RANKER, *estimators]]
            )
            table = _case_scores(scored, [RANKER, *estimators])
            cases.append(table.assign(encoder=encoder, scheme=SCHEMES[scheme]))
            summaries.append(
                _summarise(table, resamples, confidence, seed).assign(encoder=encoder, scheme=SCHEMES[scheme])
            )
    first = ["encoder", "scheme"]
    return RankerEvaluation(
        predictions=_front(predictions, first),
        cases=_front(cases, first),
        summary=_front(summaries, first),
        features=_front(coefficients, ["encoder"]),
        model=model,
        notes=tuple(notes),
    )


def _front(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    return frame[[*columns, *(c for c in frame.columns if c not in columns)]]


def _wide(block: pd.DataFrame) -> pd.DataFrame:
    """One row per (target, language, intermediate): its gain and a column per estimator."""
    keys = [*CASE, "intermediate"]
    similarity = block.pivot_table(index=keys, columns="estimator", values="similarity", aggfunc="first")
    gain = block.groupby(keys)["gain"].first()
    wide = similarity.join(gain).reset_index()
    wide.columns.name = None
    return wide


def _fit(
    train: pd.DataFrame, estimators: Sequence[str], languages: pd.DataFrame, model: Model, seed: int
) -> Any:
    """A function from held-out rows to the fitted model's scores."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = case_features(train, estimators, languages)
    y = train["gain"].astype(float) - train.groupby(CASE)["gain"].transform("mean")
    regressor = (
        RidgeCV(alphas=np.logspace(-3, 3, 13))
        if model == "ridge"
        else HistGradientBoostingRegressor(max_depth=3, max_iter=200, learning_rate=0.05, random_state=seed)
    )
    pipeline = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), regressor
    )
    pipeline.fit(x.to_numpy(float), y.to_numpy(float))

    def predict(rows: pd.DataFrame) -> np.ndarray:
        return np.asarray(pipeline.predict(case_features(rows, estimators, languages).to_numpy(float)))

    return predict


def _coefficients(wide: pd.DataFrame, estimators: Sequence[str], languages: pd.DataFrame) -> pd.DataFrame:
    """The standardised ridge coefficients of a model fitted on every case: which features it leans on."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import RidgeCV
    from sklearn.preprocessing import StandardScaler

    x = case_features(wide, estimators, languages)
    y = wide["gain"].astype(float) - wide.groupby(CASE)["gain"].transform("mean")
    filled = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(x.to_numpy(float))
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(StandardScaler().fit_transform(filled), y)
    return pd.DataFrame(
        {"feature": x.columns, "coefficient": ridge.coef_, "alpha": float(ridge.alpha_)}
    ).sort_values("coefficient", key=np.abs, ascending=False, ignore_index=True)


def _case_scores(scored: pd.DataFrame, predictors: Sequence[str]) -> pd.DataFrame:
    """Selection scores of every predictor and of random choice on every held-out case."""
    rows = []
    for (target, language), case in scored.groupby(CASE, sort=True):
        true = dict(zip(case["intermediate"], case["gain"].astype(float), strict=True))
        best = max(true.values())
        for predictor in [*predictors, RANDOM]:
            if predictor == RANDOM:
                scores = random_expectation(true, 1)
                ndcg = random_expectation(true, 3).ndcg
            else:
                values = case[predictor].astype(float)
                if values.isna().any():  # an estimator without a value here cannot choose
                    continue
                predicted = dict(zip(case["intermediate"], values, strict=True))
                scores = selection_scores(true, predicted, 1)
                ndcg = selection_scores(true, predicted, 3).ndcg
            rows.append(
                {
                    "predictor": predictor,
                    "target": target,
                    "language": language,
                    "n_candidates": len(true),
                    "shortfall@1": scores.regret / 100 * (abs(best) if best != 0 else 1.0),
                    "regret@1": scores.regret,
                    "ndcg@3": ndcg,
                    "rank_of_best": scores.rank_of_best,
                }
            )
    return pd.DataFrame(rows)


def _summarise(table: pd.DataFrame, resamples: int, confidence: float, seed: int) -> pd.DataFrame:
    """Mean of each score over the held-out cases with a bootstrap CI, and each predictor's paired
    difference from the ranker (predictor - ranker: positive shortfall, regret or rank means the ranker
    chose better) on the cases both scored."""
    rng = np.random.default_rng(seed)
    alpha = (1 - confidence) / 2
    keyed = table.set_index(["predictor", *CASE])
    ranker = keyed.loc[RANKER]
    rows = []
    for predictor in table["predictor"].unique():
        mine = keyed.loc[predictor]
        shared = mine.index.intersection(ranker.index)
        draws = rng.integers(0, len(shared), size=(resamples, len(shared)))
        for score in SCORES:
            values = mine.loc[shared, score].to_numpy(float)
            means = values[draws].mean(axis=1)
            row: dict[str, Any] = {
                "predictor": predictor,
                "score": score,
                "mean": float(values.mean()),
                "ci_low": float(np.quantile(means, alpha)),
                "ci_high": float(np.quantile(means, 1 - alpha)),
                "cases": len(shared),
            }
            if predictor != RANKER:
                difference = values - ranker.loc[shared, score].to_numpy(float)
                spread = difference[draws].mean(axis=1)
                row |= {
                    "minus_ranker": float(difference.mean()),
                    "diff_ci_low": float(np.quantile(spread, alpha)),
                    "diff_ci_high": float(np.quantile(spread, 1 - alpha)),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def headline(evaluation: RankerEvaluation, score: str = "shortfall@1") -> pd.DataFrame:
    """One row per (encoder, scheme, predictor): the mean of `score` with its CI and, for the others, the
    difference from the ranker; best first."""
    if evaluation.empty:
        return pd.DataFrame()
    block = evaluation.summary[evaluation.summary.score == score].drop(columns="score")
    ascending = score != "ndcg@3"
    return block.sort_values(
        ["encoder", "scheme", "mean"], ascending=[True, True, ascending], ignore_index=True
    )
