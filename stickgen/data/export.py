"""Export a (small) dataset as the plan's `train_data.pt`: a list of per-sample dicts of tensors.

The file loads whole into memory, so it is meant for inspection and for the plan's validation
snippet, not for training (training reads the memory-mapped dataset directly). Datasets above
`MAX_PT_SAMPLES` are refused unless `force=True`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.files import replacing
from stickgen.progress import Progress, no_progress

MAX_PT_SAMPLES = 20_000
BLOCK = 1024


def _sample_dicts(ds: Dataset, count: int, progress: Progress) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lo in range(0, count, BLOCK):
        hi = min(lo + BLOCK, count)
        motion = np.array(ds.motion[lo:hi], dtype=np.float32)
        actions = np.array(ds.actions[lo:hi], dtype=np.int64)
        physics = np.array(ds.physics[lo:hi], dtype=np.float32)
        face = np.array(ds.face[lo:hi], dtype=np.float32)
        for j in range(hi - lo):
            sample: dict[str, Any] = {
                "description": ds.description(lo + j),
                "motion": torch.from_numpy(motion[j].copy()),
                "actions": torch.from_numpy(actions[j].copy()),
                "physics": torch.from_numpy(physics[j].copy()),
                "face": torch.from_numpy(face[j].copy()),
            }
            embedding = ds.embedding(lo + j)
            if embedding is not None:
                sample["embedding"] = torch.from_numpy(embedding)
            out.append(sample)
        progress(hi, count, "collecting samples")
    return out


def export_pt(
    path: str | Path,
    out_file: str | Path,
    limit: int | None = None,
    *,
    force: bool = False,
    overwrite: bool = False,
    progress: Progress = no_progress,
) -> Path:
    """Write the first `limit` samples (all by default) of a dataset to `out_file` with
    `torch.save`: a list of `{description, motion, actions, physics, face[, embedding]}`."""
    ds = Dataset(path)
    out_file = Path(out_file)
    if limit is not None and limit < 1:
        raise StickGenError(f"limit must be at least 1, got {limit}")
    count = len(ds) if limit is None else min(limit, len(ds))
    if count > MAX_PT_SAMPLES and not force:
        raise StickGenError(
            f"{count} samples is too many for a .pt list (it loads whole into memory, "
            f"~{count * 34 / 1e6:.1f} GB); pass a limit of at most {MAX_PT_SAMPLES} or force"
        )
    if out_file.is_dir():
        raise StickGenError(f"{out_file} is a directory; give a file name such as train_data.pt")
    if out_file.exists() and not overwrite:
        raise StickGenError(f"{out_file} already exists (pass overwrite to replace it)")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    samples = _sample_dicts(ds, count, progress)
    with replacing(out_file) as tmp:
        torch.save(samples, tmp)
    return out_file
