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


# in `stage.json`: the version of the evaluation code that wrote a target stage's predictions and robustness
# suites. Version 2 (9231f9e): under bf16, the embedding attack and randomized smoothing perturb the input
# embeddings; before, the bf16 inference copy of the transformer skipped their hook, so bf16 attacks returned
# the clean outputs and rs-noise predictions had no noise.
EVALUATION_FORMAT = "evaluation_format"
EVALUATION_VERSION = 2
# `stale_results`' key for a stage whose predictions themselves are wrong (every suite with them)
ALL_RESULTS = "*"
_BF16_HOOK = "the bf16 inference copy of the transformer skipped the perturbation before 9231f9e"


def stale_results(record: dict[str, Any], suites: dict[str, Any] | None) -> dict[str, str]:
    """What of a finished target stage is known to be wrong, each with why: robustness suites by name, or
    `ALL_RESULTS` when its predictions are. `record` is its `stage.json`, `suites` its `robustness.json`
    (None: not read; then only the predictions are judged). Stages evaluated by version 2 or later, and
    fp32 ones, are never stale (so a rebuild cannot loop):
    - an rs-noise stage evaluated under bf16: its smoothed predictions had no noise;
    - an attack under bf16 whose perturbed outputs equal the clean ones item for item in every language:
      the bug's signature (a working attack moves continuous scores)."""
    if int((record.get(EVALUATION_FORMAT) or {}).get("version", 1)) >= EVALUATION_VERSION:
        return {}
    if (record.get("provenance") or {}).get("eval_precision") != "bf16":
        return {}
    robust = ((record.get("training") or {}).get("robust") or {}).get("method")
    if robust == "rs-noise":
        return {ALL_RESULTS: f"its rs-noise predictions had no noise: {_BF16_HOOK}"}
    attack = (suites or {}).get("attack") or {}
    items = [entry.get("items") or {} for entry in attack.values()]
    if items and all(i.get("clean") is not None and i.get("clean") == i.get("perturbed") for i in items):
        return {"attack": f"its bf16 attack left every output unchanged: {_BF16_HOOK}"}
    return {}


def stale_parts(store: RunStore, stage: Stage) -> dict[str, str]:
    """`stale_results` of a finished target stage, read from its directory ({} for other stages)."""
    from xlt.robustness.suites import ROBUSTNESS

    if stage.kind != "target" or not store.is_done(stage.stage_id):
        return {}
    path = store.stage_dir(stage.stage_id) / ROBUSTNESS
    suites = json.loads(path.read_text()) if path.is_file() else None
    return stale_results(store.read_record(stage.stage_id), suites)


def usable(store: RunStore, stage: Stage) -> bool:
    """Finished, intact, and with predictions not known to be wrong (`stale_results`): a stage results use."""
    if not store.is_done(stage.stage_id):
        return False
    return stage.kind != "target" or ALL_RESULTS not in stale_results(store.read_record(stage.stage_id), None)
