"""Writing a report: Markdown tables of its frames, atomic files, and the self-contained HTML page."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlt.core.io import atomic_path


def md_table(frame: pd.DataFrame, digits: int = 3) -> str:
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return "_(none)_\n"

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if not np.isfinite(value) else f"{value:.{digits}f}"
        return str(value)

    header = "| " + " | ".join(str(c) for c in frame.columns) + " |\n"
    rule = "|" + "---|" * len(frame.columns) + "\n"
    body = "".join("| " + " | ".join(cell(v) for v in row) + " |\n" for row in frame.itertuples(index=False))
    return header + rule + body


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def with_bounds(frame: pd.DataFrame) -> pd.DataFrame:
    """`ci_low` and `ci_high` as numbers (NaN where results written before intervals have none)."""
    for column in ("ci_low", "ci_high"):
        frame = frame.assign(**{column: pd.to_numeric(frame.get(column, np.nan), errors="coerce")})
    return frame


def cell_table(cells: pd.DataFrame, index: list[str]) -> str:
    """The `cell` column with one row per `index` and one column per language (group), both in the order
    they first appear (the study's)."""
    table = cells.pivot_table(index=index, columns="language", values="cell", aggfunc="first")
    table = table.reindex(pd.MultiIndex.from_frame(cells[index].drop_duplicates()))
    return md_table(table[list(dict.fromkeys(cells.language))].reset_index().fillna("-"))


def interval_pivot(frame: pd.DataFrame, value: str, index: list[str]) -> str:
    """`value [ci_low, ci_high]` with one row per `index` and one column per language (group)."""
    bounds = zip(frame[value], frame.ci_low, frame.ci_high, strict=True)
    return cell_table(
        frame.assign(cell=[with_interval(float(v), float(lo), float(hi)) for v, lo, hi in bounds]), index
    )


def with_interval(value: float, low: float, high: float) -> str:
    """ "+0.072 [+0.041, +0.103]", or the value alone when there is no interval (older stages)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:+.3f}"
    return f"{value:+.3f} [{low:+.3f}, {high:+.3f}]"


def triples(frame: pd.DataFrame, index: list[str]) -> str:
    """One row per `index`, one column per language group, cells "clean / perturbed / drop"."""
    mean = frame.groupby([*index, "language"], sort=False)[["clean", "perturbed", "drop"]].mean()
    cells = mean.apply(lambda r: f"{r.clean:.3f} / {r.perturbed:.3f} / {r['drop']:+.3f}", axis=1)
    return cell_table(cells.rename("cell").reset_index(), index)


def pivot(frame: pd.DataFrame, index: list[str], value: str) -> str:
    """`value` with one column per language (or group) and one row per `index`, as a Markdown table."""
    return md_table(frame.pivot_table(index=index, columns="language", values=value).reset_index())


def html_page(markdown: str, root: Path) -> str:
    """A small Markdown subset (headings, tables, images, paragraphs) as one HTML page, images inlined."""
    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append([html.escape(c.strip()) for c in lines[i].strip("|").split("|")])
                i += 1
            head, rows = block[0], block[2:]
            body.append(
                "<div class='wide'><table><tr>"
                + "".join(f"<th>{c}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
                + "</table></div>"
            )
            continue
        images = re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", line)
        if images:
            for alt, src in images:
                data = base64.b64encode((root / src).read_bytes()).decode()
                body.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            text = html.escape(line)
            text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
            text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
            body.append(f"<p>{text}</p>")
        i += 1
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse;"
        "font-size:12px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "img{max-width:100%}code{background:#f4f4f4}.wide{overflow-x:auto}"
    )
    page_head = f"<head><meta charset='utf-8'><title>xlt report</title><style>{style}</style></head>"
    return f"<!doctype html><html>{page_head}<body>{''.join(body)}{IMAGE_CHECK}</body></html>\n"


# once the page has loaded, <body data-images="loaded/total" data-width="page width/window width">, which
# the browser test reads (a wide table scrolls in its own box, so the page itself never scrolls sideways)
IMAGE_CHECK = (
    "<script>addEventListener('load',()=>{const a=[...document.images],b=document.body.dataset;b.images="
    "a.filter(i=>i.complete&&i.naturalWidth>0).length+'/'+a.length;"
    "b.width=document.documentElement.scrollWidth+'/'+innerWidth})</script>"
)
