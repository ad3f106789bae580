"""Does similarity predict robustness: the outcomes table, the correlations (checked against scipy on the
joined table), selection on perturbed scores, and the report section of a tiny study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from xlt.analysis.robust_transfer import analyse_robustness, robustness_outcomes
from xlt.cli.main import app
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.records import record_study
from xlt.study.results import write_results
from xlt.study.runner import run_plan


def test_outcomes_name_suite_and_method_and_take_the_non_english_mean_as_target_level() -> None:
    robustness = pd.DataFrame(
        {
            "target": ["t", "t"], "variant": ["standard", "standard"], "intermediate": ["a", "a"],
            "suite": ["attack", "attack"], "language": ["de", "non-English"], "group": ["de", "de sw"],
            "clean": [0.6, 0.5], "perturbed": [0.2, 0.1], "drop": [0.4, 0.4], "seeds": [3, 3],
        }
    )  # fmt: skip
    outcomes = robustness_outcomes(robustness, pd.DataFrame())
    assert set(outcomes.outcome) == {"drop: attack [standard]", "perturbed: attack [standard]"}
    assert set(outcomes.language) == {"de", "macro-avg"}
    assert outcomes.loc[outcomes.outcome.str.startswith("perturbed"), "gain"].tolist() == [0.2, 0.1]


def test_correlations_and_selection_of_known_outcomes() -> None:
    intermediates = ["a", "b", "c", "d", "e"]
    perturbed = [0.1, 0.3, 0.2, 0.5, 0.4]
    robustness = pd.DataFrame(
        {
            "target": "t", "variant": "standard", "intermediate": intermediates, "suite": "char-noise",
            "language": "non-English", "group": "de sw", "clean": 0.6, "perturbed": perturbed,
            "drop": [0.6 - p for p in perturbed], "seeds": 3,
        }
    )  # fmt: skip
    similarity = pd.DataFrame(
        {"estimator": "x", "intermediate": intermediates, "target": "t", "language": "all",
         "similarity": [0.0, 0.2, 0.1, 0.4, 0.3]}
    )  # fmt: skip
    analysis = analyse_robustness(robustness, pd.DataFrame(), similarity, permutations=200, resamples=100)
    summary = analysis.summary().set_index("outcome")
    rho = stats.spearmanr(similarity.similarity, perturbed).statistic
    assert summary.loc["perturbed: char-noise [standard]", "coefficient"] == pytest.approx(rho)
    assert summary.loc["drop: char-noise [standard]", "coefficient"] == pytest.approx(-rho)
    assert set(summary.family) == {"robustness correlations of x"} and summary.q.notna().all()
    chosen = analysis.selection.iloc[0]  # the most similar intermediate has the best perturbed score
    assert chosen["regret@1"] == 0 and chosen["rank_of_best"] == 1 and chosen["random_regret@1"] > 0


def test_report_section_of_a_study(tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path) -> None:
    budget = "{max_steps: 2, batch_size: 8, train_limit: 32, dev_limit: 16, evaluations: 1}"
    study = tmp_path / "study.yaml"
    study.write_text(
        f"name: simrob\nencoders: ['{tiny_encoder_dir}']\nseeds: [1]\n"
        "intermediates: [mrpc, sst2, stsb]\ntargets: [semrel]\n"
        f"training: {{intermediate: {budget}, target: {budget}}}\n"
        "evaluation: {languages: [eng, hau, amh], max_examples: 20, bootstrap: 50,\n"
        "             tatoeba: {enabled: false},\n"
        "             robustness: {suites: [char-noise, attack], rate: 0.2}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n"
    )
    config = load_study(study)
    plan = build_plan(config)
    root = tmp_path / "runs" / "simrob"
    assert not run_plan(plan, RunStore(root), data_dir, show_progress=False).failed
    from rich.console import Console

    record_study(root, config, Console())
    write_results(plan, RunStore(root))
    runner = CliRunner()
    done = runner.invoke(
        app, ["similarity", str(root), "--estimators", "taxonomy,random", "--data-dir", str(data_dir)]
    )
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["report", str(root), "--data-dir", str(data_dir), "--permutations", "100"])
    assert result.exit_code == 0, result.output
    markdown = (root / "report" / "report.md").read_text()
    assert "## Does similarity predict robustness?" in markdown
    assert "### Does task similarity predict robustness?" in markdown  # its findings question
    assert (root / "report" / "figures" / "similarity_vs_robustness.png").stat().st_size > 1000
    correlations = pd.read_csv(root / "report" / "robustness_correlations.csv")
    outcomes = set(correlations.outcome)
    assert {"drop: attack [standard]", "perturbed: char-noise [standard]"} <= outcomes
    assert np.isfinite(correlations.q).any()
