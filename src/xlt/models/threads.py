"""How many threads torch uses, chosen again while a stage runs, so that a busy neighbour costs little.

torch's intra-op threads meet at a barrier after every parallel region (thousands per training step). When
another CPU-bound process shares a core with one of them, each region waits until the scheduler gives that
thread its core back, a few milliseconds at a time: on a 2-core machine one single-threaded neighbour made a
2-thread stage 12.7x slower. With one thread fewer than the busy cores leave free, the stage runs at the
speed of the cores it really has.

`ThreadGovernor.tick()` is called where work is done (every encoder forward). At most once per `interval`
seconds it reads how much CPU the other processes used since the last look (Linux: `/proc/stat` minus this
process's own time from `/proc/self/stat`) and sets

    threads = clamp(cores - round(others), 1, cap)

where `cores` are the CPUs this process may run on and `cap` the threads torch had at start (its default,
or `OMP_NUM_THREADS`). On a quiet machine `others` is about 0 and the stage keeps every thread.

`XLT_THREADS=N` (the CLI's `--threads N`) fixes the count to N and turns the governor off; so does a
platform without `/proc` (threads stay as torch set them).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from xlt.core.errors import ConfigError

log = logging.getLogger("xlt")

THREADS_ENV = "XLT_THREADS"
INTERVAL_SECONDS = 1.0
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user, nice, system, irq, softirq, steal of the `cpu` line


def choose_threads(cores: int, others: float, cap: int) -> int:
    """Threads for a machine with `cores` CPUs of which other processes keep `others` busy (in cores)."""
    return max(1, min(cap, cores - round(others)))


def _cpu_ticks(stat: Path = Path("/proc/stat")) -> float:
    """Busy clock ticks of all CPUs since boot."""
    fields = stat.read_text().split("\n", 1)[0].split()[1:]
    return float(sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields)))


def _own_ticks(stat: Path = Path("/proc/self/stat")) -> float:
    """Clock ticks this process (every thread) has run, user and system."""
    after_name = stat.read_text().rsplit(")", 1)[1].split()
    return float(int(after_name[11]) + int(after_name[12]))  # fields 14 and 15: utime, stime


def fixed_threads() -> int | None:
    """The thread count `XLT_THREADS` fixes, or None."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(
            f"{THREADS_ENV}={value!r} is not a positive number of threads",
            f"set {THREADS_ENV} to a whole number such as 2, or unset it to let xlt choose",
        )
    return int(value)


@dataclass
class ThreadGovernor:
    interval: float = INTERVAL_SECONDS
    cores: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    cap: int = field(default_factory=torch.get_num_threads)
    enabled: bool = True
    _last: tuple[float, float, float] | None = None  # (wall, busy ticks, own ticks) at the last look
    _ticks_per_second: float = field(default_factory=lambda: float(os.sysconf("SC_CLK_TCK")))
    changes: int = 0

    def __post_init__(self) -> None:
        fixed = fixed_threads()
        if fixed is not None:
            torch.set_num_threads(fixed)
            self.enabled = False
        elif self.cap <= 1 or not Path("/proc/stat").is_file():
            self.enabled = False

    def tick(self) -> None:
        fixed = fixed_threads()  # set after the governor started (a test, a notebook): it wins from now on
        if fixed is not None:
            if torch.get_num_threads() != fixed:
                torch.set_num_threads(fixed)
            return
        if not self.enabled:
            return
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self.interval:
            return
        try:
            busy, own = _cpu_ticks(), _own_ticks()
        except (OSError, ValueError, IndexError):
            self.enabled = False
            return
        if self._last is not None:
            wall_ticks = (now - self._last[0]) * self._ticks_per_second
            others = max(0.0, (busy - self._last[1]) - (own - self._last[2])) / wall_ticks
            self.set(choose_threads(self.cores, others, self.cap), others)
        self._last = (now, busy, own)

    def set(self, threads: int, others: float) -> None:
        if threads != torch.get_num_threads():
            log.info(
                "threads %d -> %d: other processes keep %.1f of %d cores busy",
                torch.get_num_threads(),
                threads,
                others,
                self.cores,
            )
            torch.set_num_threads(threads)
            self.changes += 1


_governor: ThreadGovernor | None = None


def governor() -> ThreadGovernor:
    """The process's governor, created (and `XLT_THREADS` applied) on first use."""
    global _governor
    if _governor is None:
        _governor = ThreadGovernor()
    return _governor


def tick() -> None:
    """Let the governor look at the machine, at most once per interval (cheap otherwise)."""
    governor().tick()
