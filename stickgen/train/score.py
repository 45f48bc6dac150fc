"""Score a trained checkpoint on one split of a dataset (by default the held-out test split) with
the validation metrics of `stickgen.train.metrics`: the model generates from the text embedding,
with the true action plan (`*`) and from text alone (`*_text`), and never sees the target motion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stickgen.compute import resolve_device
from stickgen.data.store import SPLITS, Dataset
from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.train.batches import BatchReader, split_batches, subset
from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint
from stickgen.train.config import TrainConfig
from stickgen.train.guards import embedding_record
from stickgen.train.metrics import validate_epoch

SCORE_BATCH = 64


def score_checkpoint(
    checkpoint: str | Path,
    dataset_dir: str | Path,
    split: str = "test",
    max_samples: int | None = None,
    seed: int = 0,
    progress: Progress = no_progress,
    device: str = "auto",
) -> dict[str, Any]:
    """Metrics of `checkpoint` on `split` of the dataset (every sample, or a seeded subset of
    `max_samples`), plus the split's name and size. The dataset must be embedded with the
    checkpoint's text model and have the checkpoint's clip length. Generates on `device`."""
    if split not in SPLITS:
        raise StickGenError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    payload = load_checkpoint(checkpoint)
    model, stats = model_from_checkpoint(payload, checkpoint)
    chosen = resolve_device(device)
    model, stats = model.to(chosen), stats.to(chosen)
    dataset = Dataset(dataset_dir)
    embedding_record(dataset, expected=payload.get("embedding_model"), text_model=None)
    frames = payload["config"].get("frames")
    if frames is not None and frames != dataset.frames:
        raise StickGenError(
            f"{checkpoint} was trained on {frames}-frame clips, {dataset.path} holds "
            f"{dataset.frames}-frame clips"
        )
    indices = subset(dataset.split_indices(split), max_samples, seed)
    if len(indices) == 0:
        raise StickGenError(f"{dataset.path} has no samples in its {split!r} split")
    weights = TrainConfig.from_dict(payload["config"]["train"]).loss_weights
    reader = BatchReader(dataset)
    chunks = split_batches(indices, SCORE_BATCH * 8)
    totals: dict[str, float] = {}
    with torch.inference_mode():
        for done, chunk in enumerate(chunks, start=1):
            metrics = validate_epoch(
                model, reader, chunk, stats, weights, batch_size=SCORE_BATCH, device=chosen
            )
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0.0) + value * len(chunk)
            progress(done, len(chunks), f"scoring {split}")
    scores = {key: value / len(indices) for key, value in totals.items()}
    return {"split": split, "samples": len(indices), "epoch": payload.get("epoch"), **scores}
