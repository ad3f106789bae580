"""Estimators that need the study's trained models: TaskEmb (Fisher), LogME, LEEP and NCE.

They read finished stages of a study: an intermediate task's model is its intermediate stage, a target
task's model is its baseline target stage (trained on the target's English data from the base encoder).
The first seed of the study is used. Results are cached under the hash of the stages and settings.

- TaskEmb (Vu et al. 2020): the diagonal of the empirical Fisher information of a task's trained model,
  F = mean_i (d log p(y_i | x_i) / d theta)^2, over the parameters of the encoder's top `fisher_layers`
  layers (shared by every task, so vectors are comparable), from per-example gradients (one backward pass
  per example) on a fixed sample of English training examples. Bi-encoder pair regression uses the
  squared error of the cosine (a Gaussian likelihood) since its CoSENT loss is not defined per example.
  Similarity: cosine of the two Fisher vectors.
- LogME (You et al. 2021): the intermediate-trained encoder's features of the target's English training
  inputs against the target's labels. Features: the sentence embedding (single texts), [u*v, |u-v|] of the
  two sentence embeddings (pairs), the first sub-word state of each word (tagging). A multiple-choice
  target is probed as the pair classification its model learns: one (premise, "question: choice") pair per
  choice, labelled right or wrong. Not defined here for QA and retrieval targets (NaN).
- LEEP (Nguyen et al. 2020) and NCE (Tran et al. 2019): where the intermediate has classes (sentence or
  pair classification): its trained head's label distribution (LEEP) or arg-max label (NCE) on the
  target's English training inputs, against the target's labels. Pair inputs go to a pair intermediate as
  pairs and to a single-sentence intermediate joined by a space; regression targets are cut into 5 quantile
  bins; multiple-choice targets are probed as choice pairs, as for LogME. Not defined for tagging, QA or
  retrieval (NaN).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from datasets import Dataset
from safetensors.torch import load_file

from xlt.core.hashing import config_hash
from xlt.core.io import atomic_path
from xlt.core.sampling import subset_rows
from xlt.core.settings import cache_dir
from xlt.data.schema import TaskType
from xlt.models.sentence import SentenceEncoder
from xlt.similarity.embeddings import cosine
from xlt.similarity.estimators import Estimator, SimilarityContext
from xlt.similarity.transferability import leep, logme, nce
from xlt.tasks import TaskSpec
from xlt.training.config import TrainingConfig
from xlt.training.kinds import make_kind
from xlt.training.kinds.base import HEAD_WEIGHTS, TaskKind, WithHead
from xlt.training.kinds.classification import Classification
from xlt.training.kinds.multiple_choice import choice_pairs
from xlt.training.kinds.tagging import boundary_pieces, word_positions

TRAINED_FORMAT = 1
PAIR_TYPES = (TaskType.PAIR_REGRESSION, TaskType.PAIR_CLASSIFICATION)
CLASS_SOURCE_TYPES = (TaskType.PAIR_CLASSIFICATION, TaskType.SINGLE_CLASSIFICATION)


@dataclass(frozen=True)
class TrainedModel:
    """One finished stage's model as the estimators need it: where its weights are and how it was built.
    The study layer makes these from its plan and run store (`xlt.study.similarity`), so similarity never
    depends on how stages are planned or stored."""

    stage_id: str
    task_spec: TaskSpec
    encoder: str
    training: TrainingConfig
    directory: Path


@dataclass
class TrainedStages:
    """The finished models a similarity can use, by task name (first seed of the study)."""

    models: dict[str, TrainedModel] = field(default_factory=dict)
    # finished stages the estimators would read but whose weights were not kept, by task: NaN for them
    without_weights: dict[str, str] = field(default_factory=dict)

    def stage(self, task: str) -> TrainedModel | None:
        return self.models.get(task)

    def load_kind(self, stage: TrainedModel) -> TaskKind:
        """The stage's trained encoder and head, ready for inference or gradients."""
        encoder = SentenceEncoder(stage.encoder)
        directory = stage.directory
        encoder.load_trained(directory)
        training = stage.training
        if stage.task_spec.type == TaskType.PAIR_REGRESSION and training.pair_encoder == "bi":
            training = training.model_copy(update={"loss": "cosine_mse"})
        kind = make_kind(encoder, stage.task_spec, training)
        if isinstance(kind.model, WithHead) and (directory / HEAD_WEIGHTS).is_file():
            kind.model.head.load_state_dict(load_file(str(directory / HEAD_WEIGHTS)))
        kind.model.eval()
        return kind

    def load_encoder(self, stage: TrainedModel) -> SentenceEncoder:
        encoder = SentenceEncoder(stage.encoder)
        encoder.load_trained(stage.directory)
        encoder.eval()
        return encoder


@dataclass
class TrainedContext(SimilarityContext):
    """A similarity context with a study's trained stages."""

    stages: TrainedStages | None = None
    fisher_layers: int = 2
    fisher_examples: int = 64
    probe_examples: int = 500


def _english_sample(task: TaskSpec, data_dir: Path, size: int, seed: int) -> Dataset:
    return subset_rows(task.load(data_dir, "train", task.languages["train"][0]), size, seed)


def _cached(kind: str, key: dict[str, Any], compute: Any) -> Any:
    """A float or vector under $XLT_CACHE_DIR/similarity/<kind>-<hash>.(json|npy)."""
    digest = config_hash({"format": TRAINED_FORMAT, "kind": kind, **key})
    root = cache_dir() / "similarity"
    vector_path, scalar_path = root / f"{kind}-{digest}.npy", root / f"{kind}-{digest}.json"
    if vector_path.is_file():
        return np.load(vector_path)
    if scalar_path.is_file():
        return float(json.loads(scalar_path.read_text())["value"])
    value = compute()
    root.mkdir(parents=True, exist_ok=True)
    if isinstance(value, np.ndarray):
        with atomic_path(vector_path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, value)
    else:
        with atomic_path(scalar_path) as tmp:
            tmp.write_text(json.dumps({"value": value}))
    return value


def _top_layer_parameters(encoder: SentenceEncoder, layers: int) -> list[torch.nn.Parameter]:
    total = int(encoder.transformer.config.num_hidden_layers)
    keep = {f"encoder.layer.{i}." for i in range(max(total - layers, 0), total)}
    chosen = [p for n, p in encoder.transformer.named_parameters() if any(n.startswith(k) for k in keep)]
    if not chosen:
        raise ValueError("no encoder layers found for the Fisher information")
    return chosen


def fisher_diagonal(kind: TaskKind, data: Dataset, layers: int) -> np.ndarray:
    """mean over examples of the squared per-example gradient of the loss (the empirical Fisher)."""
    parameters = _top_layer_parameters(kind.encoder, layers)
    for parameter in kind.model.parameters():
        parameter.requires_grad_(False)
    for parameter in parameters:
        parameter.requires_grad_(True)
    total = [torch.zeros_like(p, dtype=torch.float32) for p in parameters]
    for i in range(len(data)):
        loss, _ = kind.loss(data, [i])
        grads = torch.autograd.grad(loss, parameters, allow_unused=True)
        for acc, grad in zip(total, grads, strict=True):
            if grad is not None:
                acc += grad.float() ** 2
    return torch.cat([(t / max(len(data), 1)).flatten() for t in total]).numpy()


class _StageEstimator(Estimator):
    """Needs a TrainedContext whose stages include the tasks; NaN where a model is missing."""

    needs_stages = True

    def _stages(self, context: SimilarityContext) -> TrainedStages | None:
        return context.stages if isinstance(context, TrainedContext) else None

    def _intermediate_stage(
        self, context: SimilarityContext, intermediate: TaskSpec
    ) -> tuple[TrainedContext, TrainedStages, TrainedModel] | None:
        """The context, its stages and the intermediate's finished stage; None if any is missing."""
        stages = self._stages(context)
        stage = stages.stage(intermediate.name) if stages is not None else None
        if stages is None or stage is None or not isinstance(context, TrainedContext):
            return None
        return context, stages, stage


def _probe_key(context: TrainedContext, stage: TrainedModel, target: TaskSpec) -> dict[str, Any]:
    """What a probe of `target` on `stage`'s model depends on (LogME, LEEP, NCE caches)."""
    english = target.languages["train"][0]
    key: dict[str, Any] = {
        "stage": stage.stage_id,
        "target": target.name,
        "files": target.file_hashes("train", english),
        "n": context.probe_examples,
        "seed": context.seed,
    }
    if target.type == TaskType.TOKEN_TAGGING:  # probed at the sub-word `word_positions` picks (since 2026-12)
        key["word_labels"] = "first-content"
    return key


class TaskEmb(_StageEstimator):
    name = "taskemb"
    description = "cosine of diagonal empirical Fisher vectors of each task's trained model (Vu et al. 2020)"

    def _vector(self, context: TrainedContext, stages: TrainedStages, stage: TrainedModel) -> np.ndarray:
        def compute() -> np.ndarray:
            kind = stages.load_kind(stage)
            sample = _english_sample(stage.task_spec, context.data_dir, context.fisher_examples, context.seed)
            return fisher_diagonal(kind, sample, context.fisher_layers)

        key = {"stage": stage.stage_id, "n": context.fisher_examples, "layers": context.fisher_layers}
        return np.asarray(_cached("taskemb", {**key, "seed": context.seed}, compute))

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        stages = self._stages(context)
        if stages is None or not isinstance(context, TrainedContext):
            return float("nan")
        first, second = stages.stage(intermediate.name), stages.stage(target.name)
        if first is None or second is None:
            return float("nan")
        return cosine(self._vector(context, stages, first), self._vector(context, stages, second))


def probe_view(task: TaskSpec, data: Dataset) -> tuple[TaskType, Dataset]:
    """The type and rows a target is probed as: itself, or for multiple choice the pair classification of
    each choice against its premise (label 1 for the right choice)."""
    if task.type != TaskType.MULTIPLE_CHOICE:
        return task.type, data
    first: list[str] = []
    second: list[str] = []
    right: list[int] = []
    for premise, question, choices, label in zip(
        data["premise"], data["question"], data["choices"], data["label"], strict=True
    ):
        for index, (a, b) in enumerate(choice_pairs(premise, question, choices)):
            first.append(a)
            second.append(b)
            right.append(int(index == label))
    pairs = Dataset.from_dict({"sentence1": first, "sentence2": second, "label": right})
    return TaskType.PAIR_CLASSIFICATION, pairs


PROBED_TYPES = (*PAIR_TYPES, TaskType.SINGLE_CLASSIFICATION, TaskType.MULTIPLE_CHOICE)


def probe_features(encoder: SentenceEncoder, task: TaskSpec, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a target's examples under an encoder, for LogME; empty if undefined."""
    kind, data = probe_view(task, data)
    if kind in PAIR_TYPES:
        u = encoder.encode(list(data["sentence1"]))
        v = encoder.encode(list(data["sentence2"]))
        return np.concatenate([u * v, np.abs(u - v)], axis=1), np.asarray(data["label"])
    if kind == TaskType.SINGLE_CLASSIFICATION:
        return encoder.encode(list(data["text"])), np.asarray(data["label"])
    if kind == TaskType.TOKEN_TAGGING:
        return _token_features(encoder, data)
    return np.empty((0, 0)), np.empty(0)


@torch.inference_mode()
def _token_features(
    encoder: SentenceEncoder, data: Dataset, batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """One feature per word, at the sub-word a tagging stage labels by default (`word_positions`)."""
    features, labels = [], []
    skip = boundary_pieces(encoder.tokenizer)
    for start in range(0, len(data), batch_size):
        rows = data[start : start + batch_size]
        encoded = encoder.tokenizer(
            rows["tokens"], is_split_into_words=True, truncation=True, max_length=encoder.max_length,
            padding=True, return_tensors="pt",
        )  # fmt: skip
        states = encoder.token_states(
            encoded["input_ids"].to(encoder.device_), encoded["attention_mask"].to(encoder.device_)
        ).float()
        for row, tags in enumerate(rows["tags"]):
            for word, position in word_positions(encoded, row, skip).items():
                features.append(states[row, position].cpu().numpy())
                labels.append(tags[word])
    return np.stack(features), np.asarray(labels)


class LogME(_StageEstimator):
    name = "logme"
    description = "LogME of the target's English labels on the intermediate-trained encoder's features"

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        found = self._intermediate_stage(context, intermediate)
        if found is None:
            return float("nan")
        context, stages, stage = found
        if target.type not in (*PROBED_TYPES, TaskType.TOKEN_TAGGING):
            return float("nan")

        def compute() -> float:
            data = _english_sample(target, context.data_dir, context.probe_examples, context.seed)
            features, labels = probe_features(stages.load_encoder(stage), target, data)
            return logme(features, labels, regression=target.type == TaskType.PAIR_REGRESSION)

        return float(_cached("logme", _probe_key(context, stage, target), compute))


def _target_classes(kind: TaskType, data: Dataset, bins: int = 5) -> np.ndarray:
    labels = np.asarray(data["label"])
    if kind != TaskType.PAIR_REGRESSION:
        return labels.astype(int)
    edges = np.quantile(labels, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, labels, side="right")


def source_probabilities(
    kind: Classification, source: TaskSpec, target: TaskType, data: Dataset
) -> np.ndarray:
    """The intermediate head's label distribution on the target's inputs (`target`: the type they are
    probed as), in the intermediate's format."""
    if target in PAIR_TYPES and source.type == TaskType.PAIR_CLASSIFICATION:
        inputs = Dataset.from_dict({"sentence1": data["sentence1"], "sentence2": data["sentence2"]})
    elif target in PAIR_TYPES:
        inputs = Dataset.from_dict(
            {"text": [f"{a} {b}" for a, b in zip(data["sentence1"], data["sentence2"], strict=True)]}
        )
    elif source.type == TaskType.SINGLE_CLASSIFICATION:
        inputs = Dataset.from_dict({"text": data["text"]})
    else:  # a single-text target through a pair intermediate: the text as sentence 1, nothing as sentence 2
        inputs = Dataset.from_dict({"sentence1": data["text"], "sentence2": [""] * len(data)})
    logits = kind._predict_outputs(inputs, 64, "auto", None)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


class _ClassTransfer(_StageEstimator):
    score_name: ClassVar[str]

    def similarity(
        self, context: SimilarityContext, intermediate: TaskSpec, target: TaskSpec, language: str | None
    ) -> float:
        found = self._intermediate_stage(context, intermediate)
        if found is None:
            return float("nan")
        context, stages, stage = found
        if intermediate.type not in CLASS_SOURCE_TYPES or target.type not in PROBED_TYPES:
            return float("nan")

        def compute() -> float:
            sample = _english_sample(target, context.data_dir, context.probe_examples, context.seed)
            probed, data = probe_view(target, sample)
            kind = stages.load_kind(stage)
            assert isinstance(kind, Classification)
            probs = source_probabilities(kind, intermediate, probed, data)
            classes = _target_classes(probed, data)
            return leep(probs, classes) if self.score_name == "leep" else nce(probs.argmax(axis=1), classes)

        return float(_cached(self.score_name, _probe_key(context, stage, target), compute))


class LEEP(_ClassTransfer):
    name = "leep"
    description = (
        "LEEP of the intermediate head's label distribution on the target's inputs (Nguyen et al. 2020)"
    )
    score_name = "leep"


class NCE(_ClassTransfer):
    name = "nce"
    description = (
        "negative conditional entropy of target labels given the intermediate's labels (Tran et al. 2019)"
    )
    score_name = "nce"


TRAINED_ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (TaskEmb(), LogME(), LEEP(), NCE())}
