"""`fine_tune: false` evaluates an encoder as it stands on a target: a pair-regression target is scored by
the cosine of the pooled embeddings (MTEB's STS setting), once for every seed when nothing trained; after an
intermediate, the intermediate-trained encoder is scored the same way. Targets that need a trained head
refuse the setting, and studies that do not use it keep their config hash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from xlt.core.errors import ConfigError
from xlt.evaluation.zero_shot import evaluate_language
from xlt.models.lexical import dice_scores
from xlt.models.sentence import SentenceEncoder
from xlt.runs.store import RunStore
from xlt.study.config import load_study
from xlt.study.plan import build_plan
from xlt.study.results import score_rows
from xlt.study.runner import run_plan
from xlt.study.stage_files import PREDICTIONS
from xlt.tasks import get_task


def study(tmp_path: Path, encoder: Path | str, targets: str, extra: str = "") -> Path:
    path = tmp_path / "untrained.yaml"
    path.write_text(
        f"name: untrained\nencoders: ['{encoder}']\nseeds: [1, 2]\ntargets: {targets}\n"
        "training: {intermediate: {max_steps: 2, batch_size: 8, train_limit: 16, dev_limit: 8, "
        "evaluations: 1}}\n"
        "evaluation: {languages: [eng, hau], max_examples: 20, tatoeba: {enabled: false}}\n"
        f"output_dir: '{tmp_path / 'runs'}'\n{extra}"
    )
    return path


def test_untrained_semrel_is_scored_by_cosine_once_for_all_seeds(
    tmp_path: Path, tiny_encoder_dir: Path, data_dir: Path
) -> None:
    plan = build_plan(load_study(study(tmp_path, tiny_encoder_dir, "[{task: semrel, fine_tune: false}]")))
    (stage,) = plan.stages  # no training, nothing seed-dependent: one stage serves both seeds
    assert stage.training is None and stage.parent is None
    store = RunStore(tmp_path / "runs" / "untrained")
    outcome = run_plan(plan, store, data_dir, show_progress=False)
    assert outcome.done == [stage.stage_id] and not outcome.failed
    predictions = json.loads((store.stage_dir(stage.stage_id) / PREDICTIONS).read_text())

    task = get_task("semrel")
    encoder = SentenceEncoder(str(tiny_encoder_dir))
    for language in ("eng", "hau"):
        data = task.load(data_dir, "test", language)
        kept = set(predictions[language]["ids"])
        data = data.select([i for i, item in enumerate(data["id"]) if str(item) in kept])
        first = encoder.encode(data["sentence1"], precision="fp32")
        second = encoder.encode(data["sentence2"], precision="fp32")
        cosine = (first * second).sum(axis=1)
        by_id = dict(zip([str(i) for i in data["id"]], cosine, strict=True))
        ours = np.array([by_id[i] for i in predictions[language]["ids"]])
        assert np.allclose(predictions[language]["pred"], ours, atol=2e-2)  # bf16 where the CPU has it
        assert not np.allclose(ours, dice_scores(data["sentence1"], data["sentence2"]), atol=1e-2)
    rows = score_rows(plan, store)
    assert set(rows.convergence) == {"untrained"} and sorted(rows.language.unique()) == ["eng", "hau"]


def test_evaluate_language_scores_pairs_with_an_encoder_as_it_stands(
    tiny_encoder_dir: Path, data_dir: Path
) -> None:
    task, encoder = get_task("semrel"), SentenceEncoder(str(tiny_encoder_dir))
    result = evaluate_language(task, data_dir, "eng", encoder=encoder, max_examples=25, precision="fp32")
    lexical = evaluate_language(task, data_dir, "eng", max_examples=25)
    assert result.ids == lexical.ids and result.gold == lexical.gold and result.n == 25
    assert result.pred != lexical.pred and all(-1.0 <= p <= 1.0 + 1e-6 for p in result.pred)


def test_untrained_target_after_an_intermediate_uses_its_encoder(
    tmp_path: Path, tiny_encoder_dir: Path
) -> None:
    path = study(tmp_path, tiny_encoder_dir, "[{task: semrel, fine_tune: false}]", "intermediates: [stsb]\n")
    plan = build_plan(load_study(path))
    chains = sorted((s.chain, s.seed) for s in plan.targets)
    assert chains == [("semrel", 1), ("stsb>semrel", 1), ("stsb>semrel", 2)]
    assert all(s.training is None for s in plan.targets)


def test_targets_that_need_a_trained_head_refuse_fine_tune_false(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_plan(load_study(study(tmp_path, "me5-small", "[semrel, {task: xnli, fine_tune: false}]")))
    assert "fine_tune: false" in str(info.value) and "\n" not in str(info.value)


def test_the_default_leaves_the_config_hash_of_existing_studies_alone(tmp_path: Path) -> None:
    plain = load_study(study(tmp_path, "me5-small", "[semrel]"))
    explicit = load_study(study(tmp_path, "me5-small", "[{task: semrel, fine_tune: true}]"))
    untrained = load_study(study(tmp_path, "me5-small", "[{task: semrel, fine_tune: false}]"))
    assert plain.hash() == explicit.hash() != untrained.hash()
    assert "fine_tune" not in plain.resolved()["targets"][0]
    assert untrained.resolved()["targets"][0]["fine_tune"] is False
    assert type(untrained).model_validate(untrained.resolved()) == untrained  # study.json reads back


def test_findings_commands_leave_out_similarity_without_intermediates(tmp_path: Path) -> None:
    from typing import cast

    from xlt.report.build import Report
    from xlt.report.findings_page import StudyFindings, _commands

    plain = load_study(study(tmp_path, "me5-small", "[{task: semrel, fine_tune: false}]"))
    command = _commands(StudyFindings(tmp_path, plain, cast(Report, None)), None)
    assert "xlt similarity" not in command and command.endswith(f"xlt report {tmp_path}`")
    path = study(tmp_path, "me5-small", "[{task: semrel, fine_tune: false}]", "intermediates: [stsb]\n")
    with_intermediates = load_study(path)
    assert "xlt similarity" in _commands(
        StudyFindings(tmp_path, with_intermediates, cast(Report, None)), None
    )
