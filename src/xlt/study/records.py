"""The study's own record in its directory: the resolved config that produced its results."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from xlt.core.errors import ConfigError
from xlt.core.io import atomic_write_json
from xlt.study.config import StudyConfig

STUDY_RECORD = "study.json"
DERIVED_FILES = ("results.csv", "results.json", "gains.csv")


def record_study(root: Path, config: StudyConfig, console: Console) -> None:
    """Write study.json. If the directory held another config, its result files are kept under a new name."""
    path = root / STUDY_RECORD
    new_hash = config.hash()
    if path.is_file():
        old_hash = json.loads(path.read_text()).get("config_hash")
        if old_hash != new_hash:
            for name in DERIVED_FILES:
                existing = root / name
                if existing.exists():
                    kept = root / f"{existing.stem}.{old_hash}{existing.suffix}"
                    existing.replace(kept)
                    console.print(f"config changed: previous {name} kept as {kept.name}", markup=False)
    atomic_write_json(path, {"config_hash": new_hash, "config": config.resolved()})


def read_study(root: Path) -> StudyConfig:
    path = root / STUDY_RECORD
    if not path.is_file():
        raise ConfigError(
            f"{root} is not a study directory (no {STUDY_RECORD})",
            "give the directory `xlt run` printed at the end",
        )
    return StudyConfig.model_validate(json.loads(path.read_text())["config"])
