"""The report's figures, each a function from tables to a PNG file (matplotlib, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xlt.core.io import atomic_path

DPI = 110
# How far a cell that does not survive is blended towards white (0 = full colour, 1 = white).
FADE_TO = 0.7


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
    plt.close(figure)
    return path


def cell_colours(
    values: np.ndarray, mapper: matplotlib.cm.ScalarMappable, starred: np.ndarray | None
) -> np.ndarray:
    """RGBA per cell: the colour map's colour, blended towards white where `starred` is false; missing
    cells transparent."""
    colours = mapper.to_rgba(np.nan_to_num(values))
    if starred is not None:
        colours[~starred, :3] = FADE_TO + (1 - FADE_TO) * colours[~starred, :3]
    colours[~np.isfinite(values)] = (1.0, 1.0, 1.0, 0.0)
    return colours


def heatmap(
    matrix: pd.DataFrame,
    title: str,
    path: Path,
    *,
    label: str = "gain",
    marks: pd.DataFrame | None = None,
) -> Path:
    """A diverging heatmap centred on 0 with the value in each cell. With `marks` (same shape, true where a
    cell survives the multiple-comparison control), marked cells get a star and keep full colour while the
    others are drawn faded, so the eye goes to the cells that carry evidence and a scale set by noise does
    not make noise look strong."""
    values = matrix.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound or 1.0
    width = max(4.0, 0.62 * values.shape[1] + 2.5)
    height = max(2.5, 0.42 * values.shape[0] + 1.5)
    figure, axes = plt.subplots(figsize=(width, height))
    mapper = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(-bound, bound), plt.get_cmap("RdBu"))
    starred = marks.reindex_like(matrix).eq(True).to_numpy() if marks is not None else None
    axes.imshow(cell_colours(values, mapper, starred), aspect="auto")
    axes.set_xticks(range(values.shape[1]), [str(c) for c in matrix.columns], rotation=45, ha="right")
    axes.set_yticks(range(values.shape[0]), [str(i) for i in matrix.index])
    for (i, j), value in np.ndenumerate(values):
        if math.isfinite(value):
            star = "*" if starred is not None and starred[i, j] else ""
            shade = "black" if starred is None or starred[i, j] else "dimgray"
            axes.text(j, i, f"{value:+.3f}{star}", ha="center", va="center", fontsize=7, color=shade)
    figure.colorbar(mapper, ax=axes, label=label)
    axes.set_title(title, fontsize=10)
    return _save(figure, path)


def scatter_grid(joined: pd.DataFrame, correlations: pd.DataFrame, path: Path, *, confidence: float) -> Path:
    """Similarity against gain (target level), one panel per estimator, with Spearman's rho and its CI."""
    estimators = list(dict.fromkeys(joined.estimator))
    columns = min(3, max(len(estimators), 1))
    rows = max(math.ceil(len(estimators) / columns), 1)
    figure, axes_grid = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    targets = sorted(joined.target.unique())
    colours = {t: plt.get_cmap("tab10")(i % 10) for i, t in enumerate(targets)}
    for index, axes in enumerate(axes_grid.flat):
        if index >= len(estimators):
            axes.axis("off")
            continue
        estimator = estimators[index]
        block = joined[joined.estimator == estimator]
        for target, points in block.groupby("target"):
            axes.scatter(points.similarity, points.gain, s=18, color=colours[str(target)], label=str(target))
        axes.axhline(0, color="grey", lw=0.6)
        stats = correlations[
            (correlations.estimator == estimator)
            & (correlations.view == "pooled over targets")
            & (correlations.method == "spearman")
        ]
        title = estimator
        if not stats.empty:
            s = stats.iloc[0]
            title += f"\nrho={s.coefficient:+.2f} [{s.ci_low:+.2f}, {s.ci_high:+.2f}] p={s.p_value:.3f}"
        axes.set_title(title, fontsize=9)
        axes.set_xlabel("similarity", fontsize=8)
        axes.set_ylabel("gain (macro-avg)", fontsize=8)
        axes.tick_params(labelsize=7)
    handles, labels = axes_grid.flat[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    figure.suptitle(f"similarity vs gain per estimator (Spearman, {round(confidence * 100)}% bootstrap CI)")
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))
    return _save(figure, path)


def regret_bars(summary: pd.DataFrame, path: Path) -> Path:
    """Mean Regret@1 and @3 over targets for each estimator, beside the exact random expectation."""
    frame = summary.dropna(subset=["regret@1"]) if "regret@1" in summary else summary.iloc[0:0]
    figure, axes = plt.subplots(figsize=(max(5.0, 0.9 * len(frame) + 2), 3.4))
    x = np.arange(len(frame))
    for offset, k, colour in ((-0.3, 1, "tab:blue"), (0.0, 3, "tab:orange")):
        if len(frame):
            axes.bar(x + offset, frame[f"regret@{k}"], width=0.28, color=colour, label=f"Regret@{k}")
    if len(frame):
        axes.scatter(
            x - 0.3, frame["random_regret@1"], marker="_", s=300, color="black", label="random (exact)"
        )
        axes.scatter(x, frame["random_regret@3"], marker="_", s=300, color="black")
    axes.set_xticks(x, list(frame.estimator), rotation=30, ha="right")
    axes.set_ylabel("regret (% of best gain), lower is better")
    axes.set_title("selection regret per estimator, mean over targets", fontsize=10)
    axes.legend(fontsize=8)
    return _save(figure, path)


def language_scatter(languages: pd.DataFrame, column: str, ylabel: str, path: Path) -> Path:
    """A per-language quantity against typological distance to English; African languages marked."""
    frame = languages.dropna(subset=["distance", column])
    figure, axes = plt.subplots(figsize=(5.6, 3.8))
    for african, points in frame.groupby("african"):
        axes.scatter(
            points.distance,
            points[column],
            s=22,
            marker="^" if african else "o",
            color="tab:red" if african else "tab:blue",
            label="African" if african else "other",
        )
        for point in points.itertuples():
            axes.annotate(str(point.language), (point.distance, getattr(point, column)), fontsize=6)
    axes.axhline(0, color="grey", lw=0.6)
    axes.set_xlabel("syntactic distance to English (URIEL syntax_knn, 1 - cosine)")
    axes.set_ylabel(ylabel)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    return _save(figure, path)


def drop_bars(robustness: pd.DataFrame, path: Path) -> Path:
    """Mean drop (clean - perturbed) per suite, one bar per variant (robust method / alignment)."""
    table = robustness.pivot_table(index="suite", columns="variant", values="drop", aggfunc="mean")
    figure, axes = plt.subplots(figsize=(max(5.0, 1.2 * len(table) + 2), 3.6))
    width = 0.8 / max(len(table.columns), 1)
    x = np.arange(len(table))
    for i, variant in enumerate(table.columns):
        axes.bar(x + i * width - 0.4 + width / 2, table[variant], width=width, label=str(variant))
    axes.axhline(0, color="grey", lw=0.6)
    axes.set_xticks(x, list(table.index), rotation=20, ha="right")
    axes.set_ylabel("drop (clean - perturbed), lower is more robust")
    axes.set_title("robustness: mean drop over targets, intermediates and languages", fontsize=10)
    axes.legend(fontsize=8)
    return _save(figure, path)


def size_lines(table: pd.DataFrame, path: Path) -> Path:
    """Drop against parameter count (log scale), one panel per (target, suite), one line per language group;
    encoders off the size axis are hollow markers."""
    panels = list(dict.fromkeys(zip(table.target, table.suite, strict=True)))
    columns = min(3, max(len(panels), 1))
    rows = max(math.ceil(len(panels) / columns), 1)
    figure, axes_grid = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    for index, axes in enumerate(axes_grid.flat):
        if index >= len(panels):
            axes.axis("off")
            continue
        target, suite = panels[index]
        block = table[(table.target == target) & (table.suite == suite)]
        for colour, (language, group) in enumerate(block.groupby("language", sort=False)):
            axis = group[group.on_axis]
            axes.errorbar(
                axis.parameters, axis["drop"],
                yerr=[axis["drop"] - axis.ci_low, axis.ci_high - axis["drop"]],
                marker="o", capsize=3, label=str(language), color=plt.get_cmap("tab10")(colour),
            )  # fmt: skip
            off = group[~group.on_axis]
            axes.scatter(
                off.parameters, off["drop"], facecolors="none", edgecolors=plt.get_cmap("tab10")(colour)
            )
        axes.set_xscale("log")
        axes.axhline(0, color="grey", linewidth=0.5)
        axes.set_title(f"{target}: {suite}", fontsize=9)
        axes.set_xlabel("parameters outside the word embeddings")
        axes.set_ylabel("drop (clean - perturbed)")
        axes.legend(fontsize=6)
    return _save(figure, path)


def ranker_bars(headline: pd.DataFrame, path: Path) -> Path:
    """Mean top-1 shortfall (best gain - chosen gain) of each predictor on held-out cases, with its
    interval, one panel per (encoder, evaluation scheme); lower is better."""
    panels = list(headline.groupby(["encoder", "scheme"], sort=False))
    width = max(5.0, 0.55 * headline.predictor.nunique() + 2)
    figure, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(width * max(len(panels), 1), 3.4), squeeze=False
    )
    for axis, ((encoder, scheme), block) in zip(axes[0], panels, strict=False):
        x = np.arange(len(block))
        colours = [
            "tab:red" if p == "ranker" else "0.6" if p == "random" else "tab:blue" for p in block.predictor
        ]
        errors = np.vstack([block["mean"] - block["ci_low"], block["ci_high"] - block["mean"]])
        axis.bar(x, block["mean"], color=colours, yerr=np.clip(errors, 0, None), capsize=3)
        axis.set_xticks(x, list(block.predictor), rotation=30, ha="right")
        axis.set_ylabel("top-1 shortfall (metric points)")
        axis.set_title(f"{encoder or 'encoder'}: {scheme}", fontsize=9)
    return _save(figure, path)
