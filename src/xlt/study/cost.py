"""What the rest of a study will cost: each pending stage priced at the median seconds of the finished
stages most like it (same kind, task, variant and encoder; else the same with any encoder; else same kind
and variant with the same task type; else same kind and task; else same kind; a stage that trains only by
one that trains), from the step times every finished stage records in its `stage.json`. `xlt status`
prints it, so that a researcher resuming a long study knows whether the next sitting finishes it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from xlt.runs.store import RunStore, StageStatus
from xlt.study.plan import Stage


@dataclass(frozen=True)
class Projection:
    seconds: float  # the priced pending stages, summed
    priced: int  # pending stages with a finished peer
    loose: int  # of those, priced by stages of another task (a rougher price)
    unpriced: list[str]  # pending stages with none (their kind has not run yet in this study)
    done_seconds: float  # what the finished stages took

    def describe(self) -> str:
        if not self.priced and not self.unpriced:
            return f"nothing pending; the finished stages took {_duration(self.done_seconds)} of stage time"
        text = (
            f"{self.priced} pending stage(s): about {_duration(self.seconds)} of stage time at the median "
            "of the finished stages most like each"
        )
        if self.loose:
            text += f" ({self.loose} of them by stages of another task)"
        if self.unpriced:
            text += f"; {len(self.unpriced)} not priced (no finished stage of their kind yet)"
        return text + f"; the finished stages took {_duration(self.done_seconds)}"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _keys(stage: Stage) -> list[tuple[tuple[str, ...], bool]]:
    """The keys of a stage's peers, from the closest to the loosest, each with whether its peers are of
    the stage's own task. A stage that trains is never priced by one that does not (a Tatoeba check takes
    seconds, a trained target minutes)."""
    kind = (stage.kind, "trained" if stage.training is not None else "untrained")
    return [
        ((*kind, stage.task, stage.variant, stage.encoder), True),
        ((*kind, stage.task, stage.variant), True),
        ((*kind, stage.task_spec.type.value, stage.variant), False),
        ((*kind, stage.task), True),
        (kind, False),
    ]


def stage_seconds(store: RunStore, stage_id: str) -> float | None:
    """The seconds a finished stage's steps took, as its record says (None if it recorded none)."""
    steps = store.read_record(stage_id).get("steps") or {}
    seconds = [float(value) for value in steps.values() if isinstance(value, int | float)]
    return sum(seconds) if seconds else None


def project(stages: Sequence[Stage], statuses: Sequence[StageStatus], store: RunStore) -> Projection:
    """Price the pending (and failed) stages of `stages` from the finished ones; `statuses` as
    `RunStore.status` gives them, in the same order."""
    measured: dict[tuple[str, ...], list[float]] = {}
    done = 0.0
    for stage, status in zip(stages, statuses, strict=True):
        if status.state != "done":
            continue
        seconds = stage_seconds(store, stage.stage_id)
        if seconds is None:
            continue
        done += seconds
        for key, _ in _keys(stage):
            measured.setdefault(key, []).append(seconds)
    total, priced, loose, unpriced = 0.0, 0, 0, []
    for stage, status in zip(stages, statuses, strict=True):
        if status.state in ("done", "running"):
            continue
        peers = next(((key, own) for key, own in _keys(stage) if key in measured), None)
        if peers is None:
            unpriced.append(stage.stage_id)
            continue
        total += statistics.median(measured[peers[0]])
        priced += 1
        loose += not peers[1]
    return Projection(total, priced, loose, unpriced, done)
