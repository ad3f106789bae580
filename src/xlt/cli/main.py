"""`xlt`: run transfer studies and inspect encoders, tasks and results.

The commands live with their concern (`catalogue`, `study`, `analysis`); importing them registers them on
the one Typer app of `xlt.cli.app`. This module is the console script's entry point.
"""

from __future__ import annotations

import os
import sys

# importing a command module registers its commands, in this order in `xlt --help`
# isort: off
from xlt.cli import catalogue, study, analysis  # noqa: F401

# isort: on
from xlt.cli.app import app, err_console
from xlt.core.errors import XltError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except XltError as exc:
        err_console.print(f"[red]error:[/red] {exc.one_line()}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted: finished stages are kept; run the same command again to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
