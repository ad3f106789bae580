#!/usr/bin/env bash
# Lint, type-check, check the import contract (pyproject.toml, [tool.importlinter]) and test. Needs
# `bash scripts/setup.sh --dev` first and the benchmark mirror beside the repository (../shared/data) or at
# $XLT_DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export XLT_DATA_DIR="${XLT_DATA_DIR:-$(cd .. && pwd)/shared/data}"
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q "$@"
