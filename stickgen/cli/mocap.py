"""`stick-gen data import-mocap`: real motion capture into a Stick-Gen dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import console, data_app, fail, progress_bar
from stickgen.errors import StickGenError


@data_app.command("import-mocap")
def import_mocap_command(
    sources: Annotated[
        list[Path], typer.Argument(help="BVH, AMASS .npz or [T,22,3] .npy files, or folders.")
    ],
    out: Annotated[Path, typer.Option(help="Dataset directory to create.")],
    body_model: Annotated[
        Path | None,
        typer.Option(
            help="SMPL-H body-model .npz (needed for AMASS .npz motions) [default: none]."
        ),
    ] = None,
    fps_in: Annotated[
        float | None,
        typer.Option(
            help="Override the source frame rate, frames per second [default: from the file]."
        ),
    ] = None,
    clip_seconds: Annotated[float, typer.Option(help="Length of each clip.")] = 10.0,
    classifier: Annotated[
        Path | None, typer.Option(help="Saved action classifier (.npz) [default: train one].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (splits, caption choice).")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
) -> None:
    """Import motion capture: side-view stick figures, 25 fps, 10-s clips, inferred labels."""
    from stickgen.data.mocap import import_mocap

    try:
        with progress_bar("import-mocap") as progress:
            path = import_mocap(
                sources,
                out,
                body_model=body_model,
                clip_seconds=clip_seconds,
                seed=seed,
                progress=progress,
                fps_in=fps_in,
                classifier=classifier,
                overwrite=overwrite,
            )
    except StickGenError as exc:
        raise fail(str(exc)) from None
    console.print(f"wrote {path}")
