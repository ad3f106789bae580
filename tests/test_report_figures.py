"""Heat maps show which cells survive the multiple-comparison control: those keep full colour and a star,
the rest are faded so that a colour scale set by noise does not make noise look strong."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xlt.report import figures
from xlt.report.build import _surviving


def test_cells_that_do_not_survive_are_faded() -> None:
    values = np.array([[0.04, 0.04], [-0.04, np.nan]])
    starred = np.array([[True, False], [False, False]])
    mapper = plt.cm.ScalarMappable(plt.Normalize(-0.04, 0.04), plt.get_cmap("RdBu"))
    colours = figures.cell_colours(values, mapper, starred)
    full, faded = colours[0, 0, :3], colours[0, 1, :3]
    assert np.allclose(full, mapper.to_rgba(0.04)[:3])
    assert (faded > full).all() and np.allclose(faded, figures.FADE_TO + (1 - figures.FADE_TO) * full)
    assert colours[1, 1, 3] == 0.0  # a missing cell is transparent, faded or not
    plain = figures.cell_colours(values, mapper, None)
    assert np.allclose(plain[0, 1, :3], full)  # without marks nothing is faded


def test_gain_marks_need_a_small_q_and_a_converged_stage(tmp_path: Path) -> None:
    gains = pd.DataFrame(
        {
            "intermediate": ["stsb", "stsb", "mrpc", "mrpc"],
            "language": ["de", "sw", "de", "sw"],
            "gain": [0.05, 0.04, 0.06, -0.01],
            "q": [0.01, 0.30, 0.01, 0.02],
            "convergence": ["converged", "converged", "capped", "converged"],
        }
    )
    marks = _surviving(gains, "intermediate", "language")
    assert marks is not None
    assert marks.loc["stsb", "de"] and not marks.loc["stsb", "sw"]
    assert not marks.loc["mrpc", "de"]  # q is small but the stage hit its step cap
    assert marks.loc["mrpc", "sw"]
    assert _surviving(gains.drop(columns="q"), "intermediate", "language") is None
    matrix = gains.pivot_table(index="intermediate", columns="language", values="gain", sort=False)
    path = figures.heatmap(matrix, "gain", tmp_path / "gains.png", marks=marks)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
