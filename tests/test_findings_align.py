"""The findings page's alignment section, from `xlt align` output: each method's mean change over
languages with a bootstrap interval over languages, the share of languages it improves, and the African and
low-resource groups; a directory without alignment.csv is refused with the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.report.findings_page import _align


def _write(directory: Path) -> Path:
    rows = []
    for language, a, b in (("sw", 0.10, -0.10), ("ha", 0.20, 0.10), ("de", 0.10, -0.10), ("fr", 0.20, 0.10)):
        for method, delta in (("procrustes", a), ("lir", b)):
            rows.append({
                "language": language, "evaluation": "tatoeba", "metric": "accuracy", "method": method,
                "before": 0.5, "after": 0.5 + delta, "delta": delta, "n": 100, "train_pairs": 500,
            })  # fmt: skip
    rows.append({  # a language without parallel data has no delta and is left out
        "language": "xx", "evaluation": "tatoeba", "metric": "accuracy", "method": "none (no parallel data)",
        "before": 0.5, "after": float("nan"), "delta": float("nan"), "n": 100, "train_pairs": 0,
    })  # fmt: skip
    directory.mkdir()
    pd.DataFrame(rows).to_csv(directory / "alignment.csv", index=False)
    return directory


def test_alignment_section_by_hand(tmp_path: Path) -> None:
    body = "\n".join(_align([_write(tmp_path / "align")], 0.95))
    # procrustes: deltas .1 .2 .1 .2, mean .15, sd .0577, se .0289, t(3) 0.975 quantile 3.182:
    # [.058, .242], p = 2 sf(5.196, 3) = .0138; BH over the 6 tests (the smallest p of six): q = .083,
    # so the interval excludes 0 but the change does not count
    assert (
        "the best method, procrustes, does not change it on average (+0.150 [+0.058, +0.242], q 0.083" in body
    )
    assert "better in 4/4 languages" in body and "4 languages" in body
    table = [line for line in body.splitlines() if line.startswith("| tatoeba")]
    assert any("| lir | all | 4 | 0.000" in line and "2/4" in line for line in table), table
    assert any("| procrustes | African | 2 | 0.150" in line for line in table), table  # sw, ha


def test_findings_refuses_a_directory_without_alignment(tmp_path: Path) -> None:
    (tmp_path / "study").mkdir()
    result = CliRunner().invoke(
        app,
        ["findings", str(tmp_path / "study"), "--align", str(tmp_path), "--output", str(tmp_path / "F.md")],
    )
    assert result.exit_code != 0
    assert "has no alignment.csv" in result.output or "has no alignment.csv" in str(result.exception)
