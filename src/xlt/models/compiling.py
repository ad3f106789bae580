"""Optional `torch.compile` of the transformer's forward passes: `xlt --compile` or `XLT_COMPILE=1`.

Off by default. Compiling costs 25-90 s once per process and kind of pass (training with gradients,
inference in bf16, ...; torch keeps compiled kernels on disk, so a later process compiles faster) and then
makes passes faster: on a 2-core machine embedding was 1.18x eager at two idle threads and 1.13x at one
thread beside another job; training (with the unpadded forward it brings, `models.unpadded`) 3552 tokens/s
against 3189 eager at two idle threads, and a step about 8% faster at one thread (README, "Compiled
forward passes" and "Skipping the padding"). That pays in a study of many stages, not in a quick run.

One compiled function takes the module as an argument (`dynamic=True`: batch and sequence lengths vary
without recompiling), so instances of the same architecture share the compiled code and a study compiles
each kind of pass once. The generated kernels read the thread count when they run
(`cpp.dynamic_threads`), so the thread governor (`xlt.models.threads`) still steers them. Compiling needs a
C++ compiler (torch's inductor).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import torch
from torch import nn

from xlt.core.errors import ConfigError

COMPILE_ENV = "XLT_COMPILE"
_ON = {"1", "true", "yes", "on"}
_OFF = {"", "0", "false", "no", "off"}
T = TypeVar("T")


def enabled() -> bool:
    """Whether `XLT_COMPILE` asks for compiled forward passes."""
    value = os.environ.get(COMPILE_ENV, "").strip().lower()
    if value in _ON:
        _check_compiler()
        return True
    if value in _OFF:
        return False
    raise ConfigError(
        f"{COMPILE_ENV}={value!r} is neither on nor off",
        f"set {COMPILE_ENV}=1 to compile the encoder's forward passes, or unset it",
    )


@lru_cache(maxsize=1)
def _check_compiler() -> None:
    compiler = os.environ.get("CXX") or next(
        (name for name in ("g++", "clang++") if shutil.which(name)), None
    )
    if compiler is None or shutil.which(compiler) is None:
        raise ConfigError(
            "--compile needs a C++ compiler for torch's inductor, and none was found (g++, clang++ or $CXX)",
            "install one (e.g. `apt install g++`) or run without --compile / XLT_COMPILE",
        )


def forward(function: Callable[..., T], module: nn.Module, *inputs: torch.Tensor) -> T:
    """`function(module, *inputs)`, through the compiled call when `XLT_COMPILE` is on."""
    if not enabled():
        return function(module, *inputs)
    result: T = _compiled_call()(function, module, *inputs)
    return result


def _call(function: Callable[..., Any], module: nn.Module, *inputs: torch.Tensor) -> Any:
    return function(module, *inputs)


@lru_cache(maxsize=1)
def _compiled_call() -> Callable[..., Any]:
    """One compiled function taking the forward function and the module as arguments: no reference to
    any module is kept, and every instance of an architecture shares the compiled code (torch recompiles
    only for a new kind of pass: gradients or not, another dtype, another forward function)."""
    import torch._dynamo.config as dynamo_config
    import torch._inductor.config as inductor_config

    inductor_config.cpp.dynamic_threads = True
    # passes of a study: training, fp32 and bf16 inference, each kind of task's inputs
    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, 32)
    return torch.compile(_call, dynamic=True)
