"""`stick-gen data generate [--mocap] | validate | export | merge`: dataset commands."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from stickgen.cli.app import console, data_app, fail, progress_bar
from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.progress import Progress


@contextmanager
def _bar(description: str) -> Iterator[Progress]:
    """A progress bar that appears on the first progress report, so that input errors raised
    before any work starts print alone."""
    with ExitStack() as stack:
        shown: list[Progress] = []

        def update(done: int, total: int, message: str) -> None:
            if not shown:
                shown.append(stack.enter_context(progress_bar(description)))
            shown[0](done, total, message)

        yield update


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a StickGenError into a one-line message and exit code 2."""
    try:
        yield
    except StickGenError as exc:
        raise fail(str(exc)) from None


def _parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise StickGenError(f"--shard takes INDEX/COUNT such as 0/4, got {text!r}") from None
    return index, count


@data_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Dataset directory to create.")] = Path(
        "data/train_data"
    ),
    num_base: Annotated[int, typer.Option(help="Base scenes (x5 samples with augmentation).")] = (
        100_000
    ),
    augment: Annotated[
        bool, typer.Option(help="Add speed, position, scale and mirror copies.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: all cores).")
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Generate only shard INDEX/COUNT (e.g. 0/4), for merging [default: all]."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
    mocap: Annotated[
        list[Path] | None,
        typer.Option(
            help="Motion capture to merge in (BVH/.npz/.npy file or folder; repeat) "
            "[default: none]."
        ),
    ] = None,
    body_model: Annotated[
        Path | None,
        typer.Option(help="SMPL-H body-model .npz for AMASS .npz motions [default: none]."),
    ] = None,
) -> None:
    """Generate the synthetic training dataset (phase 1), optionally with motion capture."""
    from stickgen.data.generate import generate_dataset

    with _user_errors():
        started = time.perf_counter()
        if mocap and shard is not None:
            raise StickGenError(
                "--mocap and --shard do not mix: merge the shards, then the capture"
            )
        with _bar("generating") as progress:
            if mocap:
                from stickgen.data.mocap.mix import generate_with_mocap

                path = generate_with_mocap(
                    out,
                    num_base,
                    mocap,
                    body_model=body_model,
                    augment=augment,
                    seed=seed,
                    workers=workers,
                    overwrite=overwrite,
                    progress=progress,
                )
            else:
                path = generate_dataset(
                    out,
                    num_base,
                    augment=augment,
                    seed=seed,
                    workers=workers,
                    shard=_parse_shard(shard),
                    overwrite=overwrite,
                    progress=progress,
                )
        seconds = time.perf_counter() - started
        ds = Dataset(path)
    sources = ds.manifest.get("source_counts")
    console.print(
        f"wrote {path}: {len(ds)} samples, {ds.manifest['unique_descriptions']} unique "
        f"descriptions, splits {ds.manifest['splits']}, {seconds:.1f} s "
        f"({len(ds) / seconds:.0f} samples/s)" + (f", sources {sources}" if sources else "")
    )


@data_app.command("validate")
def validate(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory to check.")],
    quick: Annotated[
        bool, typer.Option(help="Check a sample of clips and skip the checksums.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a dataset against the data contracts; exit 1 when a check fails."""
    from stickgen.data.validate import validate_dataset

    with _user_errors(), _bar("validating") as progress:
        report = validate_dataset(dataset, full=not quick, progress=progress)
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else str(report))
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("export")
def export(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory to export.")],
    out: Annotated[Path, typer.Option(help="File to write, e.g. data/train_data.pt.")],
    format: Annotated[str, typer.Option(help="Output format (only 'pt').")] = "pt",
    limit: Annotated[
        int | None, typer.Option(help="Export only the first N samples [default: all].")
    ] = None,
    force: Annotated[bool, typer.Option(help="Allow more than 20,000 samples.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write the plan's train_data.pt (a list of per-sample dicts of tensors)."""
    from stickgen.data.export import export_pt

    with _user_errors():
        if format != "pt":
            raise StickGenError(f"unknown export format {format!r}; only 'pt' is supported")
        with _bar("exporting") as progress:
            path = export_pt(
                dataset, out, limit, force=force, overwrite=overwrite, progress=progress
            )
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@data_app.command("merge")
def merge(
    datasets: Annotated[list[Path], typer.Argument(help="Datasets to concatenate, in order.")],
    out: Annotated[Path, typer.Option(help="Merged dataset directory to create.")],
    tag: Annotated[
        list[str] | None,
        typer.Option(
            help="Source tag per input (repeat once per dataset), e.g. synthetic, amass "
            "[default: each input's own].",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
) -> None:
    """Merge datasets (shards, or synthetic plus motion capture) into one."""
    from stickgen.data.merge import merge_datasets

    with _user_errors():
        with _bar("merging") as progress:
            path = merge_datasets(
                datasets, out, source_tags=tag or None, overwrite=overwrite, progress=progress
            )
        ds = Dataset(path)
    console.print(
        f"wrote {path}: {len(ds)} samples from {len(datasets)} datasets, "
        f"sources {ds.manifest['sources']}"
    )
    for note in ds.manifest.get("notes", []):
        console.print(f"note: {note}")
