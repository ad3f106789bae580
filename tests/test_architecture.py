"""The import contract of pyproject.toml ([tool.importlinter]): it holds for the package, and it fails on an
upward import or a cycle (so the check in scripts/test.sh can fail)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is a dev dependency")


def _lint(source_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=source_root,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(REPO / "src" / "xlt", root / "xlt", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_package_keeps_its_import_contract() -> None:
    result = _lint(REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    root = _copy_package(tmp_path)
    metrics = root / "xlt" / "metrics" / "registry.py"
    metrics.write_text(metrics.read_text() + "\nfrom xlt.study import plan  # noqa\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "xlt.metrics is not allowed to import xlt.study" in result.stdout


def test_an_import_cycle_between_modules_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_package(tmp_path)
    # registry already imports spec; spec importing registry closes a cycle inside xlt.tasks
    spec = root / "xlt" / "tasks" / "spec.py"
    spec.write_text(spec.read_text() + "\nfrom xlt.tasks import registry  # noqa\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "No cycles are allowed in xlt.tasks" in result.stdout
