"""Numeric precision on CPU: bf16 autocast pays where the CPU has AMX or AVX512-BF16 (see benchmarks/)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

import torch

Precision = Literal["auto", "fp32", "bf16"]


@lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: Precision) -> Literal["fp32", "bf16"]:
    if precision == "auto":
        if torch.cuda.is_available():
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return precision


@contextlib.contextmanager
def autocast(precision: Literal["fp32", "bf16"], device: torch.device) -> Iterator[None]:
    if precision == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield
