"""Synthetic datasets plus motion capture: import the capture, then merge with source tags.

`merge_with_mocap` is the one call behind "a generate job with mocap sources" (service) and
`stick-gen data generate --mocap` (CLI); `generate_with_mocap` first synthesises the scenes into a
scratch folder next to the output, where the work is not sharded. The capture is imported into a
scratch folder next to the output too (clips as long as the synthetic ones, at their frame rate),
then merged after the synthetic inputs. Samples keep their split, so every clip of one recording
stays in the split `import_mocap` chose for it. Sources in the merged manifest: `synthetic` and
`mocap`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from stickgen.data.generate import generate_dataset
from stickgen.data.merge import merge_datasets
from stickgen.data.mocap.importer import discover, import_mocap
from stickgen.data.mocap.labels import ActionClassifier
from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress, scaled
from stickgen.schema import FPS

SYNTHETIC_TAG = "synthetic"
MOCAP_TAG = "mocap"
IMPORT_SHARE = 0.5  # of the reported progress; merging does the rest
SYNTHESIS_SHARE = 0.8  # of `generate_with_mocap`'s progress; importing and merging do the rest


def merge_with_mocap(
    synthetic: Sequence[str | Path],
    mocap_sources: Sequence[str | Path],
    out_dir: str | Path,
    *,
    body_model: str | Path | None = None,
    seed: int = 0,
    classifier: ActionClassifier | Path | str | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Import `mocap_sources` (files or folders) and merge them after the `synthetic` datasets
    into `out_dir`, tagged `synthetic` and `mocap`. Returns the merged dataset directory."""
    if not synthetic:
        raise StickGenError("give at least one synthetic dataset to merge the capture with")
    if not mocap_sources:
        raise StickGenError("give at least one motion-capture file or folder")
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise StickGenError(f"{out_dir} already exists (overwrite to replace it)")
    first = Dataset(synthetic[0])  # clips are cut to its length at its frame rate
    fps = int(first.manifest.get("fps") or FPS)
    scratch = out_dir.with_name(f".{out_dir.name}.mocap")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        imported = import_mocap(
            [Path(s) for s in mocap_sources],
            scratch,
            body_model=Path(body_model) if body_model is not None else None,
            clip_seconds=first.frames / fps,
            fps=fps,
            seed=seed,
            classifier=classifier,
            overwrite=True,
            progress=scaled(progress, 0.0, IMPORT_SHARE),
            should_stop=should_stop,
        )
        inputs = [*map(Path, synthetic), imported]
        tags = [SYNTHETIC_TAG] * len(synthetic) + [MOCAP_TAG]
        return merge_datasets(
            inputs,
            out_dir,
            source_tags=tags,
            overwrite=overwrite,
            progress=scaled(progress, IMPORT_SHARE, 1.0),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def generate_with_mocap(
    out_dir: str | Path,
    num_base: int,
    mocap_sources: Sequence[str | Path],
    *,
    body_model: str | Path | None = None,
    augment: bool = True,
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """`generate_dataset` of `num_base` scenes, then `merge_with_mocap` into `out_dir`.

    The output and the capture sources are checked before any scene is generated; the synthetic
    part lives in a scratch folder next to `out_dir` and is removed whatever happens."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise StickGenError(f"{out_dir} already exists (overwrite to replace it)")
    if not discover([Path(s) for s in mocap_sources]):
        raise StickGenError("no motion files (.bvh, .npz, .npy) found in the capture sources")
    scratch = out_dir.with_name(f".{out_dir.name}.synthetic")
    try:
        synthetic = generate_dataset(
            scratch,
            num_base,
            augment=augment,
            seed=seed,
            workers=workers,
            overwrite=True,
            progress=scaled(progress, 0.0, SYNTHESIS_SHARE),
            should_stop=should_stop,
        )
        return merge_with_mocap(
            [synthetic],
            mocap_sources,
            out_dir,
            body_model=body_model,
            seed=seed,
            overwrite=overwrite,
            progress=scaled(progress, SYNTHESIS_SHARE, 1.0),
            should_stop=should_stop,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
