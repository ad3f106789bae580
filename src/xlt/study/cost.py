"""What the rest of a study will cost, from the step times every finished stage records in its
`stage.json`. `xlt status` prints it, so that a researcher resuming a long study knows whether the next
sitting finishes it.

A pending stage is priced in two parts, each by the finished stages most like it:
- its training, at the seconds per token budget (steps x batch size x max_length) of the closest stages
  that trained (same task, variant and encoder; else same task and variant; else the same task type, where
  an intermediate prices a target that trains the same way, e.g. TyDiQA English for the QA targets; else
  any), times the steps it should take: its cap where those stages ran into theirs, else theirs. A
  stage whose model another stage trains (equal training keys, e.g. xquad, mlqa and tydiqa) trains nothing.
- everything else (preparing, evaluating, perturbing) at the closest finished stages of its kind that
  train (or not) as it does; those of another task are scaled by its number of languages.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xlt.runs.store import RunStore, StageStatus
from xlt.study.plan import Stage


@dataclass(frozen=True)
class Projection:
    seconds: float  # the priced pending stages, summed
    priced: int  # pending stages with a finished peer
    loose: int  # of those, priced (in part) by stages of another task (a rougher price)
    unpriced: list[str]  # pending stages with none (their kind has not run yet in this study)
    done_seconds: float  # what the finished stages took
    shared: int = 0  # priced pending stages whose model another stage trains (their evaluation only)

    def describe(self) -> str:
        if not self.priced and not self.unpriced:
            return f"nothing pending; the finished stages took {_duration(self.done_seconds)} of stage time"
        text = (
            f"{self.priced} pending stage(s): about {_duration(self.seconds)} of stage time at the step "
            "times of the finished stages most like each"
        )
        notes = []
        if self.loose:
            notes.append(f"{self.loose} of them by stages of another task")
        if self.shared:
            notes.append(f"{self.shared} evaluating a model another stage trains")
        if notes:
            text += f" ({'; '.join(notes)})"
        if self.unpriced:
            text += f"; {len(self.unpriced)} not priced (no finished stage of their kind yet)"
        return text + f"; the finished stages took {_duration(self.done_seconds)}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@dataclass(frozen=True)
class _Finished:
    """What a finished stage's record says it cost."""

    stage: Stage
    train: float | None  # seconds of a training it ran itself (None: it trained nothing, or copied a model)
    steps: int  # optimiser steps of that training
    capped: bool  # its training ran into its step cap
    rest: float  # seconds of every other step

    @property
    def per_token(self) -> float:
        training = self.stage.training
        assert training is not None and self.train is not None
        return self.train / (max(self.steps, 1) * training.batch_size * training.max_length)


def _finished(stage: Stage, record: dict[str, Any]) -> _Finished | None:
    steps = {name: float(value) for name, value in (record.get("steps") or {}).items() if _number(value)}
    if not steps:
        return None
    convergence = record.get("convergence") or {}
    copied = "reused_from" in (record.get("trained_model") or {})
    trained = (
        stage.training is not None and "train" in steps and not copied and _number(convergence.get("steps"))
    )
    return _Finished(
        stage,
        steps["train"] if trained else None,
        int(convergence.get("steps") or 0),
        convergence.get("verdict") == "capped",
        sum(value for name, value in steps.items() if name != "train" or not trained),
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _train_keys(stage: Stage) -> list[tuple[tuple[Any, ...], bool]]:
    """The keys of the stages whose training prices `stage`'s, closest first, each with whether they are
    of its own task. Intermediates and targets alike: a training costs what its data and settings do."""
    kind = stage.task_spec.type.value
    return [
        (("task", stage.task, stage.variant, stage.encoder), True),
        (("task", stage.task, stage.variant), True),
        (("type", kind, stage.variant), False),
        (("variant", stage.variant), False),
        (("type", kind), False),
        (("any",), False),
    ]


def _rest_keys(stage: Stage) -> list[tuple[tuple[Any, ...], bool]]:
    """The same for the rest of a stage (evaluation above all): stages of its kind that train, or not, as it
    does; a Tatoeba check takes seconds, a trained target's evaluation under perturbations minutes."""
    kind = (stage.kind, stage.training is not None)
    return [
        ((*kind, "task", stage.task, stage.variant, stage.encoder), True),
        ((*kind, "task", stage.task, stage.variant), True),
        ((*kind, "task", stage.task), True),
        ((*kind, "type", stage.task_spec.type.value, stage.variant), False),
        ((*kind, "variant", stage.variant), False),
        (kind, False),
    ]


def stage_seconds(store: RunStore, stage_id: str) -> float | None:
    """The seconds a finished stage's steps took, as its record says (None if it recorded none)."""
    steps = store.read_record(stage_id).get("steps") or {}
    seconds = [float(value) for value in steps.values() if _number(value)]
    return sum(seconds) if seconds else None


def project(stages: Sequence[Stage], statuses: Sequence[StageStatus], store: RunStore) -> Projection:
    """Price the pending (and failed) stages of `stages` from the finished ones; `statuses` as
    `RunStore.status` gives them, in the same order."""
    trainings: dict[tuple[Any, ...], list[_Finished]] = {}
    rests: dict[tuple[Any, ...], list[_Finished]] = {}
    trained_keys: set[str] = set()
    done = 0.0
    for stage, status in zip(stages, statuses, strict=True):
        if status.state != "done":
            continue
        finished = _finished(stage, store.read_record(stage.stage_id))
        if finished is None:
            continue
        done += finished.rest + (finished.train or 0.0)
        key = stage.training_key()
        if key is not None:
            trained_keys.add(key)
        if finished.train is not None:
            for peer_key, _ in _train_keys(stage):
                trainings.setdefault(peer_key, []).append(finished)
        for peer_key, _ in _rest_keys(stage):
            rests.setdefault(peer_key, []).append(finished)
    total, priced, loose, shared, unpriced = 0.0, 0, 0, 0, []
    for stage, status in zip(stages, statuses, strict=True):
        if status.state in ("done", "running"):
            continue
        key = stage.training_key()
        trains = stage.training is not None and (key is None or key not in trained_keys)
        train = _closest(trainings, _train_keys(stage), stage, _training_seconds) if trains else None
        rest = _closest(rests, _rest_keys(stage), stage, _rest_seconds)
        if rest is None or (trains and train is None):
            unpriced.append(stage.stage_id)
            continue
        seconds, own = rest
        if trains:
            assert train is not None
            seconds += train[0]
            own = own and train[1]
        elif stage.training is not None:
            shared += 1
        total += seconds
        priced += 1
        loose += not own
        if key is not None:
            trained_keys.add(key)  # the next stage with this key reuses this one's model
    return Projection(total, priced, loose, unpriced, done, shared)


def _closest(
    measured: dict[tuple[Any, ...], list[_Finished]],
    keys: list[tuple[tuple[Any, ...], bool]],
    stage: Stage,
    price: Callable[[Stage, list[_Finished]], float],
) -> tuple[float, bool] | None:
    """The price of `stage` by the closest peers that exist, and whether they are of its own task."""
    for key, own in keys:
        if key in measured:
            return price(stage, measured[key]), own
    return None


def _training_seconds(stage: Stage, peers: list[_Finished]) -> float:
    training = stage.training
    assert training is not None
    cap = training.max_steps

    def steps(peer: _Finished) -> int:
        if cap is None:
            return peer.steps
        return cap if peer.capped else min(peer.steps, cap)

    per_token = statistics.median(peer.per_token for peer in peers)
    expected = statistics.median(steps(peer) for peer in peers)
    return per_token * expected * training.batch_size * training.max_length


def _rest_seconds(stage: Stage, peers: list[_Finished]) -> float:
    if all(peer.stage.task == stage.task for peer in peers):
        return statistics.median(peer.rest for peer in peers)
    per_language = statistics.median(peer.rest / max(len(peer.stage.languages), 1) for peer in peers)
    return per_language * max(len(stage.languages), 1)
