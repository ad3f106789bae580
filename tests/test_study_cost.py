"""`xlt status` prices the pending stages of a study from the finished stages most like each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.runs.store import StageStatus
from xlt.study.config import load_study
from xlt.study.cost import project
from xlt.study.plan import build_plan

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"


class _Records:
    """The one thing the projection reads of a run store: each finished stage's record."""

    def __init__(self, steps: dict[str, dict[str, float]]) -> None:
        self.steps = steps

    def read_record(self, stage_id: str) -> dict[str, Any]:
        return {"steps": self.steps[stage_id]}


def test_pending_stages_are_priced_by_their_closest_finished_peers() -> None:
    plan = build_plan(load_study(QUICKSTART))
    stsb = [s for s in plan.intermediates if s.task == "stsb"]
    other = [s for s in plan.intermediates if s.task != "stsb"]
    semrel = [s for s in plan.targets if s.task == "semrel" and s.parent is None]
    tatoeba = [s for s in plan.targets if s.task == "tatoeba"]
    steps = {stsb[0].stage_id: {"prepare": 2.0, "train": 100.0}, semrel[0].stage_id: {"train": 300.0}}
    running = semrel[1].stage_id
    statuses = [
        StageStatus(
            s.stage_id, "done" if s.stage_id in steps else "running" if s.stage_id == running else "pending"
        )
        for s in plan.stages
    ]
    projection = project(plan.stages, statuses, _Records(steps))  # type: ignore[arg-type]
    assert projection.done_seconds == 402.0
    # stsb seed 2 at its own task's 102 s, semrel-eng (another pair-regression task) at stsb's as well;
    # every trained target at the semrel baseline's 300 s (those of semrel itself, the rest loosely)
    trained = [
        s for s in plan.targets if s.training is not None and s.stage_id not in (semrel[0].stage_id, running)
    ]
    assert projection.priced == len(stsb) - 1 + len(other) + len(trained)
    assert projection.seconds == 102.0 * (len(stsb) - 1 + len(other)) + 300.0 * len(trained)
    assert projection.loose == len(other) + sum(s.task != "semrel" for s in trained)
    # the Tatoeba checks train nothing: no trained stage prices them
    assert sorted(projection.unpriced) == sorted(s.stage_id for s in tatoeba)
    assert "not priced" in projection.describe() and "stages of another task" in projection.describe()
