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


def layer_gflops(dtype: torch.dtype, tokens: int, hidden: int, ffn: int, repeats: int) -> float:
    """GFLOP/s of the matrix products one transformer layer of this width trains with, on a batch of
    `tokens` tokens: each linear map's forward (X W), input gradient (dY W^T) and weight gradient (X^T dY),
    for the query, key, value and output maps (hidden x hidden) and the feed-forward pair (hidden x ffn).
    Small matrices run far below the square-matrix peak; this is the ceiling at the model's own shapes."""
    maps = [(hidden, hidden)] * 4 + [(hidden, ffn), (ffn, hidden)]
    products = []
    for d_in, d_out in maps:
        products += [(tokens, d_in, d_out), (tokens, d_out, d_in), (d_in, tokens, d_out)]
    operands = [(torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)) for m, k, n in products]
    flops = sum(2 * m * k * n for m, k, n in products)

    def once() -> None:
        for a, b in operands:
            torch.mm(a, b)

    for _ in range(3):
        once()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return flops / statistics.median(times) / 1e9
