"""Content-addressed stage directories inside a study directory.

A stage directory appears only when its stage has finished (it is built under a temporary name and
renamed), so its presence is the completion marker. A failed stage leaves a record under `failed/`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from xlt.core.errors import ConfigError, XltError
from xlt.core.io import atomic_directory, atomic_write_json

StageState = Literal["done", "failed", "pending", "running"]
STAGE_RECORD = "stage.json"


@dataclass(frozen=True)
class StageStatus:
    stage_id: str
    state: StageState
    detail: str = ""


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.stages_dir = root / "stages"
        self.failed_dir = root / "failed"
        self.logs_dir = root / "logs"

    def stage_dir(self, stage_id: str) -> Path:
        return self.stages_dir / stage_id

    def is_done(self, stage_id: str) -> bool:
        return (self.stage_dir(stage_id) / STAGE_RECORD).is_file()

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
        record: dict[str, Any] = json.loads((self.stage_dir(stage_id) / STAGE_RECORD).read_text())
        return record

    @contextlib.contextmanager
    def building(self, stage_id: str, spec: dict[str, Any]) -> Iterator[Path]:
        """Yield a scratch directory for a stage; on success it becomes the stage's directory.

        On failure the scratch directory is removed and the error is recorded under failed/.
        """
        if self.is_done(stage_id):
            raise RuntimeError(f"stage {stage_id} is already finished; refusing to overwrite it")
        failed = self.failed_dir / f"{stage_id}.json"
        try:
            with atomic_directory(self.stage_dir(stage_id)) as tmp:
                yield tmp
                atomic_write_json(tmp / STAGE_RECORD, spec)
        except BaseException as exc:
            if not isinstance(exc, KeyboardInterrupt):
                message = exc.one_line() if isinstance(exc, XltError) else f"{type(exc).__name__}: {exc}"
                atomic_write_json(
                    failed, {"stage_id": stage_id, "error": message, "traceback": traceback.format_exc()}
                )
            raise
        if failed.exists():
            failed.unlink()

    def clear_failure(self, stage_id: str) -> None:
        path = self.failed_dir / f"{stage_id}.json"
        if path.exists():
            path.unlink()

    def status(self, stage_ids: list[str]) -> list[StageStatus]:
        out = []
        for stage_id in stage_ids:
            if self.is_done(stage_id):
                out.append(StageStatus(stage_id, "done"))
            elif (failure := self.failure(stage_id)) is not None:
                out.append(StageStatus(stage_id, "failed", str(failure.get("error", ""))))
            elif (self.stages_dir / f".{stage_id}.partial").exists():
                out.append(StageStatus(stage_id, "running", "in progress, or interrupted (restarts cleanly)"))
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
