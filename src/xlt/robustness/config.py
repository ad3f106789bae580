"""The robustness suites a study runs on its target stages (settings only: no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

Suite = Literal["char-noise", "diacritics", "word-drop", "word-swap", "generalized", "attack", "ood"]
# out-of-domain test sets of the same task type: STS-B (news, captions, forums) <-> SemRel (mixed domains)
DEFAULT_OOD = {"stsb-multi": "semrel", "semrel": "stsb-multi"}


class RobustnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    suites: list[Suite] = Field(default_factory=list, description="suites run on every trained target stage")
    rate: float = Field(0.1, gt=0, le=1, description="character / word perturbation probability")
    max_examples: PositiveInt | None = Field(None, description="items per language; None = evaluation's")
    seed: int = 0
    attack_radius: float = Field(0.5, gt=0, description="attack: L2 radius of the embedding perturbation")
    attack_steps: PositiveInt = Field(3, description="attack: PGD steps")
    attack_step_size: float = Field(0.2, gt=0, description="attack: L2 size of each PGD step")
    ood: dict[str, str] = Field(
        default_factory=dict,
        description="ood: target task -> a task of the same type whose test set is out of domain "
        "(defaults: stsb-multi <-> semrel)",
    )
