"""The files a finished stage holds that other modules read: the executor writes them, the results and
robustness tables read them. Kept apart so that readers do not import the executor."""

from __future__ import annotations

import json
from typing import Any

from xlt.runs.store import RunStore
from xlt.study.plan import Stage

PREDICTIONS = "predictions.json"
TRAIN_REPORT = "train.json"


def load_predictions(store: RunStore, stage: Stage) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((store.stage_dir(stage.stage_id) / PREDICTIONS).read_text())
    return data
