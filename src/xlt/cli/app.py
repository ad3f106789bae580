"""What every `xlt` command shares: the Typer app, its consoles and common options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from xlt import __version__

app = typer.Typer(
    help="Zero-shot cross-lingual transfer studies.", no_args_is_help=True, add_completion=False
)
encoders_app = typer.Typer(help="Built-in encoders: list them, or prepare one's local weights.")
app.add_typer(encoders_app, name="encoders")
data_app = typer.Typer(
    help="Benchmark data: list the pinned upstream sources, or fetch the files from them.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")
console = Console()
if not console.is_terminal:  # piped or captured output: do not squeeze tables into 80 columns
    console = Console(width=160)
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="benchmark data directory (default: $XLT_DATA_DIR)")
]


@dataclass
class Options:
    """Options of the root command that change how every command reports."""

    debug: bool = False


options = Options()


def _print_version(value: bool) -> None:
    if value:
        console.print(f"xlt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="print the version", callback=_print_version, is_eager=True)
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show the traceback of an error instead of its one line")
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help="torch threads, fixed (default: all cores, fewer while other processes keep some busy; "
            "also $XLT_THREADS)",
        ),
    ] = None,
    compile_: Annotated[
        bool,
        typer.Option(
            "--compile",
            help="torch.compile the encoder's forward passes: 25-90 s once, then about 1.15x faster "
            "embedding and evaluation, about 1.1x faster training (with the unpadded BERT forward); pays in "
            "long studies (also $XLT_COMPILE=1)",
        ),
    ] = False,
) -> None:
    """Zero-shot cross-lingual transfer studies."""
    options.debug = debug
    if threads is not None:
        os.environ["XLT_THREADS"] = str(threads)  # read by xlt.models.threads when torch first runs
    if compile_:
        os.environ["XLT_COMPILE"] = "1"  # read by xlt.models.compiling at every forward pass
    if os.environ.get("XLT_COMPILE", "").strip():
        from xlt.models import compiling

        compiling.enabled()  # a bad value or no C++ compiler: one line now, not a failed stage later


def study_dir_of(config: Any, output: Path | None) -> Path:
    return (output or Path(config.output_dir) / config.name).expanduser().resolve()
