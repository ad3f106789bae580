"""`xlt status` prices the pending stages of a study from the step times of the finished stages most like
each: training per token budget and step count, evaluation per language."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from xlt.runs.store import StageStatus
from xlt.study.config import load_study
from xlt.study.cost import project
from xlt.study.plan import Stage, build_plan

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"


class _Records:
    """The one thing the projection reads of a run store: each finished stage's record."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records

    def read_record(self, stage_id: str) -> dict[str, Any]:
        return self.records[stage_id]


def _record(steps: dict[str, float], trained: int | None = None, capped: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {"steps": steps}
    if trained is not None:
        record["convergence"] = {"steps": trained, "verdict": "capped" if capped else "converged"}
    return record


def _statuses(stages: list[Stage], done: set[str], running: set[str] = frozenset()) -> list[StageStatus]:  # type: ignore[assignment]
    return [
        StageStatus(
            s.stage_id, "done" if s.stage_id in done else "running" if s.stage_id in running else "pending"
        )
        for s in stages
    ]


def test_pending_stages_are_priced_by_their_closest_finished_peers() -> None:
    plan = build_plan(load_study(QUICKSTART))  # every training: batch 16, max_length 64, max_steps 30
    stsb = [s for s in plan.intermediates if s.task == "stsb"]
    semrel_eng = [s for s in plan.intermediates if s.task == "semrel-eng"]
    semrel = [s for s in plan.targets if s.task == "semrel"]
    stsb_multi = [s for s in plan.targets if s.task == "stsb-multi"]
    tatoeba = [s for s in plan.targets if s.task == "tatoeba"]
    records = {
        # ran into its 30-step cap
        stsb[0].stage_id: _record({"prepare": 2.0, "train": 96.0}, trained=30, capped=True),
        # converged after 20 steps; 13 languages evaluated in 39 s
        semrel[0].stage_id: _record({"train": 200.0, "evaluate": 39.0}, trained=20),
    }
    running = semrel[1].stage_id
    statuses = _statuses(plan.stages, set(records), {running})
    projection = project(plan.stages, statuses, _Records(records))  # type: ignore[arg-type]
    assert projection.done_seconds == 337.0
    assert len(semrel[0].languages) == 13
    # stsb seed 2 as stsb seed 1: 96 + 2; the other semrel targets as the finished one: 200 + 39.
    # semrel-eng and stsb-multi, loosely, by every pair-regression training: per step the median of 96/30
    # and 200/20 s, for the median of 30 steps (that peer was capped at 30, their own cap) and 20; the rest
    # of semrel-eng as stsb's (2 s), that of stsb-multi at semrel's 3 s per language
    training = (96.0 / 30 + 200.0 / 20) / 2 * 25
    expected = (
        98.0 * (len(stsb) - 1)
        + (training + 2.0) * len(semrel_eng)
        + 239.0 * (len(semrel) - 2)
        + (training + 3.0 * len(stsb_multi[0].languages)) * len(stsb_multi)
    )
    assert projection.seconds == pytest.approx(expected)
    assert projection.priced == len(stsb) - 1 + len(semrel_eng) + len(semrel) - 2 + len(stsb_multi)
    assert projection.loose == len(semrel_eng) + len(stsb_multi)
    # the Tatoeba checks train nothing and no stage that trains nothing has finished
    assert sorted(projection.unpriced) == sorted(s.stage_id for s in tatoeba)
    text = projection.describe()
    assert "not priced" in text and "stages of another task" in text


def test_a_longer_cap_is_priced_only_where_the_peers_ran_into_theirs() -> None:
    """A peer that converged before its cap says nothing about a higher cap; one that was capped does."""
    plan = build_plan(load_study(QUICKSTART))
    stsb = [s for s in plan.intermediates if s.task == "stsb"]
    longer = stsb[1].training.model_copy(update={"max_steps": 300})  # type: ignore[union-attr]
    stage = dataclasses.replace(stsb[1], training=longer)
    stages = [stsb[0], stage]
    for capped, steps in ((False, 20), (True, 300)):
        records = {stsb[0].stage_id: _record({"train": 60.0}, trained=30 if capped else 20, capped=capped)}
        projection = project(stages, _statuses(stages, set(records)), _Records(records))  # type: ignore[arg-type]
        per_step = 60.0 / (30 if capped else 20)
        assert projection.seconds == pytest.approx(per_step * steps)


def test_a_model_another_stage_trains_costs_only_its_evaluation(tmp_path: Path) -> None:
    """xquad and mlqa train the same model (TyDiQA-GoldP English): the second one only evaluates, and a
    QA target is priced by the TyDiQA English intermediate, which trains the same way."""
    study = tmp_path / "qa.yaml"
    study.write_text(
        "name: qa\nencoders: [me5-small]\nseeds: [1]\nintermediates: [tydiqa-en]\n"
        "targets: [semrel, xquad, mlqa]\n"
        "training:\n  intermediate: &qa {max_steps: 100, batch_size: 8, max_length: 256}\n  target: *qa\n"
        "evaluation: {languages: [en, de, ar, hau], max_examples: 20}\n"
    )
    plan = build_plan(load_study(study))
    qa = [s for s in plan.targets if s.task in ("xquad", "mlqa")]
    # tydiqa-en is the QA targets' own English data, so never their intermediate: one model for both
    assert len(qa) == 2 and len({s.training_key() for s in qa}) == 1
    tydiqa_en = plan.intermediates[0]
    semrel = next(s for s in plan.targets if s.task == "semrel" and s.parent is None)
    records = {
        tydiqa_en.stage_id: _record({"train": 500.0}, trained=50),
        semrel.stage_id: _record({"train": 10.0, "evaluate": 6.0}, trained=100),
        # a stage that copied its model from another: its train step says nothing of training's cost
        **{
            s.stage_id: {
                **_record({"train": 0.5, "evaluate": 5.5}, trained=50),
                "trained_model": {"reused_from": "x"},
            }
            for s in plan.targets
            if s.task == "semrel" and s.parent is not None
        },
    }
    done = set(records)
    stages = [s for s in plan.stages if s.task != "tatoeba"]
    projection = project(stages, _statuses(stages, done), _Records(records))  # type: ignore[arg-type]
    # evaluation per language as semrel's
    evaluation = 6.0 / len(semrel.languages) * len(qa[0].languages)
    assert projection.seconds == pytest.approx(500.0 + len(qa) * evaluation)
    assert projection.shared == 1 and projection.priced == len(qa) and projection.loose == len(qa)
    assert "evaluating a model another stage trains" in projection.describe()
