"""Model size against robustness: the table, the slope by hand, and the report section of a tiny study
with two depths of one encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from xlt.analysis.size import size_axis, size_slopes, size_table
from xlt.cli.main import app
from xlt.models.sentence import parameter_counts
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.records import record_study
from xlt.study.results import write_results
from xlt.study.runner import run_plan


def _rows(encoder: str, drop: float) -> list[dict[str, object]]:
    base = {"target": "semrel", "variant": "standard", "intermediate": "none", "suite": "attack"}
    base |= {"encoder": encoder, "drop": drop, "ci_low": drop - 0.05, "ci_high": drop + 0.05}
    return [
        base | {"language": "eng", "group": "eng", "clean": 0.8, "perturbed": 0.8 - drop},
        base | {"language": "African", "group": "hau amh", "clean": 0.5, "perturbed": 0.5 - drop},
    ]


def test_slope_per_tenfold_parameters_by_hand() -> None:
    robustness = pd.DataFrame(
        _rows("m@layers=1", 0.3) + _rows("m@layers=2", 0.2) + _rows("m", 0.1) + _rows("control", 0.9)
    )
    parameters = {"m@layers=1": 10**6, "m@layers=2": 10**7, "m": 10**8, "control": 10**7}
    axis = size_axis(list(parameters), {"m@layers=1": "m", "m@layers=2": "m", "m": "m", "control": "control"})
    assert axis == {"m@layers=1", "m@layers=2", "m"}
    table = size_table(robustness, parameters, axis)
    assert set(table.language) == {"English", "African"} and len(table) == 8
    slopes = size_slopes(table).set_index(["language", "quantity"])
    assert slopes.loc[("African", "drop"), "slope"] == pytest.approx(-0.1)  # the control is not fitted
    assert slopes.loc[("African", "perturbed"), "slope"] == pytest.approx(0.1)
    assert slopes.loc[("English", "drop"), "n"] == 3
    # q within each family (perturbed-score slopes, drop slopes): Benjamini-Hochberg of its p-values
    from xlt.analysis.inference import benjamini_hochberg

    for _, family in slopes.groupby("family"):
        assert np.allclose(family.q, benjamini_hochberg(family.p.to_numpy()), equal_nan=True)
    assert set(slopes.family) == {"size slopes of the perturbed score", "size slopes of the drop"}


def test_parameter_counts_of_size_variants(tiny_encoder_dir: Path) -> None:
    full, full_body = parameter_counts(str(tiny_encoder_dir))
    cut, cut_body = parameter_counts(f"{tiny_encoder_dir}@layers=1")
    assert full - cut == full_body - cut_body > 0  # the word embeddings stay, one layer goes
    assert parameter_counts("dice") == (0, 0)


def test_report_section_of_a_size_study(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    study = tmp_path / "size.yaml"
    study.write_text(
        f"name: size\nencoders: ['{tiny_encoder_dir}', '{tiny_encoder_dir}@layers=1']\nseeds: [1]\n"
        "targets: [semrel]\n"
        "training: {target: {max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}}\n"
        "evaluation: {languages: [eng, hau, amh], max_examples: 20, bootstrap: 50,\n"
        "             robustness: {suites: [char-noise, attack]}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    config = load_study(study)
    plan = build_plan(config)
    root = tmp_path / "runs" / "size"
    assert not run_plan(plan, RunStore(root), data_dir, show_progress=False).failed
    from rich.console import Console

    record_study(root, config, Console())
    write_results(plan, RunStore(root))
    result = CliRunner().invoke(
        app, ["report", str(root), "--data-dir", str(data_dir), "--permutations", "50"]
    )
    assert result.exit_code == 0, result.output
    markdown = (root / "report" / "report.md").read_text()
    assert "## Model size and robustness" in markdown
    table = pd.read_csv(root / "report" / "size_robustness.csv")
    assert set(table.encoder) == {str(tiny_encoder_dir), f"{tiny_encoder_dir}@layers=1"}
    assert {"English", "African"} <= set(table.language) and table.on_axis.all()
    assert (root / "report" / "figures" / "size_vs_drop.png").stat().st_size > 1000


def test_questions_tell_encoders_apart_when_a_study_has_several() -> None:
    """A size study's rows differ by encoder alone: the findings' tables and "holds for" lead with it."""
    from xlt.report.build import _questions

    def drops(encoders: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {"encoder": encoders, "target": "semrel", "variant": "standard", "intermediate": "none",
             "suite": "attack", "language": "eng", "drop": 1.0, "q": 0.01}
        )  # fmt: skip

    def labels(robustness: pd.DataFrame) -> list[str]:
        questions = _questions(
            pd.DataFrame(), None, robustness, pd.DataFrame(), None, pd.DataFrame(), pd.DataFrame()
        )
        return next(q for q in questions if q.title.startswith("What do perturbations cost")).labels

    assert labels(drops(["me5-small@layers=3", "me5-small"]))[0] == "encoder"
    assert "encoder" not in labels(drops(["me5-small", "me5-small"]))
