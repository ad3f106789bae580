"""The named steps a stage is built in: prepare data, train, align, evaluate, robustness.

Each step writes its output into the stage's scratch directory and only then is recorded complete in the
build, so a stage interrupted in one step continues at that step, with the outputs of the steps before it
read back from disk; training continues from its last checkpoint (`training.loop.Checkpoints`). A step
that does not apply to a stage (training for a lexical scorer, alignment without one) does nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from datasets import Dataset
from rich.progress import Progress

from xlt.core.errors import ConfigError
from xlt.core.io import atomic_directory, atomic_write_json
from xlt.evaluation.zero_shot import evaluate_languages
from xlt.models.modules import load_module, save_module
from xlt.models.sentence import ALIGNMENT_DIR, TRAINED_WEIGHTS, SentenceEncoder
from xlt.runs.store import RunStore, StageBuild
from xlt.study.plan import Stage
from xlt.study.stage_files import (
    CONVERGENCE,
    EVALUATION_FORMAT,
    EVALUATION_VERSION,
    PREDICTIONS,
    TRAIN_REPORT,
)
from xlt.training.config import TrainingConfig
from xlt.training.kinds import make_kind
from xlt.training.kinds.base import HEAD_WEIGHTS, TaskKind, WithHead
from xlt.training.loop import Checkpoints, TrainReport, fit, seed_everything
from xlt.training.robust import SmoothedKind

log = logging.getLogger("xlt")
# how often training saves a checkpoint: every N steps and/or every M minutes (defaults: 10 minutes)
CHECKPOINT_STEPS_ENV = "XLT_CHECKPOINT_STEPS"
CHECKPOINT_MINUTES_ENV = "XLT_CHECKPOINT_MINUTES"
DEFAULT_CHECKPOINT_MINUTES = 10.0
PREPARED = "prepared"
# in stage.json: the training key of a target stage's model, and the stage it was reused from (if any)
TRAINED_MODEL = "trained_model"
CHECKPOINT = "checkpoint.pt"


@dataclass
class StageWork:
    """One stage being built, and the models its steps have made so far."""

    stage: Stage
    build: StageBuild
    data_dir: Path
    progress: Progress | None
    encoder: SentenceEncoder | None
    kind: TaskKind | None = None
    # the study's store, where a target stage looks for a stage that trained its model already, and then
    # the stores of the studies it reuses (`xlt run --reuse`)
    store: RunStore | None = None
    donors: Sequence[RunStore] = ()

    @property
    def out(self) -> Path:
        return self.build.directory

    @property
    def english(self) -> str | None:
        languages = self.stage.task_spec.languages
        return languages["train"][0] if "train" in languages else None

    @property
    def trains(self) -> bool:
        return self.encoder is not None and self.stage.training is not None and self.english is not None

    def predictor(self) -> TaskKind | None:
        """The trained kind as test predictions use it: for rs-noise, each a vote over noisy passes."""
        training = self.stage.training
        if self.kind is not None and training is not None and training.robust.method == "rs-noise":
            return cast(TaskKind, SmoothedKind(self.kind, training.robust, seed=self.stage.seed))
        return self.kind


def _run(work: StageWork, name: str, action: Callable[[], None], restore: Callable[[], None] | None) -> None:
    """Run a step unless an earlier run of this build completed it; then `restore` what later steps need."""
    if work.build.done(name):
        log.info("step '%s' was completed by an earlier run; reusing its output", name)
        if restore is not None:
            restore()
        return
    log.info("step '%s' started", name)
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    work.build.complete(name, seconds)
    log.info("step '%s' done in %.1f s", name, seconds)


def prepare_data(work: StageWork) -> None:
    """The English training and dev sets, cut to their limits and saved so that training reads the same
    rows in every run; for RS-DA, the training set plus K synonym-substituted copies of each example."""
    if not work.trains:
        return
    stage, english, training = work.stage, cast(str, work.english), work.stage.training
    assert training is not None

    def first(data: Dataset, limit: int | None) -> Dataset:
        return data.select(range(min(limit, len(data)))) if limit is not None else data

    def action() -> None:
        task = stage.task_spec
        train = first(task.load(work.data_dir, "train", english), training.train_limit)
        if training.robust.method == "rs-da":
            from xlt.robustness.augment import augment_dataset
            from xlt.robustness.neighbours import load_neighbours

            copies = training.robust.copies
            train = augment_dataset(train, task.type, load_neighbours(work.data_dir), copies, stage.seed)
            log.info("rs-da: %d training examples with %d augmented copies each", len(train), copies)
        with atomic_directory(work.build.work / PREPARED) as tmp, _quiet_datasets():
            train.save_to_disk(str(tmp / "train"))
            first(task.load(work.data_dir, "dev", english), training.dev_limit).save_to_disk(str(tmp / "dev"))

    _run(work, "prepare", action, None)


def checkpoint_interval() -> tuple[int | None, float | None]:
    """(every N steps, every S seconds) from the environment: 10 minutes unless either is set."""

    def positive(name: str, parse: Callable[[str], float]) -> float | None:
        raw = os.environ.get(name)
        if not raw:
            return None
        try:
            value = parse(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise ConfigError(
                f"{name}={raw!r} is not a positive number", f"unset {name}, or set e.g. {name}=10"
            )
        return value

    steps = positive(CHECKPOINT_STEPS_ENV, int)
    minutes = positive(CHECKPOINT_MINUTES_ENV, float)
    if steps is None and minutes is None:
        minutes = DEFAULT_CHECKPOINT_MINUTES
    return (int(steps) if steps is not None else None), (60 * minutes if minutes is not None else None)


def _checkpoints(build: StageBuild) -> Checkpoints:
    every_steps, every_seconds = checkpoint_interval()
    return Checkpoints(
        build.work / CHECKPOINT,
        every_steps=every_steps,
        every_seconds=every_seconds,
        on_save=lambda step, total: build.note(f"train: checkpoint at step {step}/{total}"),
    )


def train(work: StageWork) -> None:
    """Fine-tune the encoder with a fresh task head, checkpointing as it goes; saves the best state."""
    if not work.trains:
        return
    stage, encoder, training = work.stage, cast(SentenceEncoder, work.encoder), stage_training(work.stage)
    # the head's initial weights depend on the stage's seed only, not on what the process ran before
    seed_everything(stage.seed)
    kind = work.kind = make_kind(encoder, stage.task_spec, training)

    def action() -> None:
        label = f"  train {stage.chain} s{stage.seed}"
        progress = work.progress
        bar = progress.add_task(label, total=None) if progress is not None else None

        def on_step(step: int, total: int, loss: float) -> None:
            if progress is not None and bar is not None:
                progress.update(bar, completed=step, total=total, description=f"{label} loss {loss:.3f}")

        prepared = work.build.work / PREPARED
        report = fit(
            kind,
            Dataset.load_from_disk(str(prepared / "train")),
            Dataset.load_from_disk(str(prepared / "dev")),
            training,
            stage.seed,
            on_step=on_step,
            stage=stage.stage_id,
            checkpoints=_checkpoints(work.build),
        )
        if progress is not None and bar is not None:
            progress.remove_task(bar)
        metric = stage.task_spec.metric
        for entry in report.history:
            log.info(
                "step %d loss %.4f dev %s %.4f", entry["step"], entry["loss"], metric, entry["dev_score"]
            )
        log.info(
            "best English dev %.4f at step %d; %.1f s, %d tokens (%s%s)",
            report.best_dev,
            report.best_step,
            report.seconds,
            report.train_tokens,
            report.precision,
            ", compiled" if report.compiled else "",
        )
        log.info("%s: %s", report.verdict, report.stopped)
        atomic_write_json(work.out / TRAIN_REPORT, dataclasses.asdict(report))
        kind.save(work.out, {"stage": stage.stage_id})
        work.build.record(CONVERGENCE, convergence_record(report))
        if key is not None:
            work.build.record(TRAINED_MODEL, {"key": key})

    def restore() -> None:
        """The trained state as `fit` left it: best weights and head, and its token limit."""
        encoder.load_trained(work.out)
        if isinstance(kind.model, WithHead):
            from safetensors.torch import load_file

            kind.model.head.load_state_dict(load_file(str(work.out / HEAD_WEIGHTS)))
        encoder.max_length = min(training.max_length, encoder.max_length)
        kind.model.eval()

    key = stage.training_key()
    if key is not None and work.store is not None and not work.build.done("train"):
        # a stage that trained this very model already: in this study, else in a study it reuses (a
        # target another study evaluates differently, e.g. on other languages or without perturbations)
        for store in (work.store, *work.donors):
            donor = store.trained_by(key)
            if donor is not None:
                _reuse_training(work, store, donor, key)
                restore()
                return
    _run(work, "train", action, restore)


def _reuse_training(work: StageWork, store: RunStore, donor: str, key: str) -> None:
    """The train step's output copied from `donor`, a finished stage of `store` with the same training
    key: the same model, trained once (its files, dev curve and verdict; the record names where it came
    from, and the donor's study when it is another one)."""
    start = time.perf_counter()
    source = store.stage_dir(donor)
    for name in (TRAIN_REPORT, TRAINED_WEIGHTS, HEAD_WEIGHTS):
        if (source / name).is_file():
            shutil.copyfile(source / name, work.out / name)
    record = store.read_record(donor)
    if record.get(CONVERGENCE) is not None:
        work.build.record(CONVERGENCE, dict(record[CONVERGENCE]))
    origin: dict[str, Any] = {"key": key, "reused_from": donor}
    where = ""
    if store is not work.store:
        origin["study"] = str(store.root)
        where = f" of {store.root}"
    work.build.record(TRAINED_MODEL, origin)
    work.build.complete("train", time.perf_counter() - start)
    log.info(
        "step 'train': the same model as %s%s (same training key %s); reused its weights", donor, where, key
    )


def convergence_record(report: TrainReport) -> dict[str, Any]:
    """What `stage.json` keeps of a training: its verdict, why it stopped, and its dev curve."""
    return {
        "verdict": report.verdict,
        "stopped": report.stopped,
        "steps": report.steps,
        "cap": report.cap,
        "best_step": report.best_step,
        "best_dev": report.best_dev,
        "curve": [[int(entry["step"]), entry["dev_score"]] for entry in report.history],
    }


def stage_training(stage: Stage) -> TrainingConfig:
    """The stage's training config as `fit` takes it: for RS-DA the limit was applied before augmenting."""
    training = stage.training
    assert training is not None
    if training.robust.method == "rs-da":
        return training.model_copy(update={"train_limit": None})
    return training


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No `datasets` progress bars while a stage saves its prepared data (they went to the terminal even
    with --no-progress, and into piped logs)."""
    import datasets

    enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if enabled:
            datasets.enable_progress_bars()


def align(work: StageWork) -> None:
    """Cross-lingual alignment of the (trained) encoder, fitted before evaluation."""
    stage, encoder = work.stage, work.encoder
    if stage.kind != "target" or stage.alignment == "none" or encoder is None:
        return

    def action() -> None:
        from xlt.alignment.fit import fit_alignment

        aligned = fit_alignment(
            encoder, stage.task_spec, work.data_dir, stage.languages, stage.alignment, seed=stage.seed
        )
        encoder.post_pooling = aligned
        save_module(aligned, work.out / ALIGNMENT_DIR)
        log.info("aligned with %s: projections for %s", stage.alignment, ", ".join(aligned.projections))

    def restore() -> None:
        encoder.post_pooling = load_module(work.out / ALIGNMENT_DIR)

    _run(work, "align", action, restore)


def evaluate(work: StageWork) -> None:
    """Zero-shot test predictions and scores in every evaluation language (predictions.json)."""
    stage = work.stage
    if stage.kind != "target":
        return

    def action() -> None:
        task, progress = stage.task_spec, work.progress
        label = f"  eval {stage.chain} s{stage.seed}"
        bar = progress.add_task(label, total=len(stage.languages)) if progress is not None else None
        predictions: dict[str, Any] = {}
        results = evaluate_languages(
            task,
            work.data_dir,
            stage.languages,
            kind=work.predictor(),
            encoder=work.encoder,
            max_examples=stage.max_examples,
            precision=stage.precision,
        )
        for language, result in zip(stage.languages, results, strict=True):
            log.info("%s %s = %.4f (n=%d)", language, task.metric, result.score, result.n)
            predictions[language] = {
                "ids": result.ids,
                "gold": result.gold,
                "pred": result.pred,
                "score": result.score,
                "extra": result.extra,
                "metric": task.metric,
                "files": task.file_hashes("test", language),
            }
            if progress is not None and bar is not None:
                progress.advance(bar)
        if progress is not None and bar is not None:
            progress.remove_task(bar)
        atomic_write_json(work.out / PREDICTIONS, predictions)
        work.build.record(EVALUATION_FORMAT, {"version": EVALUATION_VERSION})

    _run(work, "evaluate", action, None)


def robustness(work: StageWork) -> None:
    """The configured robustness suites on the trained target (robustness.json)."""
    stage, kind = work.stage, work.predictor()
    if stage.kind != "target" or stage.robustness is None or kind is None:
        return

    def action() -> None:
        from xlt.robustness.suites import ROBUSTNESS, run_suites

        assert stage.robustness is not None
        # the evaluate step's clean predictions, reused where the suites score the same items
        predictions = work.out / PREDICTIONS
        known = json.loads(predictions.read_text()) if predictions.is_file() else None
        suites = run_suites(
            stage.robustness,
            kind,
            stage.task_spec,
            work.data_dir,
            stage.languages,
            stage.max_examples,
            stage.precision,
            known=known,
        )
        atomic_write_json(work.out / ROBUSTNESS, suites)

    _run(work, "robustness", action, None)
