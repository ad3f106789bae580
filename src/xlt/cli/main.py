"""`xlt`: run transfer studies and inspect encoders, tasks and results.

The commands live with their concern (`catalogue`, `study`, `analysis`); importing them registers them on
the one Typer app of `xlt.cli.app`. This module is the console script's entry point, and the one place
where an error becomes what the user sees: a line on stderr, never a traceback unless `--debug`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

import click
import typer
from rich.text import Text

# importing a command module registers its commands, in this order in `xlt --help`
# isort: off
from xlt.cli import catalogue, study, analysis  # noqa: F401

# isort: on
from xlt.cli.app import app, err_console, options
from xlt.core.errors import XltError

__all__ = ["app", "main"]

# Typer 0.2x ships its own copy of click: its usage errors and aborts are not click's classes
CLICK_ERRORS: tuple[type[Exception], ...] = tuple(
    {click.ClickException, *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")}
)
ABORTS: tuple[type[BaseException], ...] = tuple({click.exceptions.Abort, typer.Abort})

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT
INTERRUPT_MESSAGE = "interrupted: finished stages are kept; run the same command again to resume"
# after Ctrl-C the run unwinds (a stage being built keeps its scratch directory) and exits; if it has not
# exited this many seconds later (a library stuck at exit, e.g. a thread left waiting by an interrupted
# import, seen once in a dozen interrupted runs), it is ended with the same message and code
INTERRUPT_GRACE_SECONDS = 15.0


def _error(message: str) -> None:
    # a Text is never parsed as markup: '[neutral]' in a message stays as written
    err_console.print(Text.assemble(("error:", "red"), " ", message), highlight=False, soft_wrap=True)


def _interrupted() -> None:
    err_console.print(INTERRUPT_MESSAGE)
    sys.exit(INTERRUPTED)


def _force_exit() -> None:
    err_console.print(INTERRUPT_MESSAGE)
    sys.stderr.flush()
    os._exit(INTERRUPTED)


def _in_finalizer(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _later(seconds: float, action: Callable[[], object]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: raise KeyboardInterrupt as Python does, and make sure the process ends soon after."""
    _later(INTERRUPT_GRACE_SECONDS, _force_exit)
    if _in_finalizer(frame):
        # the signal arrived while the garbage collector ran a library's __del__: Python prints an exception
        # raised there as "Exception ignored" and goes on, so the run would only end by the watchdog, with a
        # traceback on the terminal; the signal is delivered again once the finalizer has returned
        _later(0.01, lambda: os.kill(os.getpid(), signal.SIGINT))
        return
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2; Ctrl-C one line and 130.

    Typer's standalone mode would turn Ctrl-C into a silent exit 130 before any handler of ours runs, so the
    app runs in non-standalone mode and this function does what standalone mode did for usage errors."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        _main()
    finally:  # main() may run inside another program (tests): its handler is given back
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous)


def _main() -> None:
    try:
        code = app(standalone_mode=False)
    except XltError as exc:
        if options.debug:
            raise
        _error(exc.one_line())
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except ABORTS:
        _interrupted()
    except CLICK_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    except OSError as exc:
        # a full disk or an unwritable directory, met while writing: nothing half-written is kept
        if options.debug:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        _error(
            f"{exc.strerror or type(exc).__name__}{where}; free space or make the directory writable "
            "(--output chooses another), then run the same command again"
        )
        sys.exit(2)
    except Exception as exc:
        # not a user's error but xlt's: still one line, with the way to the traceback
        if options.debug:
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc}; this is a bug in xlt: run the same command with "
            "--debug (xlt --debug ...) for the traceback and report it"
        )
        sys.exit(1)
    if code == INTERRUPTED:  # Typer's translation of a KeyboardInterrupt raised inside a command
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
