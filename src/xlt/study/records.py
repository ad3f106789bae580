"""The study's own record in its directory: the resolved config that produced its results."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from xlt.core.errors import ConfigError
from xlt.core.io import atomic_write_json, commit_files, recover_files
from xlt.study.config import StudyConfig

STUDY_RECORD = "study.json"
# every file `write_results` derives from the stages, kept under a new name when the config changes
DERIVED_FILES = (
    "results.csv", "results.json", "gains.csv", "robustness.csv", "robust_gains.csv", "alignment_gains.csv",
    "sts_contrasts.csv",
)  # fmt: skip


def study_record(config: StudyConfig) -> dict[str, Any]:
    """The content of study.json."""
    return {"config_hash": config.hash(), "config": config.resolved()}


def write_study_record(path: Path, config: StudyConfig) -> None:
    atomic_write_json(path, study_record(config))


def record_study(root: Path, config: StudyConfig, console: Console) -> None:
    """Write study.json. If the directory held another config, its result files are kept under a new name,
    in the same step as study.json changes (a full disk never leaves the old results renamed away and no
    new record): results always belong to the config study.json names."""
    recover_files(root)
    path = root / STUDY_RECORD
    new_hash = config.hash()
    moves: list[tuple[str, str]] = []
    if path.is_file():
        old_hash = json.loads(path.read_text()).get("config_hash")
        if old_hash != new_hash:
            for name in DERIVED_FILES:
                existing = root / name
                if existing.exists():
                    moves.append((name, f"{existing.stem}.{old_hash}{existing.suffix}"))
    commit_files(root, {STUDY_RECORD: functools.partial(write_study_record, config=config)}, moves)
    for name, kept in moves:
        console.print(f"config changed: previous {name} kept as {kept}", markup=False)


def read_study(root: Path) -> StudyConfig:
    path = root / STUDY_RECORD
    if not path.is_file():
        raise ConfigError(
            f"{root} is not a study directory (no {STUDY_RECORD})",
            "give the directory `xlt run` printed at the end",
        )
    return StudyConfig.model_validate(json.loads(path.read_text())["config"])
