"""One error type for every problem a user can fix; the CLI prints it as one line and exits non-zero."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class XltError(Exception):
    """A user-facing error: what is wrong and what to do about it."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.problem}; {self.fix}" if self.fix else self.problem


class DataError(XltError):
    """A data file is missing or malformed."""


class ConfigError(XltError):
    """A study, task or command-line setting is invalid."""


class TrainingDiverged(XltError):
    """The loss became NaN or infinite."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
