from __future__ import annotations

from pathlib import Path

import pytest

from xlt.core.errors import ConfigError
from xlt.study.config import load_study
from xlt.study.plan import build_plan

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return path


def test_quickstart_validates_and_expands_to_seventeen_stages() -> None:
    plan = build_plan(load_study(QUICKSTART))
    assert len(plan.intermediates) == 4  # (stsb, semrel-eng) x 2 seeds, each trained once
    transfer = [s for s in plan.targets if s.task != "tatoeba"]
    assert len(transfer) == 8  # 2 targets x (baseline + 1 intermediate) x 2 seeds
    assert {s.intermediate for s in transfer} == {"none", "stsb", "semrel-eng"}
    # Tatoeba of each intermediate-trained encoder per seed, and of the base encoder once (it does not
    # depend on the seed), without training
    tatoeba = [s for s in plan.targets if s.task == "tatoeba"]
    assert sorted((s.intermediate, s.seed) for s in tatoeba) == sorted(
        [("none", 1)] + [(name, seed) for name in ("stsb", "semrel-eng") for seed in (1, 2)]
    )
    assert all(s.training is None and s.max_examples == 100 for s in tatoeba)
    assert len({s.stage_id for s in plan.stages}) == 17


def test_study_wide_intermediate_skips_the_target_own_data(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nintermediates: [stsb, mrpc]\ntargets: [stsb-multi, semrel]\n")
    plan = build_plan(load_study(path))
    pairs = {(s.task, s.intermediate) for s in plan.targets if s.task != "tatoeba"}
    assert ("stsb-multi", "stsb") not in pairs and ("semrel", "stsb") in pairs
    assert ("stsb-multi", "mrpc") in pairs
    assert plan.excluded == (("stsb-multi", "stsb", "same English training data as the target"),)


def test_tatoeba_check_can_be_switched_off_and_checks_languages(tmp_path: Path) -> None:
    base = "name: x\nintermediates: [mrpc]\ntargets: [semrel]\nevaluation: {tatoeba: %s}\n"
    plan = build_plan(load_study(write(tmp_path, base % "{enabled: false}")))
    assert all(s.task != "tatoeba" for s in plan.targets)
    with pytest.raises(ConfigError, match=r"evaluation.tatoeba.languages \['klingon'\]"):
        build_plan(load_study(write(tmp_path, base % "{languages: [deu, klingon]}")))


def test_unknown_key_names_the_key_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets: [semrel]\ntraning: {}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'traning' \(did you mean 'training'\?\)"):
        load_study(path)


def test_nested_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets: [semrel]\ntraining: {target: {max_step: 3}}\n")
    with pytest.raises(ConfigError, match=r"training.target.max_step.*did you mean 'max_steps'"):
        load_study(path)


def test_overrides_are_parsed_as_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets: [semrel]\n")
    config = load_study(path, ["seeds=[3, 4]", "training.target.max_steps=7", "evaluation.languages=[hau]"])
    assert config.seeds == [3, 4]
    assert config.training.target.max_steps == 7
    assert config.evaluation.languages == ["hau"]


def test_config_hash_changes_with_any_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ntargets: [semrel]\n")
    assert load_study(path).hash() != load_study(path, ["training.target.learning_rate=1e-4"]).hash()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ntargets: [semrell]\n", "unknown task 'semrell' (did you mean 'semrel'?)"),
        ("name: x\ntargets: [stsb]\n", "cannot be used as target"),
        ("name: x\ntargets: [{task: stsb-multi, intermediates: [stsb]}]\n", "same English data"),
        ("name: x\nencoders: [me5-smal]\ntargets: [semrel]\n", "did you mean 'me5-small'"),
        ("name: x\ntargets: [semrel]\nevaluation: {languages: [xx]}\n", "not test languages"),
        ("name: x\nencoders: [dice]\nintermediates: [stsb]\ntargets: [semrel]\n", "lexical"),
    ],
)
def test_bad_studies_fail_with_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_plan(load_study(write(tmp_path, text)))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"study.yaml:3: not valid YAML"):
        load_study(write(tmp_path, "name: x\ntargets: [semrel\n"))


def test_duplicate_seeds_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="seeds: 1 listed more than once"):
        load_study(write(tmp_path, "name: x\ntargets: [semrel]\nseeds: [1, 1]\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_study(tmp_path / "missing.yaml")


def test_per_target_training_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: x\ntraining: {target: {max_steps: 9}}\n"
        "targets: [semrel, {task: xnli, training: {learning_rate: 1.0e-4}}]\n",
    )
    plan = build_plan(load_study(path))
    by_task = {stage.task: stage.training for stage in plan.targets}
    assert by_task["semrel"] is not None and by_task["semrel"].learning_rate == 2e-5
    assert by_task["xnli"] is not None and by_task["xnli"].learning_rate == 1e-4
    assert by_task["xnli"].max_steps == 9
    bad = write(tmp_path, "name: x\ntargets: [{task: xnli, training: {max_step: 3}}]\n")
    with pytest.raises(ConfigError, match=r"targets\[xnli\].training: unknown key 'max_step'.*'max_steps'"):
        build_plan(load_study(bad))


def test_per_intermediate_training_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: x\ntraining: {intermediate: {max_steps: 9}}\ntargets: [xnli]\n"
        "intermediates: [stsb, {task: tydiqa-en, training: {max_length: 256, learning_rate: 1.0e-4}}]\n",
    )
    config = load_study(path)
    plan = build_plan(config)
    by_task = {stage.task: stage.training for stage in plan.intermediates}
    assert by_task["stsb"] == config.training.intermediate  # a plain name: the study-wide settings
    tydiqa = by_task["tydiqa-en"]
    assert tydiqa is not None and (tydiqa.max_length, tydiqa.learning_rate, tydiqa.max_steps) == (
        256,
        1e-4,
        9,
    )
    assert {s.intermediate for s in plan.targets} == {"none", "stsb", "tydiqa-en"}
    # plain names are stored (and hashed) as before
    plain = load_study(write(tmp_path, "name: x\ntargets: [xnli]\nintermediates: [stsb]\n"))
    assert plain.resolved()["intermediates"] == ["stsb"]
    bad = write(
        tmp_path, "name: x\ntargets: [xnli]\nintermediates: [{task: stsb, training: {max_step: 3}}]\n"
    )
    with pytest.raises(ConfigError, match=r"intermediates\[stsb\].training: unknown key 'max_step'"):
        build_plan(load_study(bad))
    twice = write(tmp_path, "name: x\ntargets: [xnli]\nintermediates: [stsb, {task: stsb}]\n")
    with pytest.raises(ConfigError, match="stsb listed more than once"):
        load_study(twice)


def test_every_example_study_validates() -> None:
    for path in sorted(QUICKSTART.parent.glob("*.yaml")):
        build_plan(load_study(path))


def test_stage_identity_holds_only_settings_that_differ_from_defaults() -> None:
    """A new setting with a behaviour-preserving default must not orphan finished stages."""
    plan = build_plan(load_study(QUICKSTART))
    stage = plan.intermediates[0]
    assert stage.training is not None
    training = stage.spec()["training"]
    assert "loss" not in training and "pair_encoder" not in training  # quickstart keeps these defaults
    assert training["max_steps"] == 30 and training["dropout"] == 0.0


EXAMPLES = sorted((QUICKSTART.parent).glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_study_validates_and_expands(path: Path) -> None:
    plan = build_plan(load_study(path))
    assert plan.targets and len({s.stage_id for s in plan.stages}) == len(plan.stages)


def test_presets_have_the_size_the_issue_asks_for() -> None:
    stilts = build_plan(load_study(QUICKSTART.parent / "stilts-cpu.yaml"))
    config = stilts.config
    assert len(config.intermediates) >= 8 and len(config.targets) >= 5 and len(config.seeds) >= 3
    assert config.encoders == ["me5-small"]
    # budgets by convergence: every stage of the CPU presets trains until its dev score stops rising
    robust = build_plan(load_study(QUICKSTART.parent / "robust-cpu.yaml"))
    for plan in (stilts, robust):
        assert len(plan.config.seeds) >= 3
        trained = [s.training for s in plan.stages if s.training is not None]  # Tatoeba checks train nothing
        assert trained and all(training.patience is not None for training in trained)
    full = load_study(QUICKSTART.parent / "xstilts-xtreme-r.yaml")
    assert full.encoders == ["FacebookAI/xlm-roberta-large"] and len(full.seeds) == 3
    from xlt.tasks.registry import list_tasks

    roles = {t.name: t.roles for t in list_tasks()}
    assert set(full.intermediates) == {n for n, r in roles.items() if "intermediate" in r}
    assert {t.task for t in full.targets} | {"tatoeba"} == {n for n, r in roles.items() if "target" in r}


def test_stage_identity_holds_only_the_robust_settings_of_its_method() -> None:
    """Settings of a robust method a stage does not use cannot change it, so they must not change its id."""
    from xlt.training.config import RobustConfig, TrainingConfig

    def identity(**robust: object) -> dict:
        return TrainingConfig(max_steps=10, robust=RobustConfig(**robust)).identity()

    assert identity() == {"max_steps": 10}
    assert identity(copies=2, votes=3, radius=0.5) == {"max_steps": 10}  # standard uses none of them
    assert identity(method="rs-da", votes=3) == {"max_steps": 10, "robust": {"method": "rs-da"}}
    assert identity(method="rs-da", copies=2)["robust"] == {"method": "rs-da", "copies": 2}
    assert identity(method="rs-noise", votes=3, copies=2)["robust"] == {"method": "rs-noise", "votes": 3}
    assert identity(method="adversarial", steps=3, votes=3)["robust"] == {"method": "adversarial", "steps": 3}


def test_robust_cpu_shares_its_standard_stages_with_similarity_robustness_cpu() -> None:
    """The presets are aligned so that `xlt run robust-cpu --reuse similarity-robustness-cpu` takes the
    stsb intermediates and every standard target stage instead of training them again."""
    robust = build_plan(load_study(QUICKSTART.parent / "robust-cpu.yaml"))
    simrob = build_plan(load_study(QUICKSTART.parent / "similarity-robustness-cpu.yaml"))
    shared = {s.stage_id for s in robust.stages} & {s.stage_id for s in simrob.stages}
    standard = [
        s
        for s in robust.stages
        if s.kind == "intermediate" or (s.training is not None and s.training.robust.method == "standard")
    ]
    assert len(standard) == 15 and shared == {s.stage_id for s in standard}


def test_a_target_with_none_of_the_evaluation_languages_is_refused(tmp_path: Path) -> None:
    """Evaluation languages are filtered per target; one left with none would train and evaluate nothing."""
    path = write(tmp_path, "name: x\ntargets: [semrel, xquad]\nevaluation: {languages: [en, de]}\n")
    with pytest.raises(ConfigError, match=r"target 'semrel' has none of evaluation.languages \['en', 'de'\]"):
        build_plan(load_study(path))
    path = write(tmp_path, "name: x\ntargets: [semrel, xquad]\nevaluation: {languages: [en, de, hau]}\n")
    plan = build_plan(load_study(path))
    assert {s.task: s.languages for s in plan.targets} == {"semrel": ("hau",), "xquad": ("en", "de")}
