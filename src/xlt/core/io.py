"""Atomic writes and content hashes: an interrupted process never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlt.core.settings import cache_dir


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


HASH_CACHE = "file-hashes.json"


def cached_sha256_file(path: Path) -> str:
    """`sha256_file`, hashed again only when the file's size or mtime changes.

    The hashes persist in the user cache across processes (a lost or unwritable cache only costs a hash),
    so that verifying every file a study reads, and every stage it reuses, costs a stat per file."""
    stat = path.stat()
    key = str(path.resolve())
    cache = _hash_cache()
    known = cache.get(key)
    if known is not None and known[:2] == [stat.st_size, stat.st_mtime_ns]:
        return str(known[2])
    digest = sha256_file(path)
    cache[key] = [stat.st_size, stat.st_mtime_ns, digest]
    with contextlib.suppress(OSError):
        atomic_write_json(cache_dir() / HASH_CACHE, cache)
    return digest


@functools.lru_cache(maxsize=1)
def _hash_cache() -> dict[str, list[Any]]:
    try:
        loaded = json.loads((cache_dir() / HASH_CACHE).read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it is renamed onto `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place when the block succeeds.

    A leftover temporary directory from an interrupted run is removed first, so a restarted stage
    begins from a clean slate.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
