"""`stick-gen data embed`: embed a dataset's unique descriptions with a text model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import console, data_app, progress_bar
from stickgen.embed import DEFAULT_MODEL, Embedder, embed_dataset
from stickgen.embed.embedder import require_hub_model
from stickgen.textmodels import BUNDLED_MODEL


@data_app.command("embed")
def embed(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory to embed.")],
    model: Annotated[
        str,
        typer.Option(
            help=f"Text model: a Hugging Face hub name (the default, the plan's production "
            f"model, is downloaded once and needs the internet; offline it fails at once), "
            f"{BUNDLED_MODEL} (installed, works offline) or a local sentence-transformers folder."
        ),
    ] = DEFAULT_MODEL,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per forward pass.")] = 64,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch CPU threads (default: every usable core).")
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Embedding cache directory (default: $STICKGEN_CACHE_DIR/embeddings, else "
            "data/cache/embeddings)."
        ),
    ] = None,
    cache: Annotated[bool, typer.Option(help="Reuse and store vectors in the cache.")] = True,
) -> None:
    """Embed every unique description of DATASET and record the model in its manifest."""
    embedder = Embedder(
        model, device=device, batch_size=batch_size, threads=threads
    )  # a bad path fails here
    if embedder.local_dir is None:
        require_hub_model(str(model))  # a hub model out of reach fails here, in one line
    with progress_bar("embedding") as progress:
        summary = embed_dataset(
            dataset,
            embedder=embedder,
            cache_dir=cache_dir,
            use_cache=cache,
            progress=progress,
        )
    rate = summary["encoded"] / summary["seconds"] if summary["seconds"] > 0 else 0.0
    console.print(
        f"embedded {summary['unique_texts']} unique descriptions of {summary['samples']} samples "
        f"with {summary['model']} ({summary['dim']}-d, {summary['pooling']} pooling): "
        f"{summary['encoded']} encoded, {summary['cache_hits']} from cache, "
        f"{summary['seconds']:.1f} s ({rate:.0f} texts/s)"
    )
