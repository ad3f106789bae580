"""Atomic writes and content hashes: an interrupted process never leaves a half-written file behind."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    return digest


@functools.lru_cache(maxsize=1)
def _hash_cache() -> dict[str, list[Any]]:
    """The persisted hashes, saved once when the process exits (not per file: a first check of the whole
    mirror hashes hundreds of files)."""
    location = cache_dir() / HASH_CACHE
    try:
        loaded = json.loads(location.read_text())
    except (OSError, ValueError):
        loaded = {}
    cache: dict[str, list[Any]] = loaded if isinstance(loaded, dict) else {}
    atexit.register(_save_hashes, location, cache)
    return cache


def _save_hashes(location: Path, cache: dict[str, list[Any]]) -> None:
    with contextlib.suppress(OSError):
        atomic_write_json(location, cache)


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_directory(final: Path, keep_existing: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place when the block succeeds.

    The temporary name carries the process id, so two processes building the same directory at once (two
    studies preparing the same cached encoder) never share or delete each other's scratch. Leftovers of
    processes that are gone (an interrupted run) are removed first, so a restarted build begins from a
    clean slate. `keep_existing`, for caches whose content does not depend on who built them: when the
    block ends and `final` exists and passes this check (another process finished first), the new build
    is discarded instead of replacing it under that process's readers.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.*partial"):
        owner = stale.name[len(final.name) + 2 : -len(".partial")].rstrip(".")
        if owner == "" or (owner.isdigit() and not _pid_alive(int(owner))):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f".{final.name}.{os.getpid()}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if final.exists() and keep_existing is not None and keep_existing(final):
            return
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# in a directory changed by `commit_files`: the renames of a committed change not yet all done
COMMIT_JOURNAL = ".commit.json"


def commit_files(
    root: Path, writes: Mapping[str, Callable[[Path], None]], moves: Sequence[tuple[str, str]] = ()
) -> None:
    """Change several files of `root` as one step: after a kill or a full disk, either all of them have
    changed or none has.

    Each writer fills a staged file beside its target; only when every one is written and synced does one
    journal (written atomically: the commit point) list the renames, `moves` of existing files first and
    then each staged file onto its target. A failure before the journal exists discards the staged files;
    after it, `recover_files` finishes the renames (each is skipped once its source is gone, so redoing one
    is harmless)."""
    recover_files(root)
    staged: dict[str, Path] = {name: root / f".{name}.new" for name in writes}
    try:
        for name, write in writes.items():
            write(staged[name])
            with open(staged[name], "rb") as handle:
                os.fsync(handle.fileno())
        renames = [*moves, *((staged[name].name, name) for name in writes)]
        atomic_write_json(root / COMMIT_JOURNAL, {"renames": renames})
    except BaseException:
        for path in staged.values():
            path.unlink(missing_ok=True)
        raise
    recover_files(root)


def recover_files(root: Path) -> None:
    """Finish the renames of a committed `commit_files` and drop the staged files of an uncommitted one."""
    journal = root / COMMIT_JOURNAL
    if journal.is_file():
        renames: list[list[str]] = json.loads(journal.read_text())["renames"]
        while renames:
            source, target = renames[0]
            if (root / source).exists():
                os.replace(root / source, root / target)
            renames = renames[1:]
            # the journal shrinks after each rename, so a rename redone after a kill finds no source
            atomic_write_json(journal, {"renames": renames})
        journal.unlink()
    for leftover in root.glob(".*.new"):
        leftover.unlink()
