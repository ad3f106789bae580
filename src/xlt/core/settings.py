"""Where xlt finds its data and keeps its caches. Every location can be set by an environment variable."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

from xlt.core.errors import ConfigError

DATA_DIR_ENV = "XLT_DATA_DIR"
CACHE_DIR_ENV = "XLT_CACHE_DIR"


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """The benchmark data directory: the explicit argument, else $XLT_DATA_DIR."""
    raw = explicit if explicit is not None else os.environ.get(DATA_DIR_ENV)
    if not raw:
        raise ConfigError(
            "no data directory is set",
            f"pass --data-dir DIR or set {DATA_DIR_ENV} (in this workplace: ../shared/data)",
        )
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"data directory {path} does not exist",
            f"pass --data-dir or set {DATA_DIR_ENV} to the folder that holds the benchmark files",
        )
    return path


def cache_dir() -> Path:
    """xlt's cache: $XLT_CACHE_DIR, else $XDG_CACHE_HOME/xlt, else ~/.cache/xlt."""
    raw = os.environ.get(CACHE_DIR_ENV)
    if raw:
        return Path(raw).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "xlt").resolve()


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the xlt source tree, or 'unknown' when it is not a git checkout."""
    source = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("XLT_GIT_COMMIT", "unknown")
    commit = out.stdout.strip()
    try:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return f"{commit}-dirty" if dirty else commit
