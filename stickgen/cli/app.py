"""The `stick-gen` Typer application, its sub-groups, and helpers shared by every command."""

from __future__ import annotations

import time
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


def warn_if_emulated(precision: str, device: str) -> None:
    """One warning line when bf16 is asked for where the hardware only emulates it."""
    from stickgen.compute import emulated_bf16, resolve_device
    from stickgen.errors import StickGenError

    try:
        chosen = resolve_device(device)
    except StickGenError:
        return  # the work itself reports a bad device
    if emulated_bf16(precision, chosen):
        console.print(
            f"[yellow]warning:[/] {chosen} does not run bf16 natively (a CPU needs AVX512-BF16 or "
            "AMX): it is emulated, several times slower than fp32 (--precision auto picks fp32)"
        )


LOG_EVERY_S = 30.0


@contextmanager
def progress_lines(description: str, every_s: float = LOG_EVERY_S) -> Iterator[ProgressCallback]:
    """Progress as plain lines on stderr, one per `every_s` at most and one when the work ends,
    for a log file or a pipe, where a live bar would print nothing until the end."""
    latest: tuple[int, int, str] | None = None
    shown: tuple[int, int, str] | None = None
    printed_at = time.monotonic()

    def show(done: int, total: int, message: str) -> None:
        nonlocal shown
        shown = (done, total, message)
        share = f" ({100 * done / total:.0f}%)" if total else ""
        text = f"{description}: {done}/{total}{share} {message}".rstrip()
        console.print(text, markup=False, highlight=False)

    def update(done: int, total: int, message: str) -> None:
        nonlocal latest, printed_at
        latest = (done, total, message)
        if time.monotonic() - printed_at >= every_s:
            printed_at = time.monotonic()
            show(*latest)

    yield update
    if latest is not None and latest != shown:
        show(*latest)


@contextmanager
def progress_bar(description: str, transient: bool = False) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr exposed as a library progress callback (`transient`: it
    is removed when it ends, so an error after it stays the only line); plain lines
    (`progress_lines`) when stderr is not a terminal."""
    if not console.is_terminal:
        if transient:
            yield lambda done, total, message: None
        else:
            with progress_lines(description) as update:
                yield update
        return
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
