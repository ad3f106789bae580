"""Readers and metric pinned to the SemRel 2024 organisers' lexical-overlap baseline on the official files."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt.evaluation.zero_shot import evaluate_language
from xlt.tasks import get_task

ORGANISERS_DICE = {
    "eng": 0.6699,
    "amh": 0.6332,
    "arq": 0.3999,
    "ary": 0.6265,
    "hau": 0.3058,
    "kin": 0.3327,
    "mar": 0.6187,
    "tel": 0.6972,
    "afr": 0.7062,
    "arb": 0.3203,
    "hin": 0.5267,
    "ind": 0.5533,
    "pan": -0.2745,
}


@pytest.mark.parametrize(("language", "expected"), sorted(ORGANISERS_DICE.items()))
def test_dice_baseline_matches_organisers(data_dir: Path, language: str, expected: float) -> None:
    result = evaluate_language(get_task("semrel"), data_dir, language)
    assert result.score == pytest.approx(expected, abs=1e-3)
