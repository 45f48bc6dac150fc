"""`stick-gen export`: a checkpoint as an inference export (safetensors, config, model card)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import app


@app.command("export")
def export_command(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint file (best.pt, last.pt, ...).")],
    out: Annotated[Path, typer.Argument(help="The export folder to write (replaced whole).")],
) -> None:
    """Write CHECKPOINT as model.safetensors + config.json + README.md (a model card) in OUT;
    `stick-gen animate --checkpoint OUT` draws the same clips as the checkpoint."""
    from stickgen.export import export_checkpoint

    typer.echo(str(export_checkpoint(checkpoint, out)))
