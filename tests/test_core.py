from __future__ import annotations

from pathlib import Path

import pytest

from xlt.core.errors import XltError, did_you_mean
from xlt.core.hashing import config_hash
from xlt.core.io import atomic_directory, atomic_write_json, atomic_write_text


def test_atomic_write_leaves_old_content_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "stage") as scratch:
        (scratch / "half.txt").write_text("half")
        raise RuntimeError("killed")
    assert not (tmp_path / "stage").exists()
    assert not list(tmp_path.glob(".stage*"))
    assert target.read_text().strip() == '{\n  "a": 1\n}'


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_atomic_directory_cleans_leftover_partial(tmp_path: Path) -> None:
    leftover = tmp_path / ".stage.partial"
    leftover.mkdir()
    (leftover / "stale").write_text("from a killed run")
    with atomic_directory(tmp_path / "stage") as scratch:
        assert not (scratch / "stale").exists()
        (scratch / "done").write_text("ok")
    assert (tmp_path / "stage" / "done").read_text() == "ok"


def test_atomic_directory_leaves_a_live_process_alone_and_keeps_a_valid_cache(tmp_path: Path) -> None:
    """Two studies preparing the same cached encoder at once: neither deletes the other's scratch, and the
    one finishing second keeps the first one's valid copy instead of replacing it under its readers."""
    import os
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    live = tmp_path / f".cache.{os.getppid()}.partial"
    gone = tmp_path / f".cache.{int(dead.stdout)}.partial"
    other = tmp_path / ".cache.v2.partial"  # the scratch of a directory named "cache.v2"
    for path in (live, gone, other):
        path.mkdir()
    with atomic_directory(tmp_path / "cache", keep_existing=lambda d: (d / "ok").exists()) as scratch:
        (scratch / "ok").write_text("first")
    assert live.exists() and other.exists() and not gone.exists()
    with atomic_directory(tmp_path / "cache", keep_existing=lambda d: (d / "ok").exists()) as scratch:
        (scratch / "ok").write_text("second")
    assert (tmp_path / "cache" / "ok").read_text() == "first"
    with atomic_directory(tmp_path / "cache") as scratch:
        (scratch / "ok").write_text("third")
    assert (tmp_path / "cache" / "ok").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cache", live.name, other.name])


def test_config_hash_ignores_key_order_but_not_values() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_errors_are_one_line_with_fix() -> None:
    error = XltError("file x is missing", "set --data-dir")
    assert str(error) == "file x is missing; set --data-dir"
    assert did_you_mean("semrell", ["semrel", "stsb"]) == " (did you mean 'semrel'?)"
    assert did_you_mean("zzz", ["semrel"]) == ""
