"""Building one stage: its steps in order inside the store's build, logged to the stage's own log."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import Progress

from xlt.core.errors import XltError
from xlt.models.encoders import encoder_info
from xlt.models.precision import Precision, resolve_precision
from xlt.models.sentence import SentenceEncoder
from xlt.runs.provenance import environment
from xlt.runs.store import RunStore
from xlt.study import steps
from xlt.study.plan import Stage

log = logging.getLogger("xlt")


@contextmanager
def stage_log(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    previous = log.level
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
        handler.close()


def stage_provenance(stage: Stage) -> dict[str, Any]:
    """This process's code, libraries and device, and the precision the stage's settings resolve to."""
    return build_provenance(
        stage.training.precision if stage.training is not None else None,
        stage.precision if stage.kind == "target" else None,
    )


def build_provenance(train: Precision | None, evaluation: Precision | None) -> dict[str, Any]:
    """The environment plus the precision training and evaluation resolve to here (None: not done)."""
    return {
        **environment(),
        "train_precision": resolve_precision(train) if train is not None else None,
        "eval_precision": resolve_precision(evaluation) if evaluation is not None else None,
    }


def _load_encoder(stage: Stage, store: RunStore) -> SentenceEncoder | None:
    if encoder_info(stage.encoder).kind == "lexical":
        return None
    encoder = SentenceEncoder(stage.encoder)
    if stage.parent is not None:
        encoder.load_trained(store.stage_dir(stage.parent.stage_id))
        log.info("loaded encoder trained by %s", stage.parent.stage_id)
    return encoder


def execute_stage(
    stage: Stage,
    store: RunStore,
    data_dir: Path,
    progress: Progress | None = None,
    donors: Sequence[RunStore] = (),
) -> None:
    """Build a stage in its steps; an interrupted build of the same stage is continued where it stopped.
    `donors`: the stores of other studies whose trained targets this stage may take (`steps.train`)."""
    spec, here = stage.spec(), stage_provenance(stage)
    with (
        store.building(stage.stage_id, spec, here) as build,
        stage_log(store.log_path(stage.stage_id)),
    ):
        log.info("stage %s: %s", stage.stage_id, json.dumps(spec, sort_keys=True))
        if build.discarded:
            log.info("started afresh: an earlier partial build was discarded because %s", build.discarded)
        elif build.steps:
            log.info("continuing an interrupted build; steps done: %s", ", ".join(build.steps))
        if build.provenance["threads"] != here["threads"]:
            log.warning(
                "continuing with %s threads where the build started with %s: sums may be ordered "
                "differently, so results can differ in the last bits from an uninterrupted build",
                here["threads"],
                build.provenance["threads"],
            )
        work = steps.StageWork(
            stage, build, data_dir, progress, _load_encoder(stage, store), store=store, donors=donors
        )
        steps.prepare_data(work)
        steps.train(work)
        steps.align(work)
        steps.evaluate(work)
        steps.robustness(work)
        del work
        gc.collect()


def run_stage(
    stage: Stage,
    store: RunStore,
    data_dir: Path,
    progress: Progress | None = None,
    donors: Sequence[RunStore] = (),
) -> tuple[str, str]:
    """Build one stage whose intermediate (if any) is finished: ("done" | "failed" | "skipped", detail).
    `donors`: other studies' stores whose trained targets it may take."""
    parent = stage.parent.stage_id if stage.parent is not None else None
    if parent is not None and not store.is_done(parent):
        return "skipped", f"its intermediate stage {parent} did not finish"
    try:
        execute_stage(stage, store, data_dir, progress, donors)
    except XltError as exc:
        return "failed", exc.one_line()
    except Exception as exc:
        return "failed", f"{type(exc).__name__}: {exc}"
    return "done", ""
