"""The study file: a YAML document validated by pydantic. Unknown keys are errors with a did-you-mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from xlt.core.errors import ConfigError
from xlt.core.hashing import config_hash
from xlt.core.validation import parse_yaml_mapping, validation_error
from xlt.models.precision import Precision
from xlt.robustness.config import RobustnessConfig
from xlt.training.config import TrainingConfig

NO_INTERMEDIATE = "none"
RobustMethod = Literal["standard", "rs-da", "rs-noise", "adversarial"]


class StageBudgets(BaseModel):
    """Hyper-parameters per kind of stage; each falls back to TrainingConfig's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    intermediate: TrainingConfig = TrainingConfig()
    target: TrainingConfig = TrainingConfig()


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cpus: float = Field(1.0, gt=0, description="CPU cores a stage reserves on the Ray cluster")
    gpus: float = Field(
        0.0, ge=0, description="GPUs a stage reserves on the Ray cluster (fractions share one)"
    )


class StageResources(BaseModel):
    """What each stage reserves under `--executor ray` (the local executor runs one stage at a time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    intermediate: Resources = Resources()
    target: Resources = Resources()


def distinct(value: list[Any] | None) -> list[Any] | None:
    """A list whose items are distinct: a repeated seed, target or language would run or count twice."""
    if value is None:
        return value
    keys = [item.task if isinstance(item, TargetEntry | IntermediateEntry) else item for item in value]
    repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once, which would run or count it twice")
    return value


class TatoebaCheck(BaseModel):
    """Tatoeba retrieval of the base encoder and of every intermediate-trained one (PROTOCOLS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    enabled: bool = Field(True, description="evaluate every intermediate-trained encoder on Tatoeba")
    languages: list[str] | None = Field(None, description="Tatoeba languages; None = all 112 pairs")
    max_examples: PositiveInt | None = Field(None, description="sentence pairs per language; None = all")

    _distinct = field_validator("languages")(distinct)


class EvaluationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    languages: list[str] | None = Field(None, description="evaluation languages; None = all of the task's")
    max_examples: PositiveInt | None = Field(None, description="cap on test examples per language")
    batch_size: PositiveInt = 64
    precision: Precision = "auto"
    bootstrap: PositiveInt = Field(1000, description="bootstrap resamples for confidence intervals")
    confidence: float = Field(0.95, gt=0, lt=1)
    tatoeba: TatoebaCheck = TatoebaCheck()
    robustness: RobustnessConfig = Field(
        RobustnessConfig(),
        description="robustness suites of every trained target stage (clean/perturbed/drop)",
    )
    high_resource_gib: float = Field(
        10.0, gt=0, description="GiB of pre-training text (CC-100) from which a language is high-resource"
    )
    smallest_effect: float = Field(
        0.02,
        gt=0,
        description="smallest effect of interest (in the metric's units): where no test of a question "
        "survives, an MDE at or below it means no effect that large, above it an underpowered design",
    )

    _distinct = field_validator("languages")(distinct)


class IntermediateEntry(BaseModel):
    """An intermediate task with settings of its own (a plain name takes training.intermediate as is)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    task: str
    training: dict[str, Any] | None = Field(
        None, description="settings of this intermediate's stages that differ from training.intermediate"
    )


class TargetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    task: str
    intermediates: list[str] | None = Field(None, description="overrides the study-wide intermediates")
    training: dict[str, Any] | None = Field(
        None, description="settings of this target's stages that differ from training.target"
    )
    fine_tune: bool = Field(
        True,
        description="false: evaluate each encoder as it stands, with no training on the target's English "
        "data (a pair-regression target is scored by the cosine of the pooled embeddings, as MTEB does; "
        "retrieval targets never train)",
    )

    _distinct = field_validator("intermediates")(distinct)

    @model_serializer(mode="wrap")
    def _default_fine_tune_unwritten(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`fine_tune: true` (the default) is left out of the dump, so that studies written before the
        setting existed keep their config hash."""
        data: dict[str, Any] = handler(self)
        if self.fine_tune:
            data.pop("fine_tune", None)
        return data


class StudyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    encoders: list[str] = Field(default_factory=lambda: ["me5-small"], min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1)
    # a name, or {task, training} for an intermediate with its own settings (e.g. QA's longer inputs)
    intermediates: list[str | IntermediateEntry] = Field(default_factory=list)
    targets: list[TargetEntry] = Field(min_length=1)
    training: StageBudgets = StageBudgets()
    evaluation: EvaluationConfig = EvaluationConfig()
    robust_methods: list[RobustMethod] = Field(
        default_factory=lambda: list[RobustMethod](["standard"]),
        min_length=1,
        description="robust training methods of the target stages, a factor of the study "
        "(their settings: training.target.robust)",
    )
    alignments: list[str] = Field(
        default_factory=lambda: ["none"],
        min_length=1,
        description="cross-lingual alignment of the target encoders before evaluation, a factor of the "
        "study: none, least_squares, procrustes, gradient_descent, each optionally +whiten / +centre",
    )
    resources: StageResources = StageResources()
    output_dir: str = "runs"

    @field_validator("targets", mode="before")
    @classmethod
    def _plain_task_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"task": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("alignments")
    @classmethod
    def _known_alignments(cls, value: list[str]) -> list[str]:
        from xlt.alignment.evaluate import MethodSpec
        from xlt.alignment.learners import LEARNERS

        for name in value:
            if name == "none":
                continue
            spec = MethodSpec.parse(name)  # ValueError for an unknown option
            if spec.learner not in LEARNERS:
                raise ValueError(f"unknown alignment '{name}': learners are {', '.join(LEARNERS)}")
        return value

    _distinct = field_validator(
        "encoders", "seeds", "intermediates", "targets", "robust_methods", "alignments"
    )(distinct)

    def target_training(self, target: TargetEntry) -> TrainingConfig:
        """training.target with the target's own overrides applied (validated like the rest)."""
        return _overridden(self.training.target, target.training, f"targets[{target.task}].training")

    def intermediate_training(self, name: str) -> TrainingConfig:
        """training.intermediate with the intermediate's own overrides applied (validated like the rest)."""
        entry = next(
            (e for e in self.intermediates if isinstance(e, IntermediateEntry) and e.task == name), None
        )
        overrides = entry.training if entry is not None else None
        return _overridden(self.training.intermediate, overrides, f"intermediates[{name}].training")

    def intermediates_for(self, target: TargetEntry) -> list[str]:
        study_wide = [e.task if isinstance(e, IntermediateEntry) else e for e in self.intermediates]
        chosen = target.intermediates if target.intermediates is not None else study_wide
        return [name for name in chosen if name != NO_INTERMEDIATE]

    def task_names(self) -> list[str]:
        """The tasks the study reads: its targets, their intermediates, and Tatoeba when the study checks
        its intermediate-trained encoders there (as `xlt.study.plan.build_plan` does)."""
        names: list[str] = []
        for entry in self.targets:
            names += [entry.task, *self.intermediates_for(entry)]
        if self.evaluation.tatoeba.enabled and any(self.intermediates_for(e) for e in self.targets):
            names.append("tatoeba")
        return list(dict.fromkeys(names))

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        return config_hash(self.resolved())


def _overridden(base: TrainingConfig, overrides: dict[str, Any] | None, source: str) -> TrainingConfig:
    """`base` with a task's own settings applied, validated like the rest; errors name `source`."""
    if not overrides:
        return base
    try:
        return TrainingConfig.model_validate({**base.model_dump(), **overrides})
    except ValidationError as exc:
        raise format_validation_error(exc, source) from None


def format_validation_error(exc: ValidationError, source: str) -> ConfigError:
    """All problems of a study file in one line each, joined; unknown keys get a did-you-mean."""
    return validation_error(exc, source, StudyConfig, "fix the study file (see examples/)")


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `dotted.key=value` override; the value is parsed as YAML (numbers, lists, booleans)."""
    if "=" not in assignment:
        raise ConfigError(f"override '{assignment}' is not of the form key=value", "e.g. --set seeds=[1,2,3]")
    key, raw = assignment.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(
            f"override '{assignment}': the value '{raw}' is not valid YAML{at}",
            "quote it and close every bracket, e.g. --set 'seeds=[1,2]'",
        ) from None
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override '{key}': '{part}' is not a section", "override a leaf setting")
        node = child
    node[parts[-1]] = value


def load_study(path: Path, overrides: list[str] | None = None) -> StudyConfig:
    if not path.is_file():
        raise ConfigError(f"study file {path} not found", "give the path of a study YAML (see examples/)")
    data = parse_yaml_mapping(path.read_text(encoding="utf-8"), path, "study", "examples/quickstart.yaml")
    return study_from_dict(data, overrides, source=str(path))


def study_from_dict(data: dict[str, Any], overrides: list[str] | None = None, *, source: str) -> StudyConfig:
    """Validate a study given as data (from a file, or built by a command) after applying overrides."""
    for assignment in overrides or []:
        apply_override(data, assignment)
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, source) from None
