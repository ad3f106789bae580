"""This machine's matrix-multiplication peak, the yardstick for the "% peak" columns."""

from __future__ import annotations

import statistics
import time

import torch


def matmul_gflops(dtype: torch.dtype, size: int, repeats: int) -> float:
    """Median GFLOP/s of torch.mm on size x size matrices (2 n^3 FLOPs per product)."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    out = torch.empty(size, size, dtype=dtype)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9
