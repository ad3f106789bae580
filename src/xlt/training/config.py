"""Training hyper-parameters of one stage. Every default lives here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from xlt.models.precision import Precision

WordLabels = Literal["first-content", "first"]


class RobustConfig(BaseModel):
    """Robust training of a stage (PROTOCOLS, "Robustness"); `standard` is plain fine-tuning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["standard", "rs-da", "rs-noise", "adversarial"] = Field(
        "standard",
        description="rs-da: synonym-substitution copies; rs-noise: Gaussian noise on input embeddings and "
        "smoothed prediction; adversarial: perturbations of the input embeddings (PGD or FreeLB)",
    )
    copies: PositiveInt = Field(4, description="rs-da: augmented copies per training example (K)")
    noise_std: float = Field(0.05, gt=0, description="rs-noise: std of the noise on input embeddings")
    votes: PositiveInt = Field(8, description="rs-noise: noisy predictions per test example (majority/mean)")
    style: Literal["pgd", "freelb"] = Field(
        "freelb", description="adversarial: PGD (train on the final perturbation) or FreeLB (average of all)"
    )
    radius: float = Field(1.0, gt=0, description="adversarial: L2 radius of the perturbation per example")
    step_size: float = Field(0.3, gt=0, description="adversarial: ascent step (L2 norm) per PGD step")
    steps: PositiveInt = Field(2, description="adversarial: ascent steps per batch")

    def identity(self) -> dict[str, Any]:
        """The settings that shape a stage under this method and differ from their defaults: the settings of
        the other methods do nothing here, so a standard stage of a study that also lists rs-da is the same
        stage as one of a study that never mentions robust training."""
        used = {"method", *METHOD_SETTINGS[self.method]}
        return {k: v for k, v in self.model_dump(mode="json", exclude_defaults=True).items() if k in used}


METHOD_SETTINGS: dict[str, tuple[str, ...]] = {
    "standard": (),
    "rs-da": ("copies",),
    "rs-noise": ("noise_std", "votes"),
    "adversarial": ("style", "radius", "step_size", "steps"),
}


class TrainingConfig(BaseModel):
    """Settings of one stage's training. A stage's id hashes only the settings that differ from these
    defaults, so every default keeps the behaviour of the stages built before it existed: without
    `patience`, a stage trains for the fixed budget `epochs` / `max_steps`, as it always did."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: float = Field(
        1.0,
        gt=0,
        description="passes over the training data; with max_steps, whichever ends first ends training "
        "(with patience: the cap on a run that early stopping may end sooner)",
    )
    max_steps: PositiveInt | None = Field(None, description="hard cap on optimiser steps")
    patience: PositiveInt | None = Field(
        None,
        description="early stopping: stop after this many English-dev evaluations in a row without a gain "
        "of at least min_delta over the best score; None = no early stopping (a fixed budget)",
    )
    min_delta: float = Field(
        0.005, ge=0, description="early stopping: the smallest dev gain that counts as an improvement"
    )
    train_limit: PositiveInt | None = Field(None, description="use only the first N training examples")
    batch_size: PositiveInt = 16
    learning_rate: float = Field(2e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_grad_norm: float = Field(1.0, gt=0)
    max_length: PositiveInt = Field(128, description="tokens per sentence, longer inputs are truncated")
    freeze_embeddings: bool = Field(True, description="keep the word-embedding matrix fixed")
    dropout: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="dropout during training; None keeps the model's, 0 disables it (faster)",
    )
    loss: Literal["cosent", "cosine_mse"] = Field("cosent", description="bi-encoder pair-regression loss")
    pair_encoder: Literal["bi", "cross"] = Field(
        "bi", description="pair regression: siamese bi-encoder (cosine) or cross-encoder (both in one input)"
    )
    precision: Precision = Field("auto", description="auto = bf16 where the CPU/GPU has fast bf16")
    eval_every: PositiveInt | None = Field(
        None, description="steps between English-dev evaluations (the unit of patience)"
    )
    evaluations: PositiveInt = Field(3, description="dev evaluations per stage when eval_every is unset")
    dev_limit: PositiveInt | None = Field(1000, description="English dev examples used for model selection")
    robust: RobustConfig = Field(RobustConfig(), description="robust training method and its settings")
    word_labels: WordLabels = Field(
        "first-content",
        description="token tagging: the sub-word that carries a word's label. first-content: its first "
        "sub-word that is not a bare word-boundary piece (SentencePiece's '▁', which XLM-R-family "
        "tokenizers emit before most Chinese and Japanese words and before punctuation), else its first; "
        "first: always its first (XTREME's reference code)",
    )

    def identity(self, *, tagging: bool = False) -> dict[str, Any]:
        """What of these settings enters a stage's id: those that differ from their defaults (so a new setting
        with a behaviour-preserving default orphans no finished stage), and of the robust settings only
        those of the chosen method. `word_labels` shapes token tagging only, and always enters a tagging
        stage's id: its default changed (stages built before it existed labelled every word at its first
        sub-word, and their ids lack it), so they are never taken for stages of the new rule."""
        settings = self.model_dump(mode="json", exclude_defaults=True)
        settings.pop("word_labels", None)
        if tagging:
            settings["word_labels"] = self.word_labels
        robust = self.robust.identity()
        if robust:
            settings["robust"] = robust
        else:
            settings.pop("robust", None)
        return settings
