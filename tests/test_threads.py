"""The thread governor: how many torch threads a stage uses while other processes share the machine."""

from __future__ import annotations

import time

import pytest
import torch

from xlt.core.errors import ConfigError
from xlt.models import threads
from xlt.models.threads import ThreadGovernor, choose_threads


@pytest.fixture(autouse=True)
def _restore_threads(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    yield
    torch.set_num_threads(before)


def test_choice_leaves_the_cores_others_keep_busy() -> None:
    assert choose_threads(cores=2, others=0.05, cap=2) == 2  # quiet: every core
    assert choose_threads(cores=2, others=0.4, cap=2) == 2  # a light background blip
    assert choose_threads(cores=2, others=1.0, cap=2) == 1  # one busy neighbour
    assert choose_threads(cores=2, others=2.0, cap=2) == 1  # never fewer than one
    assert choose_threads(cores=8, others=3.2, cap=6) == 5
    assert choose_threads(cores=8, others=0.0, cap=6) == 6  # never more than the cap


def test_governor_follows_a_neighbour_that_comes_and_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 0.0, "busy": 0.0, "own": 0.0}
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(threads, "_cpu_ticks", lambda: clock["busy"])
    monkeypatch.setattr(threads, "_own_ticks", lambda: clock["own"])
    governor = ThreadGovernor(interval=1.0, cores=2, cap=2)
    governor._ticks_per_second = 100.0
    torch.set_num_threads(2)

    def second(own: float, others: float) -> None:  # one second in which we and others use these cores
        clock["now"] += 1.0
        clock["own"] += own * 100
        clock["busy"] += (own + others) * 100
        governor.tick()

    governor.tick()  # the first look only records
    second(own=1.9, others=0.05)
    assert torch.get_num_threads() == 2
    second(own=1.1, others=0.9)  # a neighbour starts
    assert torch.get_num_threads() == 1
    clock["now"] += 0.5
    clock["busy"] += 200
    governor.tick()  # within the interval nothing is read or changed
    assert torch.get_num_threads() == 1
    clock["now"] -= 0.5
    clock["busy"] -= 200
    second(own=1.0, others=1.0)
    assert torch.get_num_threads() == 1
    second(own=1.0, others=0.02)  # it has gone
    assert torch.get_num_threads() == 2 and governor.changes == 2


def test_xlt_threads_fixes_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(threads.THREADS_ENV, "1")
    governor = ThreadGovernor(cores=2, cap=2)
    assert not governor.enabled and torch.get_num_threads() == 1
    monkeypatch.setenv(threads.THREADS_ENV, "two")
    with pytest.raises(ConfigError, match="XLT_THREADS='two' is not a positive number"):
        ThreadGovernor(cores=2, cap=2)


def test_proc_readings_move_with_work() -> None:
    busy, own = threads._cpu_ticks(), threads._own_ticks()
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        pass
    assert threads._own_ticks() > own and threads._cpu_ticks() > busy
