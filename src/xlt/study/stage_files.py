"""The files a finished stage holds that other modules read: the executor writes them, the results and
robustness tables read them. Kept apart so that readers do not import the executor."""

from __future__ import annotations

import json
from typing import Any, Literal

from xlt.runs.store import RunStore
from xlt.study.plan import Stage

PREDICTIONS = "predictions.json"
TRAIN_REPORT = "train.json"
# the key of the training verdict in `stage.json`
CONVERGENCE = "convergence"
Convergence = Literal["converged", "capped", "fixed", "untrained"]
# a stage that trained nothing (a lexical scorer, a task without English training data)
UNTRAINED: Convergence = "untrained"


def convergence(store: RunStore, stage: Stage) -> Convergence:
    """The training verdict of a finished stage. Stages built before verdicts were recorded trained for a
    fixed budget (early stopping did not exist), so a `train.json` without a verdict means `fixed`."""
    recorded = store.outcome(stage.stage_id, CONVERGENCE)
    if recorded is not None:
        verdict: Convergence = recorded["verdict"]
        return verdict
    return "fixed" if (store.stage_dir(stage.stage_id) / TRAIN_REPORT).is_file() else UNTRAINED


def chain_convergence(verdicts: list[Convergence]) -> Convergence:
    """One verdict for a chain of stages: converged only if every trained stage converged; capped if any
    was cut while still improving; else fixed (some budget was never tested). Untrained stages do not
    count; a chain that trained nothing is untrained."""
    trained = [v for v in verdicts if v != UNTRAINED]
    if "capped" in trained:
        return "capped"
    if "fixed" in trained:
        return "fixed"
    return "converged" if trained else UNTRAINED


def load_predictions(store: RunStore, stage: Stage) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((store.stage_dir(stage.stage_id) / PREDICTIONS).read_text())
    return data
