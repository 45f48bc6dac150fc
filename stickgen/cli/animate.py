"""`stick-gen animate`: a text prompt to an MP4, GIF or JSON animation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app, progress_bar
from stickgen.errors import StickGenError

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_SUFFIX_FORMATS = {".mp4": "mp4", ".gif": "gif", ".json": "json"}


def parse_size(text: str) -> tuple[int, int]:
    """'512x288' -> (512, 288)."""
    match = _SIZE.match(text)
    if not match:
        raise StickGenError(f"--size must look like 512x512, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def resolve_frame_size(size: str | None, width: int | None, height: int | None) -> tuple[int, int]:
    """Frame size from --size or --width/--height (512x512 by default)."""
    if size is not None:
        if width is not None or height is not None:
            raise StickGenError("give either --size or --width/--height, not both")
        return parse_size(size)
    return (width if width is not None else 512, height if height is not None else 512)


def resolve_format(fmt: str | None, output: Path | None) -> str:
    """The explicit --format, else the output's suffix, else mp4."""
    if fmt is not None:
        return fmt.lower()
    if output is not None:
        return _SUFFIX_FORMATS.get(output.suffix.lower(), "mp4")
    return "mp4"


@app.command("animate")
def animate_command(
    prompt: Annotated[str, typer.Argument(help='What to animate, e.g. "A person waving".')],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output file [default: animation.FORMAT]."),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Seconds, 0.5 to 60 [default: from the prompt].")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Random seed for repeatable motion "
            "[default: the typical clip, the same every run]."
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="Frame size WIDTHxHEIGHT, each 64 to 1920 (multiples of 16 encode best) "
            "[default: 512x512]."
        ),
    ] = None,
    width: Annotated[
        int | None, typer.Option(help="Frame width in pixels, instead of --size [default: 512].")
    ] = None,
    height: Annotated[
        int | None, typer.Option(help="Frame height in pixels, instead of --size [default: 512].")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="mp4, gif or json [default: from the output name]."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Trained model: a checkpoint (.pt) or an export folder (stick-gen export) "
            "[default: none, the procedural engine]."
        ),
    ] = None,
    text_model: Annotated[
        str | None,
        typer.Option(
            envvar="STICKGEN_TEXT_MODEL",
            help="The checkpoint's text model (hub name or directory), when it does not record "
            "where it lives [default: the one it records].",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Turn PROMPT into an animated stick figure; prints the file and the plan."""
    from stickgen.animate import check_output_options, make_animation, write_animation

    w, h = resolve_frame_size(size, width, height)
    fmt = resolve_format(fmt, output)
    out = output if output is not None else Path(f"animation.{fmt}")
    check_output_options(out, duration, w, h, fmt)
    with progress_bar("preparing", transient=True) as progress:
        if checkpoint is not None and Path(checkpoint).exists():
            from stickgen.infer import load_generator

            progress(0, 2, "loading the checkpoint and its text model")
            load_generator(checkpoint, text_model, device)  # kept for make_animation
            progress(1, 2, "planning and sampling")
        else:
            progress(0, 1, "planning the motion")
        animation = make_animation(
            prompt,
            duration=duration,
            seed=seed,
            checkpoint=checkpoint,
            text_model=text_model,
            device=device,
        )
        progress(1, 1, "done")
    with progress_bar("rendering") as progress:
        write_animation(animation, out, width=w, height=h, fmt=fmt, progress=progress)
    typer.echo(str(out))
    typer.echo(f"plan: {animation.summary()}")
    if animation.engine == "model":
        typer.echo(f"model predicted: {animation.predicted_summary()}")
    report = animation.scene.understanding
    if animation.understood:
        typer.echo(f"understood: {animation.understanding_summary()}")
    else:
        ignored = ", ".join(report.ignored) if report is not None and report.ignored else "-"
        typer.echo(
            "notice: nothing in the prompt was understood, so the figure just stands there "
            f"(ignored: {ignored}); try naming an action, e.g. 'a man waves'"
        )
