"""Expansion of a study config into stages. Each intermediate stage is trained once per (encoder, seed)
and reused by every target; each target gets its baseline (no intermediate) with the same seeds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from xlt.core.errors import ConfigError
from xlt.core.hashing import config_hash
from xlt.data.schema import ENCODER_ONLY_TYPES, TaskType
from xlt.models.encoders import encoder_info, weights_hash
from xlt.models.precision import Precision
from xlt.robustness.config import RobustnessConfig
from xlt.study.config import EvaluationConfig, StudyConfig, TargetEntry
from xlt.tasks import TaskSpec, get_task
from xlt.tasks.custom import is_task_file
from xlt.training.config import TrainingConfig

# bump when a change to xlt alters what a finished stage contains, so old stages are not reused.
# Settings enter a stage's spec only where they differ from their defaults, so adding a new setting
# (with a default that keeps the old behaviour) leaves every finished stage's identity unchanged; a change
# of an existing default must bump this number, or, where it shapes one task type only, always enter the
# ids of that type's stages (`TrainingConfig.word_labels`, token tagging).
# Precision enters as set, `auto` unresolved (resolving it would rename every finished stage): what `auto`
# resolved to is recorded in the stage's provenance, carried by its result rows, and a stage reused where
# `auto` resolves otherwise is reported (`study.runner.precision_warning`).
STAGE_FORMAT = 2
KIND_PREFIX = {"intermediate": "int", "target": "tgt"}


@dataclass(frozen=True)
class Stage:
    kind: Literal["intermediate", "target"]
    encoder: str
    encoder_weights: str
    task: str
    seed: int
    training: TrainingConfig | None
    parent: Stage | None = None
    languages: tuple[str, ...] = ()
    max_examples: int | None = None
    precision: Precision = "auto"
    # the task file a user's own task comes from (`task` is then the name inside it); None for built-ins
    task_file: str | None = None
    # cross-lingual alignment fitted on the trained encoder before evaluation ("none": not aligned)
    alignment: str = "none"
    # robustness suites run after the clean evaluation (None: none)
    robustness: RobustnessConfig | None = None

    @property
    def task_spec(self) -> TaskSpec:
        return get_task(self.task_file or self.task)

    @property
    def _tagging(self) -> bool:
        return self.task_spec.type == TaskType.TOKEN_TAGGING

    @property
    def intermediate(self) -> str:
        return self.parent.task if self.parent is not None else "none"

    @property
    def variant(self) -> str:
        """The robust method and alignment of a target stage, e.g. "standard", "rs-da", "procrustes"."""
        parts: list[str] = []
        if self.training is not None and self.training.robust.method != "standard":
            parts.append(self.training.robust.method)
        if self.alignment != "none":
            parts.append(self.alignment)
        return "+".join(parts) or "standard"

    @property
    def chain(self) -> str:
        return f"{self.parent.chain}>{self.task}" if self.parent is not None else self.task

    def spec(self) -> dict[str, Any]:
        """Everything that determines the stage's result; its hash names the stage directory."""
        task = self.task_spec
        english = task.languages["train"][0] if self.training is not None else ""
        spec: dict[str, Any] = {
            "format": STAGE_FORMAT,
            "kind": self.kind,
            "encoder": self.encoder,
            "encoder_weights": self.encoder_weights,
            "task": self.task,
            "seed": self.seed,
            "training": self.training.identity(tagging=self._tagging) if self.training is not None else None,
            "parent": self.parent.stage_id if self.parent is not None else None,
            "train_files": task.file_hashes("train", english) if self.training is not None else {},
            "dev_files": task.file_hashes("dev", english) if self.training is not None else {},
        }
        if self.task_file is not None:
            # columns, labels and score range shape the data as much as the data files do
            spec["task_definition"] = task.source.commit
        if self.alignment != "none":
            spec["alignment"] = self.alignment
        if self.robustness is not None:
            spec["robustness"] = self.robustness.model_dump(mode="json")
        if self.kind == "target":
            spec["evaluation"] = {
                "languages": list(self.languages),
                "max_examples": self.max_examples,
                "precision": self.precision,
                "test_files": {lang: task.file_hashes("test", lang) for lang in self.languages},
            }
        return spec

    def training_key(self) -> str | None:
        """What determines a target stage's trained model, and nothing of its evaluation: target stages
        with equal keys train the same model (e.g. xquad, mlqa and tydiqa, which all train on TyDiQA-GoldP
        English with the same settings), so a later one reuses what an earlier one trained. None for
        intermediates and stages that train nothing."""
        if self.kind != "target" or self.training is None:
            return None
        task = self.task_spec
        english = task.languages["train"][0]
        key: dict[str, Any] = {
            "format": STAGE_FORMAT,
            "encoder": self.encoder,
            "encoder_weights": self.encoder_weights,
            "seed": self.seed,
            "parent": self.parent.stage_id if self.parent is not None else None,
            "training": self.training.identity(tagging=self._tagging),
            "type": task.type.value,
            "labels": list(task.labels) if task.labels is not None else None,
            "metric": task.metric,
            "english_data": task.english_data,
            "train_files": task.file_hashes("train", english),
            "dev_files": task.file_hashes("dev", english),
        }
        if self.task_file is not None:
            key["task"] = (self.task, task.source.commit)
        return config_hash(key, 16)

    @cached_property
    def stage_id(self) -> str:
        encoder = re.sub(r"[^A-Za-z0-9.-]+", "_", self.encoder.rstrip("/").split("/")[-1])
        return f"{KIND_PREFIX[self.kind]}-{self.task}-{encoder}-s{self.seed}-{config_hash(self.spec(), 12)}"


@dataclass(frozen=True)
class StudyPlan:
    config: StudyConfig
    intermediates: list[Stage]
    targets: list[Stage]
    # (target, intermediate, reason) pairs of the study-wide grid that were left out
    excluded: tuple[tuple[str, str, str], ...] = ()

    @property
    def stages(self) -> list[Stage]:
        return self.intermediates + self.targets


def _check_task(name: str, role: Literal["target", "intermediate"]) -> TaskSpec:
    task = get_task(name)
    if role not in task.roles:
        raise ConfigError(
            f"task '{name}' cannot be used as {role} task", "`xlt tasks` shows each task's roles"
        )
    return task


def _languages(task: TaskSpec, evaluation: EvaluationConfig) -> tuple[str, ...]:
    available = task.languages["test"]
    if evaluation.languages is None:
        return available
    return tuple(lang for lang in evaluation.languages if lang in available)


def _task_file(reference: str) -> str | None:
    return reference if is_task_file(reference) else None


def _distinct_names(references: list[str]) -> None:
    """Results are keyed by task name, so two task references must not share one."""
    seen: dict[str, str] = {}
    for reference in references:
        name = get_task(reference).name
        if seen.setdefault(name, reference) != reference:
            raise ConfigError(
                f"tasks '{seen[name]}' and '{reference}' are both named '{name}'",
                "give each task file its own name",
            )


def _check_ood(robustness: RobustnessConfig, targets: dict[str, TaskSpec]) -> None:
    """Every `ood` entry maps a target of the study to a task it can be scored on: same type, same labels,
    with a test split (checked here, before anything is trained)."""
    for name, other_name in robustness.ood.items():
        if name not in targets:
            raise ConfigError(
                f"evaluation.robustness.ood maps '{name}', which is not a target of this study",
                f"use one of: {', '.join(targets)}",
            )
        task, other = targets[name], get_task(other_name)
        if other.type != task.type or other.labels != task.labels:
            differs = (
                f"is {other.type.value}, not {task.type.value}"
                if other.type != task.type
                else f"has labels {list(other.labels or [])}, not {list(task.labels or [])}"
            )
            raise ConfigError(
                f"evaluation.robustness.ood: '{other_name}' {differs} like target '{name}'",
                "map it to a task of the same type and labels (`xlt tasks` lists them)",
            )
        if not other.languages["test"]:
            raise ConfigError(
                f"evaluation.robustness.ood: '{other_name}' has no test split",
                "choose a task with a test set",
            )


def build_plan(config: StudyConfig) -> StudyPlan:
    evaluation = config.evaluation
    target_tasks = {entry.task: _check_task(entry.task, "target") for entry in config.targets}
    references = {entry.task for entry in config.targets}
    references |= {name for entry in config.targets for name in config.intermediates_for(entry)}
    _distinct_names(sorted(references))
    if evaluation.languages is not None:
        known = {lang for task in target_tasks.values() for lang in task.languages["test"]}
        unknown = [lang for lang in evaluation.languages if lang not in known]
        if unknown:
            raise ConfigError(
                f"evaluation.languages {unknown} are not test languages of any target",
                f"choose from: {', '.join(sorted(known))}",
            )
    intermediates: dict[tuple[str, str, int], Stage] = {}
    targets: list[Stage] = []
    robustness = evaluation.robustness if evaluation.robustness.suites else None
    _check_ood(evaluation.robustness, target_tasks)
    excluded: dict[tuple[str, str], str] = {}
    for encoder in config.encoders:
        info = encoder_info(encoder)
        weights = weights_hash(encoder)
        for entry in config.targets:
            target_task = target_tasks[entry.task]
            chosen = config.intermediates_for(entry)
            # lexical scorers and retrieval targets use the encoder as it stands: no target training
            if not entry.fine_tune:
                _check_untrained(entry.task, target_task.type)
            if evaluation.languages is not None and not _languages(target_task, evaluation):
                raise ConfigError(
                    f"target '{entry.task}' has none of evaluation.languages {evaluation.languages} among "
                    f"its test languages ({', '.join(target_task.languages['test'])})",
                    "add one of them to evaluation.languages, or drop the target",
                )
            trains = (
                entry.fine_tune and info.kind == "transformer" and target_task.type not in ENCODER_ONLY_TYPES
            )
            if info.kind == "lexical" and target_task.type != TaskType.PAIR_REGRESSION:
                raise ConfigError(
                    f"encoder '{encoder}' scores sentence pairs only, not the "
                    f"{target_task.type.value} task '{entry.task}'",
                    "use a neural encoder for this target",
                )
            if info.kind == "lexical" and chosen:
                raise ConfigError(
                    f"encoder '{encoder}' is lexical and cannot be trained on intermediates",
                    "drop the intermediates for it, or use a neural encoder",
                )
            own_data = [
                name
                for name in chosen
                if _check_task(name, "intermediate").english_data == target_task.english_data
            ]
            if own_data and entry.intermediates is not None:
                raise ConfigError(
                    f"intermediate '{own_data[0]}' uses the same English data as target '{entry.task}'",
                    "remove it from that target's intermediates (PROTOCOLS: never the target's own data)",
                )
            for name in own_data:
                # the study-wide list applies to every target; a target's own data is simply left out
                excluded.setdefault((entry.task, name), "same English training data as the target")
            chosen = [name for name in chosen if name not in own_data]
            for seed in config.seeds:
                parents: list[Stage | None] = [None]
                for name in chosen:
                    key = (encoder, name, seed)
                    if key not in intermediates:
                        intermediates[key] = Stage(
                            "intermediate",
                            encoder,
                            weights,
                            get_task(name).name,
                            seed,
                            config.intermediate_training(name),
                            task_file=_task_file(name),
                        )
                    parents.append(intermediates[key])
                for parent in parents:
                    for training, alignment in _variants(config, entry, trains, info.kind == "transformer"):
                        if seed != config.seeds[0] and seed_independent(training, parent, alignment):
                            continue  # the same evaluation as the first seed's: computed once
                        targets.append(
                            Stage(
                                "target",
                                encoder,
                                weights,
                                target_task.name,
                                seed,
                                training,
                                parent,
                                _languages(target_task, evaluation),
                                evaluation.max_examples,
                                evaluation.precision,
                                task_file=_task_file(entry.task),
                                alignment=alignment,
                                robustness=robustness if training is not None else None,
                            )
                        )
    targets += _tatoeba_checks(config, list(intermediates.values()), {s.stage_id for s in targets})
    return StudyPlan(
        config,
        list(intermediates.values()),
        targets,
        tuple((target, name, reason) for (target, name), reason in excluded.items()),
    )


# what an encoder that was not trained on the target can score: pairs by cosine, and retrieval
SCORED_UNTRAINED = ENCODER_ONLY_TYPES | {TaskType.PAIR_REGRESSION}


def _check_untrained(task: str, task_type: TaskType) -> None:
    if task_type not in SCORED_UNTRAINED:
        raise ConfigError(
            f"target '{task}' ({task_type.value}) has fine_tune: false, but its predictions need a head "
            "trained on its English data",
            "drop `fine_tune: false` from it; only pair-regression and retrieval targets score untrained",
        )


def seed_independent(training: TrainingConfig | None, parent: Stage | None, alignment: str) -> bool:
    """A target stage that neither trains, nor starts from a trained stage, nor fits an alignment gives the
    same result for every seed (its test subset does not depend on the seed): the plan holds it once, under
    the study's first seed, and every seed's comparison uses it."""
    return training is None and parent is None and alignment == "none"


def _variants(
    config: StudyConfig, entry: TargetEntry, trains: bool, neural: bool
) -> list[tuple[TrainingConfig | None, str]]:
    """(training, alignment) of each variant of a target: robust methods x alignments. Robust methods need
    a trained target and alignments a neural encoder; other combinations are left out."""
    variants: list[tuple[TrainingConfig | None, str]] = []
    base = config.target_training(entry) if trains else None
    methods = list(config.robust_methods)
    if methods == ["standard"] and base is not None:  # no factor: the method training.target sets
        methods = [base.robust.method]
    for method in methods:
        if base is None and method != "standard":
            continue
        training = base
        if base is not None and method != base.robust.method:
            training = base.model_copy(update={"robust": base.robust.model_copy(update={"method": method})})
        for alignment in config.alignments:
            if alignment == "none" or neural:
                variants.append((training, alignment))
    return variants


def _tatoeba_checks(config: StudyConfig, intermediates: list[Stage], planned: set[str]) -> list[Stage]:
    """Tatoeba retrieval of every intermediate-trained encoder (per seed) and of its base encoder (once).

    Stages a study already has (Tatoeba listed as a target with the same settings) are not repeated."""
    check = config.evaluation.tatoeba
    if not check.enabled or not intermediates:
        return []
    task = get_task("tatoeba")
    available = task.languages["test"]
    languages = tuple(check.languages) if check.languages is not None else available
    unknown = [lang for lang in languages if lang not in available]
    if unknown:
        raise ConfigError(
            f"evaluation.tatoeba.languages {unknown} are not Tatoeba languages",
            "`xlt tasks` lists the 112 Tatoeba languages (ISO 639-3 codes such as swh, amh, deu)",
        )
    max_examples = check.max_examples or config.evaluation.max_examples
    stages: list[Stage] = []
    bases: dict[str, Stage] = {}  # the base encoder's check does not depend on the seed: one per encoder
    for parent in intermediates:
        key = parent.encoder
        if key not in bases:
            bases[key] = Stage(
                "target",
                parent.encoder,
                parent.encoder_weights,
                task.name,
                config.seeds[0],
                None,
                None,
                languages,
                max_examples,
                config.evaluation.precision,
            )
            stages.append(bases[key])
        stages.append(
            Stage(
                "target",
                parent.encoder,
                parent.encoder_weights,
                task.name,
                parent.seed,
                None,
                parent,
                languages,
                max_examples,
                config.evaluation.precision,
            )
        )
    return [stage for stage in stages if stage.stage_id not in planned]
