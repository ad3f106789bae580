"""Split protocols: how one file yields several splits (`split: aligned` in a task file).

A protocol takes the rows a reader read from one file, in file order, and keeps those of the split asked
for. Cutting by position keeps the cut reproducible from the pinned file alone, with no seed to record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xlt.core.errors import did_you_mean
from xlt.data.readers.xtreme_pairs import split_aligned
from xlt.tasks.spec import Split

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class SplitProtocol:
    """`cut(rows, split, parameters)`; `splits` are the splits it can give, `parameters` its defaults."""

    cut: Callable[[Rows, Split, Mapping[str, Any]], Rows]
    splits: tuple[Split, ...]
    parameters: Mapping[str, int]

    def problems(self, name: str, given: Mapping[str, Any]) -> list[str]:
        found = []
        for parameter, value in given.items():
            if parameter not in self.parameters:
                takes = ", ".join(self.parameters) or "no parameters"
                hint = did_you_mean(parameter, self.parameters)
                found.append(f"split '{name}' has no parameter '{parameter}'{hint} (it takes: {takes})")
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 100:
                found.append(f"split '{name}': {parameter} is a whole percentage in 1..99, not {value!r}")
        return found

    def __call__(self, rows: Rows, split: Split, given: Mapping[str, Any]) -> Rows:
        return self.cut(rows, split, {**self.parameters, **given})


def _aligned(rows: Rows, split: Split, parameters: Mapping[str, Any]) -> Rows:
    """PROTOCOLS' aligned split of a line-aligned translated file: items [0, 60%) train, [60%, 70%) dev,
    [70%, 100%) test, the same items in every language."""
    return split_aligned(rows)[split]


def _held_out(rows: Rows, split: Split, parameters: Mapping[str, Any]) -> Rows:
    """The last `dev_percent`% of the items as dev and the rest as train, e.g. where a mirror's own dev
    copy is unusable (TyDiQA-GoldP English, whose dev answers are blanked)."""
    cut = len(rows) * (100 - parameters["dev_percent"]) // 100
    return rows[:cut] if split == "train" else rows[cut:]


SPLITS: Mapping[str, SplitProtocol] = {
    "aligned": SplitProtocol(_aligned, ("train", "dev", "test"), {}),
    "held-out": SplitProtocol(_held_out, ("train", "dev"), {"dev_percent": 10}),
}


def split_problem(name: str) -> str | None:
    """None for a known split protocol, else the one-line problem with a did-you-mean."""
    if name in SPLITS:
        return None
    return f"unknown split '{name}'{did_you_mean(name, SPLITS)} (splits: {', '.join(SPLITS)})"
