"""The robustness suites a study runs on its target stages (settings only: no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

Suite = Literal["char-noise", "diacritics", "word-drop", "word-swap", "generalized"]


class RobustnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    suites: list[Suite] = Field(default_factory=list, description="suites run on every trained target stage")
    rate: float = Field(0.1, gt=0, le=1, description="character / word perturbation probability")
    max_examples: PositiveInt | None = Field(None, description="items per language; None = evaluation's")
    seed: int = 0
