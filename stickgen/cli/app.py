"""The `stick-gen` Typer application, its sub-groups, and helpers shared by every command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from stickgen.progress import Progress as ProgressCallback

app = typer.Typer(
    name="stick-gen",
    help="Stick-Gen: text prompt to animated stick figure, and the CPU training pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help text is plain: "[default: ...]" in it is shown, not markup
)
data_app = typer.Typer(
    help="Dataset work: generate, embed, validate, export.", no_args_is_help=True
)
app.add_typer(data_app, name="data")

console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error and return the Exit to raise (`raise fail(...)`)."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def progress_bar(description: str, transient: bool = False) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr exposed as a library progress callback (`transient`: it
    is removed when it ends, so an error after it stays the only line)."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[message]}"),
    )
    with Progress(*columns, console=console, transient=transient) as bar:
        task = bar.add_task(description, total=None, message="")

        def update(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, message=message)

        yield update
