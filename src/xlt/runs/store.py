"""Content-addressed stage directories inside a study directory.

A stage directory appears only when its stage has finished (it is built under a temporary name and
renamed), so its presence is the completion marker. A failed stage leaves a record under `failed/`.
A finished stage is reused only while it is intact: `stage.json` lists the sha256 of every file the stage
holds, and a stage with a file missing or changed counts as not finished (it is rebuilt, never read).
The one exception is trained weights (`*.safetensors`): a study kept without them (in git, where they do not
belong) keeps its results, and a stage whose weights another stage still needs is retrained first; its new
`stage.json` says what it replaced (`replaces`: the old best dev score and predictions hash).
While a stage is built, its scratch directory records the steps already complete (`build.json`); a stage
interrupted by a kill or Ctrl-C continues from them when it is run again with the same spec, code,
libraries, device and precision, and starts afresh otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlt.core.errors import ConfigError, XltError
from xlt.core.hashing import canonical_json
from xlt.core.io import atomic_write_json, atomic_write_text, cached_sha256_file
from xlt.runs.provenance import same_build

StageState = Literal["done", "failed", "pending", "running"]
STAGE_RECORD = "stage.json"
# in the scratch directory only: the spec, provenance and completed steps of the stage being built
BUILD_RECORD = "build.json"
# in the scratch directory only: files a build needs until it finishes (prepared data, checkpoints)
WORK_DIR = "work"
# in a finished stage's directory: why its results are known to be wrong (`RunStore.expire`); it is rebuilt
EXPIRED = "expired.txt"
# the files every finished stage of a kind holds, checked for stages finished before `stage.json` listed
# its files (an intermediate's trained weights, a target's predictions)
REQUIRED_BY_KIND = {"intermediate": ("encoder.safetensors",), "target": ("predictions.json",)}
# files a finished stage (one that lists its files) may lose without losing its results: trained weights
WEIGHTS_SUFFIX = ".safetensors"
# the status detail of such a stage
WEIGHTS_NOT_KEPT = "weights not kept: retrained if a later stage needs them"
# in a stage's directory copied from another study (`RunStore.adopt`): the directory it came from
ADOPTED = "adopted.json"


@dataclass(frozen=True)
class StageStatus:
    stage_id: str
    state: StageState
    detail: str = ""


@dataclass
class StageBuild:
    """A stage under construction. Steps recorded complete survive an interruption of the process."""

    directory: Path
    spec: dict[str, Any]
    provenance: dict[str, Any]
    steps: dict[str, float] = field(default_factory=dict)
    # where the step in progress stands, for `xlt status` (e.g. "train: checkpoint at step 300/1000")
    progress: str = ""
    # why a scratch directory left by an earlier process was not continued ("" if there was none)
    discarded: str = ""
    # what steps found out that belongs in the stage's metadata, by key (e.g. `convergence`)
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        path = self.directory / WORK_DIR
        path.mkdir(exist_ok=True)
        return path

    def done(self, step: str) -> bool:
        return step in self.steps

    def complete(self, step: str, seconds: float) -> None:
        """Record `step` as complete; call it only after the step's output is written."""
        self.steps[step] = round(seconds, 3)
        self.progress = ""
        self.save()

    def record(self, key: str, outcome: dict[str, Any]) -> None:
        """Keep a step's outcome for `stage.json` under `key`; it survives an interruption like the
        completed steps do, so a build continued after its step still records it."""
        self.outcome[key] = outcome
        self.save()

    def note(self, progress: str) -> None:
        self.progress = progress
        self.save()

    def save(self) -> None:
        atomic_write_json(
            self.directory / BUILD_RECORD,
            {
                "spec": self.spec,
                "provenance": self.provenance,
                "steps": self.steps,
                "progress": self.progress,
                "outcome": self.outcome,
            },
        )


def read_build(directory: Path) -> dict[str, Any] | None:
    path = directory / BUILD_RECORD
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record


def _build_detail(scratch: Path) -> str:
    """Where a running or interrupted stage stands: its completed steps and the progress of the next."""
    record = read_build(scratch)
    if record is None:
        return "in progress, or interrupted before its first step (restarts cleanly)"
    steps = ", ".join(record.get("steps", {})) or "none"
    progress = f"; {record['progress']}" if record.get("progress") else ""
    return f"in progress, or interrupted (resumes): steps done: {steps}{progress}"


def _file_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every file a finished stage holds (by path inside it), the record `damage` checks."""
    return {
        path.relative_to(directory).as_posix(): cached_sha256_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name not in (STAGE_RECORD, BUILD_RECORD)
    }


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.stages_dir = root / "stages"
        self.failed_dir = root / "failed"
        self.logs_dir = root / "logs"
        # stage id -> (the record file's identity, its parsed content): see `read_record`
        self._records: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}

    def stage_dir(self, stage_id: str) -> Path:
        return self.stages_dir / stage_id

    def finished(self, stage_id: str) -> bool:
        """The stage was built to the end (it may since have been damaged: see `damage`)."""
        return (self.stage_dir(stage_id) / STAGE_RECORD).is_file()

    def damage(self, stage_id: str) -> str | None:
        """What makes a finished stage unusable (a file missing or changed since it was built), or None."""
        directory = self.stage_dir(stage_id)
        if (directory / EXPIRED).is_file():
            return f"expired: {(directory / EXPIRED).read_text().strip()}"
        try:
            record = self.read_record(stage_id)
        except (OSError, ValueError):
            return f"its {STAGE_RECORD} is unreadable"
        files: dict[str, str] | None = record.get("files")
        required = files if files is not None else REQUIRED_BY_KIND.get(str(record.get("kind")), ())
        for name in required:
            path = directory / name
            if not path.is_file() and files is not None and name.endswith(WEIGHTS_SUFFIX):
                continue  # weights not kept: `missing_weights`
            if not path.is_file():
                return f"{name} is missing"
            if files is not None and cached_sha256_file(path) != files[name]:
                return f"{name} differs from the file the stage was built with"
        return None

    def is_done(self, stage_id: str) -> bool:
        """Finished and intact: safe to reuse (its weights may not have been kept: `missing_weights`)."""
        return self.finished(stage_id) and self.damage(stage_id) is None

    def missing_weights(self, stage_id: str) -> list[str]:
        """The trained-weights files a finished stage was built with and no longer holds (a study kept
        without its weights): its results stand; a stage that needs the weights retrains it first."""
        try:
            files = self.read_record(stage_id).get("files") or {}
        except (OSError, ValueError):
            return []
        directory = self.stage_dir(stage_id)
        return [n for n in files if n.endswith(WEIGHTS_SUFFIX) and not (directory / n).is_file()]

    def holds_weights(self, stage_id: str) -> bool:
        """Finished, intact and still holding its trained weights: a model other stages can load."""
        return self.is_done(stage_id) and not self.missing_weights(stage_id)

    def trained_by(self, key: str) -> str | None:
        """A finished, intact stage whose trained model has training key `key` (recorded under
        `trained_model` in its stage.json), or None."""
        if not self.stages_dir.is_dir():
            return None
        for directory in sorted(self.stages_dir.iterdir()):
            try:
                record = self.read_record(directory.name)
            except (OSError, ValueError):
                continue
            if (record.get("trained_model") or {}).get("key") == key and self.holds_weights(directory.name):
                return directory.name
        return None

    def failure(self, stage_id: str) -> dict[str, Any] | None:
        path = self.failed_dir / f"{stage_id}.json"
        if not path.is_file():
            return None
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def log_path(self, stage_id: str) -> Path:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        return self.logs_dir / f"{stage_id}.log"

    def read_record(self, stage_id: str) -> dict[str, Any]:
        """A finished stage's `stage.json`, parsed once per version of the file: `xlt status` and a study's
        results ask each record for its damage, weights, verdict and step times. Records are replaced
        atomically (a new inode), so the file's identity and mtime tell a changed record from the one
        cached. The dict is shared between callers: read it, never change it."""
        path = self.stage_dir(stage_id) / STAGE_RECORD
        info = path.stat()
        signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = self._records.get(stage_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        record: dict[str, Any] = json.loads(path.read_text())
        self._records[stage_id] = (signature, record)
        return record

    def scratch_dir(self, stage_id: str) -> Path:
        return self.stages_dir / f".{stage_id}.partial"

    def _open_build(self, stage_id: str, spec: dict[str, Any], provenance: dict[str, Any]) -> StageBuild:
        """Continue the scratch directory of an interrupted build of this very stage, or start a new one."""
        scratch = self.scratch_dir(stage_id)
        discarded = ""
        if scratch.exists():
            record = read_build(scratch)
            if record is None:
                discarded = "it was interrupted before its first record"
            elif canonical_json(record.get("spec")) != canonical_json(spec):
                discarded = "its spec differs"
            elif not same_build(record.get("provenance", {}), provenance):
                discarded = "it was started with other code, libraries, device or precision"
            else:
                return StageBuild(
                    scratch,
                    spec,
                    record["provenance"],
                    record.get("steps", {}),
                    outcome=record.get("outcome", {}),
                )
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        build = StageBuild(scratch, spec, provenance, discarded=discarded)
        build.save()
        return build

    @contextlib.contextmanager
    def building(
        self, stage_id: str, spec: dict[str, Any], provenance: dict[str, Any]
    ) -> Iterator[StageBuild]:
        """Yield the stage's build in its scratch directory; on success it becomes the stage's directory,
        with `stage.json` holding the spec, the provenance, the seconds of each step and what the steps
        recorded (`StageBuild.record`, e.g. `convergence`: the training verdict).

        On failure the scratch directory is removed and the error is recorded under failed/; on an
        interruption (KeyboardInterrupt, SystemExit) it is kept so that the next run continues it.
        """
        if self.holds_weights(stage_id):
            raise RuntimeError(f"stage {stage_id} is already finished; refusing to overwrite it")
        replaces = self._replaced(stage_id)
        failed = self.failed_dir / f"{stage_id}.json"
        build = self._open_build(stage_id, spec, provenance)
        try:
            yield build
            if replaces is not None:
                build.outcome["replaces"] = replaces
            shutil.rmtree(build.directory / WORK_DIR, ignore_errors=True)
            atomic_write_json(
                build.directory / STAGE_RECORD,
                {
                    **spec,
                    "provenance": build.provenance,
                    "steps": build.steps,
                    **build.outcome,
                    "files": _file_hashes(build.directory),
                },
            )
            final = self.stage_dir(stage_id)
            if final.exists():
                shutil.rmtree(final)
            os.replace(build.directory, final)
            # after the rename, so that a kill at any point leaves either a continuable build or a stage
            (final / BUILD_RECORD).unlink(missing_ok=True)
        except Exception as exc:
            message = exc.one_line() if isinstance(exc, XltError) else f"{type(exc).__name__}: {exc}"
            atomic_write_json(
                failed, {"stage_id": stage_id, "error": message, "traceback": traceback.format_exc()}
            )
            shutil.rmtree(build.directory, ignore_errors=True)
            raise
        if failed.exists():
            failed.unlink()

    def adopt(self, stage_id: str, source: RunStore) -> bool:
        """Take the finished, intact stage `stage_id` of another study directory instead of building it: a
        stage id names everything the stage was built from (task, encoder, seed, training, evaluation and
        the chain before it), so the same id is the same stage. Files are hard-linked where the two
        directories share a file system (finished stages are never changed in place), copied otherwise;
        `adopted.json` records where the stage came from. False, and nothing changed, if the source does
        not hold it finished and intact, or this study already has it."""
        if source.root.resolve() == self.root.resolve() or self.finished(stage_id):
            return False
        if not source.is_done(stage_id):
            return False
        self.stages_dir.mkdir(parents=True, exist_ok=True)
        scratch = self._copy_in(stage_id, source, {})
        if scratch is None:
            return False
        os.replace(scratch, self.stage_dir(stage_id))
        if self.damage(stage_id) is not None:  # the same race, caught by the stage's own file hashes
            shutil.rmtree(self.stage_dir(stage_id), ignore_errors=True)
            return False
        log = source.logs_dir / f"{stage_id}.log"
        if log.is_file() and not self.log_path(stage_id).exists():
            shutil.copy2(log, self.log_path(stage_id))
        return True

    def take_weights(self, stage_id: str, source: RunStore) -> bool:
        """A finished stage here whose weights were not kept, replaced by the same stage (same id) of
        another study directory that still holds them: cheaper than retraining it, and the same kind of
        replacement (a build of the same spec). `adopted.json` records where it came from and what it
        replaced (the earlier best dev score, predictions hash and commit), as a retrained stage's record
        does. False, and nothing changed, unless this stage lacks weights and the source holds them."""
        if source.root.resolve() == self.root.resolve() or not self.missing_weights(stage_id):
            return False
        if not self.is_done(stage_id) or not source.holds_weights(stage_id):
            return False
        scratch = self._copy_in(stage_id, source, {"replaces": self._replaced(stage_id)})
        if scratch is None:
            return False
        previous = self.stages_dir / f".{stage_id}.replaced"
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(self.stage_dir(stage_id), previous)
        os.replace(scratch, self.stage_dir(stage_id))
        if self.damage(stage_id) is not None:  # the same race, caught by the stage's own file hashes
            shutil.rmtree(self.stage_dir(stage_id), ignore_errors=True)
            os.replace(previous, self.stage_dir(stage_id))
            return False
        shutil.rmtree(previous, ignore_errors=True)
        return True

    def _copy_in(self, stage_id: str, source: RunStore, origin: dict[str, Any]) -> Path | None:
        """Stage `stage_id` of `source` linked (or copied) into a scratch directory of this store, with
        `adopted.json` naming where it came from (and `origin`); None, and nothing left, if the source
        changed under the copy (e.g. rebuilt by its own run)."""
        scratch = self.stages_dir / f".{stage_id}.adopting"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            shutil.copytree(source.stage_dir(stage_id), scratch, copy_function=_link_or_copy)
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
            return None
        atomic_write_json(scratch / ADOPTED, {"from": str(source.stage_dir(stage_id).resolve()), **origin})
        return scratch

    def expire(self, stage_id: str, why: str) -> None:
        """Mark a finished stage whose results are known to be wrong (e.g. computed by code with a bug
        since fixed): it stops counting as done, so results leave it out and the next run rebuilds it; the
        new record says what it replaced. Its files stay until then (and in git, for a kept study)."""
        if not self.finished(stage_id):
            raise RuntimeError(f"stage {stage_id} is not finished; there is nothing to expire")
        atomic_write_text(self.stage_dir(stage_id) / EXPIRED, why + "\n")

    def _replaced(self, stage_id: str) -> dict[str, Any] | None:
        """What a rebuild of a finished stage replaces (retrained for its weights, or expired), for its new
        record."""
        expired = self.stage_dir(stage_id) / EXPIRED
        if not self.is_done(stage_id) and not expired.is_file():
            return None
        try:
            record = self.read_record(stage_id)
        except (OSError, ValueError):
            return None
        return {
            "git_commit": (record.get("provenance") or {}).get("git_commit"),
            "best_dev": (record.get("convergence") or {}).get("best_dev"),
            "predictions_sha256": (record.get("files") or {}).get("predictions.json"),
            "why": (
                expired.read_text().strip()
                if expired.is_file()
                else "its weights were not kept and a later stage needs them"
            ),
        }

    def provenance(self, stage_id: str) -> dict[str, Any] | None:
        """What a finished stage was built with; None for stages built before xlt recorded it."""
        recorded: dict[str, Any] | None = self.read_record(stage_id).get("provenance")
        return recorded

    def outcome(self, stage_id: str, key: str) -> dict[str, Any] | None:
        """What a finished stage's steps recorded under `key`; None if nothing (or built before it was)."""
        recorded: dict[str, Any] | None = self.read_record(stage_id).get(key)
        return recorded

    def clear_failure(self, stage_id: str) -> None:
        path = self.failed_dir / f"{stage_id}.json"
        if path.exists():
            path.unlink()

    def status(self, stage_ids: list[str]) -> list[StageStatus]:
        out = []
        for stage_id in stage_ids:
            if self.finished(stage_id) and (damage := self.damage(stage_id)) is not None:
                out.append(StageStatus(stage_id, "pending", f"damaged ({damage}): the next run rebuilds it"))
            elif self.finished(stage_id) and self.missing_weights(stage_id):
                out.append(StageStatus(stage_id, "done", WEIGHTS_NOT_KEPT))
            elif self.finished(stage_id):
                out.append(StageStatus(stage_id, "done"))
            elif (failure := self.failure(stage_id)) is not None:
                out.append(StageStatus(stage_id, "failed", str(failure.get("error", ""))))
            elif self.scratch_dir(stage_id).exists():
                out.append(StageStatus(stage_id, "running", _build_detail(self.scratch_dir(stage_id))))
            else:
                out.append(StageStatus(stage_id, "pending"))
        return out

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Only one process works on a study directory at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ConfigError(
                    f"study directory {self.root} is in use by another xlt process",
                    "wait for it to finish, or stop it (it resumes where it stopped)",
                ) from exc
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_orphans(self, keep: set[str]) -> None:
        """Drop scratch directories of interrupted stages that the current plan does not contain."""
        if not self.stages_dir.is_dir():
            return
        for path in self.stages_dir.glob(".*.partial"):
            if path.name[1 : -len(".partial")] not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.stages_dir.glob(".*.adopting"):  # a copy cut short (`adopt`): never a stage
            shutil.rmtree(path, ignore_errors=True)
