"""TaskEmb, LogME, LEEP and NCE on a tiny study's trained stages, and `xlt similarity` on a study."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from xlt.cli.main import app
from xlt.core.errors import ConfigError
from xlt.runs.store import RunStore
from xlt.similarity.registry import get_estimators
from xlt.similarity.trained import TrainedStages, fisher_diagonal
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.runner import run_plan
from xlt.study.similarity import SIMILARITY_CSV, study_pairs, study_similarity, trained_stages


@pytest.fixture(scope="module")
def trained_study(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path, data_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("sim-study")
    budget = "{max_steps: 3, batch_size: 8, train_limit: 48, dev_limit: 16, evaluations: 1}"
    study = root / "study.yaml"
    study.write_text(
        "\n".join(
            [
                "name: sim",
                f"encoders: ['{tiny_encoder_dir}']",
                "seeds: [1]",
                "intermediates: [mrpc, sst2, stsb]",
                "targets: [semrel, xnli]",
                f"training: {{intermediate: {budget}, target: {budget}}}",
                "evaluation: {languages: [eng, en, sw], max_examples: 20, bootstrap: 50,",
                "             tatoeba: {enabled: false}}",
                f"output_dir: '{root / 'runs'}'",
            ]
        )
        + "\n"
    )
    plan = build_plan(load_study(study))
    outcome = run_plan(plan, RunStore(root / "runs" / "sim"), data_dir, show_progress=False)
    assert not outcome.failed
    return study


def test_trained_estimators_are_defined_where_the_papers_define_them(
    trained_study: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(load_study(trained_study))
    store = RunStore(trained_study.parent / "runs" / "sim")
    assert sorted((i.name, t.name) for i, t in study_pairs(plan)) == sorted(
        [(i, t) for i in ("mrpc", "sst2", "stsb") for t in ("semrel", "xnli")]
    )
    estimators = get_estimators(["taskemb", "logme", "leep", "nce"])
    settings = {"sample": 24, "fisher_examples": 8, "probe_examples": 64}
    frame = study_similarity(plan, store, data_dir, estimators, **settings)
    value = {(r.estimator, r.intermediate, r.target): r.similarity for r in frame.itertuples()}
    for key, v in value.items():
        estimator, intermediate, _ = key
        if estimator in ("leep", "nce") and intermediate == "stsb":
            assert math.isnan(v), key  # a regression intermediate has no classes
        else:
            assert math.isfinite(v), key
    assert all(value[("nce", i, t)] <= 1e-9 for i in ("mrpc", "sst2") for t in ("semrel", "xnli"))  # -H <= 0
    assert all(value[("leep", i, t)] < 0 for i in ("mrpc", "sst2") for t in ("semrel", "xnli"))
    assert all(
        -1 <= value[("taskemb", i, t)] <= 1 for i in ("mrpc", "sst2", "stsb") for t in ("semrel", "xnli")
    )

    # cached: the same values without loading a model again
    monkeypatch.setattr(TrainedStages, "load_kind", lambda *a: pytest.fail("model loaded"))
    monkeypatch.setattr(TrainedStages, "load_encoder", lambda *a: pytest.fail("encoder loaded"))
    again = study_similarity(plan, store, data_dir, estimators, **settings)
    pd.testing.assert_frame_equal(frame, again)


def test_fisher_is_the_mean_squared_per_example_gradient(trained_study: Path, data_dir: Path) -> None:
    import torch

    plan = build_plan(load_study(trained_study))
    stages = trained_stages(plan, RunStore(trained_study.parent / "runs" / "sim"))
    stage = stages.stage("mrpc")
    assert stage is not None
    kind = stages.load_kind(stage)
    data = stage.task_spec.load(data_dir, "train", "en", limit=3)
    fisher = fisher_diagonal(kind, data, layers=1)
    last = [p for n, p in kind.encoder.transformer.named_parameters() if n.startswith("encoder.layer.1.")]
    expected = [torch.zeros_like(p) for p in last]
    for i in range(3):
        loss, _ = kind.loss(data, [i])
        for acc, grad in zip(expected, torch.autograd.grad(loss, last), strict=True):
            acc += grad**2 / 3
    np.testing.assert_allclose(
        fisher, torch.cat([e.flatten() for e in expected]).numpy(), rtol=1e-4, atol=1e-10
    )


def test_cli_similarity_of_a_study_writes_the_csv(trained_study: Path, data_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["similarity", str(trained_study), "--estimators", "taxonomy,random,semb-lang,logme",
         "--sample", "16", "--probe-examples", "48", "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(trained_study.parent / "runs" / "sim" / SIMILARITY_CSV)
    assert set(frame.estimator) == {"taxonomy", "random", "semb-lang", "logme"}
    assert set(frame[frame.estimator == "semb-lang"].language) == {"eng", "en", "sw"}
    assert "taxonomy" in result.output and "logme" in result.output
    bad = CliRunner().invoke(app, ["similarity", str(trained_study), "--estimators", "sembb"])
    assert isinstance(bad.exception, ConfigError) and "did you mean 'semb'" in str(bad.exception)


def test_report_of_a_study(trained_study: Path, data_dir: Path) -> None:
    from rich.console import Console

    from xlt.study.records import record_study
    from xlt.study.results import write_results

    config = load_study(trained_study)
    plan = build_plan(config)
    root = trained_study.parent / "runs" / "sim"
    record_study(root, config, Console())
    write_results(plan, RunStore(root))
    runner = CliRunner()
    done = runner.invoke(
        app, ["similarity", str(root), "--estimators", "taxonomy,random,semb,nn-rank", "--sample", "16",
              "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "learned ranker (ridge)" in done.output and "leave-one-target-out" in done.output
    result = runner.invoke(app, ["report", str(root), "--data-dir", str(data_dir), "--permutations", "200"])
    assert result.exit_code == 0, result.output
    report = root / "report"
    markdown = (report / "report.md").read_text()
    for heading in (
        "## Gains",
        "## Does similarity predict the gain?",
        "### Spearman per target",
        "## Can a learned ranker choose the intermediate?",
        "## Languages",
    ):
        assert heading in markdown
    per_target = markdown.split("### Spearman per target")[1].split("\n### ")[0]
    assert "| estimator | target | coefficient |" in per_target and "| taxonomy |" in per_target
    ranker = pd.read_csv(report / "ranker_summary.csv")
    # every predictor on held-out targets (semrel, xnli) and languages (eng, en, sw), next to random
    assert set(ranker.scheme) == {"leave-one-target-out", "leave-one-language-out"}
    # the estimators of this run, with those an earlier run left in similarity.csv (kept, not replaced)
    similarity = pd.read_csv(root / "similarity.csv")
    assert {"taxonomy", "semb", "nn-rank", "random"} <= set(similarity.estimator)
    assert set(ranker.predictor) == {"ranker", *similarity.estimator}
    assert set(similarity.encoder) == {str(config.encoders[0])}
    for name in ("gains.png", "similarity_vs_gain.png", "regret.png", "drop_vs_distance.png", "ranker.png"):
        assert (report / "figures" / name).stat().st_size > 1000, name
    page = (report / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4 and "figures/" not in page.split("<body>")[1]
    selection = pd.read_csv(report / "selection.csv")
    assert {"regret@1", "random_regret@1", "rank_of_best"} <= set(selection.columns)
    languages = pd.read_csv(report / "languages.csv")
    assert (
        set(languages.script) >= {"LATIN"}
        and languages.loc[languages.language == "eng", "distance"].iloc[0] == 0
    )


def test_findings_page_of_a_study(trained_study: Path, data_dir: Path, tmp_path: Path) -> None:
    from xlt.study.records import record_study
    from xlt.study.results import write_results

    config = load_study(trained_study)
    root = trained_study.parent / "runs" / "sim"
    record_study(root, config, __import__("rich.console").console.Console())
    write_results(build_plan(config), RunStore(root))
    runner = CliRunner()
    done = runner.invoke(
        app, ["similarity", str(root), "--estimators", "taxonomy,random,semb", "--sample", "16",
              "--data-dir", str(data_dir), "--ranker", "none"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    page_path = tmp_path / "FINDINGS.md"
    from tests.test_findings_align import _write

    aligned = _write(tmp_path / "align")
    result = runner.invoke(
        app, ["findings", str(root), "--output", str(page_path), "--data-dir", str(data_dir),
              "--permutations", "200", "--examples", str(tmp_path), "--align", str(aligned)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = page_path.read_text()
    for heading in (
        "## Studies",
        "## Does intermediate training change zero-shot transfer?",
        "## Does task similarity predict the gain? (Spearman)",
        "## Does choosing the intermediate by similarity beat a random choice?",
        "## Does STS help African and low-resource languages more than other intermediates?",
        "## How does model size change robustness?",
    ):
        assert heading in page, heading
    # every study names the commands that rebuild it, from its directory (no preset matches here)
    assert f"`xlt run {root} && xlt similarity {root} && xlt report {root}`" in page
    # how far the study got, and the precision its rows were computed in
    studies = page.split("## Studies")[1].split("\n## ")[0]
    assert "| stages finished | test items | precision |" in studies
    planned = len(build_plan(config).stages)
    assert f"| {planned} of {planned} |" in studies and re.search(
        r"\| (bf16|fp32)(, (bf16|fp32))? \|", studies
    )
    # the ranker against random, on held-out targets, with its interval
    assert "leave-one-target-out" in page and "the ranker" in page
    # a study without robustness suites or encoders of several sizes says so
    assert page.split("## How does model size change robustness?")[1].strip().startswith("Not measured")
    # the 3-step stages of this study did not converge: no gain counts as a finding
    intermediate = page.split("## Does intermediate training change zero-shot transfer?")[1].split("\n## ")[0]
    assert "did not converge" in intermediate or "not recorded" in intermediate
    # no stage of the study is aligned: its alignment question points to `xlt align`'s section, next to it
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    in_study = headings.index("## What does cross-lingual alignment buy? (aligned - unaligned, same stages)")
    assert headings[in_study + 1] == "## What does a learned alignment buy? (`xlt align`)"
    assert "compared in the next section" in page.split(headings[in_study])[1].split("\n## ")[0]
    # STS against the other intermediates: the groups' rows are shown whether or not anything survives
    sts = page.split("## Does STS help African and low-resource languages")[1].split("\n## ")[0]
    assert "| target | intermediate | language | compared |" in sts and "| African |" in sts


def test_sts_is_contrasted_with_the_mean_of_the_other_intermediates(
    trained_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlt.study.results as results

    plan = build_plan(load_study(trained_study))
    store = RunStore(trained_study.parent / "runs" / "sim")
    contrasts = results.sts_contrast_rows(plan, store)
    scores = results.score_rows(plan, store)
    assert set(contrasts.intermediate) == {"stsb"} and set(contrasts.compared) == {"mrpc sst2"}
    assert set(contrasts.target) == {"semrel", "xnli"}
    for row in contrasts[contrasts.members == contrasts.language].itertuples():
        score = scores[(scores.target == row.target) & (scores.language == row.language)]
        by_intermediate = score.groupby("intermediate").score.mean()
        expected = by_intermediate["stsb"] - (by_intermediate["mrpc"] + by_intermediate["sst2"]) / 2
        assert row.sts_minus_others == pytest.approx(expected) == pytest.approx(row.sts - row.others)
        assert row.ci_low <= row.sts_minus_others <= row.ci_high
    assert set(contrasts.family) == {results.STS_LANGUAGE_FAMILY, results.STS_GROUP_FAMILY}
    assert contrasts.q.notna().all()
    # an intermediate that has not finished the seeds the STS one has is left out, not a seed cut
    finished = results.usable
    monkeypatch.setattr(
        results, "usable", lambda s, stage: stage.intermediate != "sst2" and finished(s, stage)
    )
    assert set(results.sts_contrast_rows(plan, store).compared) == {"mrpc"}


def test_run_a_study_directory_again(trained_study: Path, data_dir: Path) -> None:
    root = trained_study.parent / "runs" / "sim"
    runner = CliRunner()
    again = runner.invoke(app, ["run", str(root), "--data-dir", str(data_dir), "--no-progress"])
    assert again.exit_code == 0, again.output
    refused = runner.invoke(app, ["run", str(root), "--set", "seeds=[2]", "--data-dir", str(data_dir)])
    assert refused.exit_code != 0 and "cannot change the config recorded" in str(refused.exception or "")


def test_a_multiple_choice_target_is_probed_as_choice_pairs(trained_study: Path, data_dir: Path) -> None:
    """LogME, LEEP and NCE of XCOPA: each choice against its premise, labelled right or wrong."""
    from datasets import Dataset

    from xlt.similarity.estimators import similarity_matrix
    from xlt.similarity.trained import TrainedContext, probe_view
    from xlt.tasks.registry import get_task

    xcopa = get_task("xcopa")
    rows = Dataset.from_dict(
        {"premise": ["p1", "p2"], "question": ["cause", "effect"], "choices": [["a", "b"], ["c", "d"]],
         "label": [1, 0]}
    )  # fmt: skip
    probed, pairs = probe_view(xcopa, rows)
    assert probed.value == "pair_classification"
    assert pairs["sentence1"] == ["p1", "p1", "p2", "p2"]
    assert pairs["sentence2"] == ["cause: a", "cause: b", "effect: c", "effect: d"]
    assert pairs["label"] == [0, 1, 1, 0]

    plan = build_plan(load_study(trained_study))
    store = RunStore(trained_study.parent / "runs" / "sim")
    context = TrainedContext(
        data_dir,
        encoder=plan.config.encoders[0],
        sample=24,
        stages=trained_stages(plan, store),
        probe_examples=40,
    )
    intermediates = [get_task(name) for name in ("mrpc", "sst2", "stsb")]
    frame = similarity_matrix(
        context, [(i, xcopa) for i in intermediates], get_estimators(["logme", "leep", "nce"]),
        languages=lambda task: ["en"],
    )  # fmt: skip
    value = {(r.estimator, r.intermediate): r.similarity for r in frame.itertuples()}
    assert all(math.isfinite(value[("logme", i.name)]) for i in intermediates)
    for estimator in ("leep", "nce"):
        assert math.isnan(value[(estimator, "stsb")])  # a regression intermediate has no classes
        assert all(math.isfinite(value[(estimator, i)]) for i in ("mrpc", "sst2"))


def test_a_stage_kept_without_weights_is_named(trained_study: Path, data_dir: Path, tmp_path: Path) -> None:
    """A study kept in git without its weights: the trained-model estimators give NaN for that task, and
    `xlt similarity` says which stage it is rather than leaving an unexplained NaN."""
    import shutil

    from xlt.study.records import STUDY_RECORD, write_study_record

    copy = tmp_path / "sim"
    shutil.copytree(trained_study.parent / "runs" / "sim", copy)
    config = load_study(trained_study)
    write_study_record(copy / STUDY_RECORD, config)  # as `xlt run` leaves it
    plan = build_plan(config)
    store = RunStore(copy)
    (baseline,) = [s for s in plan.targets if s.task == "xnli" and s.parent is None]
    for weights in (copy / "stages" / baseline.stage_id).glob("*.safetensors"):
        weights.unlink()
    found = trained_stages(plan, store)
    assert found.without_weights == {"xnli": baseline.stage_id}
    assert "xnli" not in found.models and "semrel" in found.models

    result = CliRunner().invoke(
        app,
        ["similarity", str(copy), "--estimators", "taskemb,taxonomy", "--targets", "xnli",
         "--sample", "8", "--data-dir", str(data_dir), "--ranker", "none"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"taskemb gives NaN where it needs xnli's model: its finished stage {baseline.stage_id}"
        in " ".join(result.output.split())
    )
    frame = pd.read_csv(copy / SIMILARITY_CSV)
    assert frame[frame.estimator == "taskemb"].similarity.isna().all()
    assert frame[frame.estimator == "taxonomy"].similarity.notna().all()
