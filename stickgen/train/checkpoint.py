"""Checkpoint files: written atomically, read with `weights_only=True`, loaded strictly.

A checkpoint is a dict of tensors and plain Python containers::

    format, version          "stickgen-checkpoint", 1
    model                    the model's state_dict
    config                   {"preset", "model": ModelConfig dict, "stats": MotionStats dict,
                              "fps", "frames", "loss_weights", "plan_dropout", "latent_dropout",
                              "train": settings}
    epoch, step              completed epochs, optimizer steps taken
    train_loss, val_loss, val_smoothness, val_position, val_action_accuracy   (None before the
                             first validation); metrics: every validation figure of that epoch
    dataset_id, dataset_path
    embedding_model          the embedding model id the text conditioning was trained with
    embedding                the dataset manifest's embedding record (model id, dim, how to load)
    optimizer, scheduler, rng, resume   state to continue training exactly where it stopped
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from stickgen.errors import NotFoundError, StickGenError
from stickgen.model import ModelConfig, MotionStats, StickGenModel

FORMAT = "stickgen-checkpoint"
VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


def epoch_checkpoint_name(epoch: int) -> str:
    return f"checkpoint_epoch_{epoch}.pt"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write `payload` to a temp file in the same directory, fsync, then `os.replace` it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (`weights_only=True`) and check that it is one of ours."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated or foreign pickle
        raise StickGenError(f"{path} is not a readable Stick-Gen checkpoint: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise StickGenError(f"{path} is not a Stick-Gen checkpoint")
    if payload.get("version") != VERSION:
        raise StickGenError(
            f"{path} has checkpoint version {payload.get('version')}, "
            f"this Stick-Gen reads version {VERSION}"
        )
    return payload


def load_weights(model: StickGenModel, state: dict[str, Any], source: str | Path) -> None:
    """`load_state_dict(strict=True)`: missing, unexpected or mis-shaped weights are an error."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise StickGenError(f"{source}: weights do not match the model: {detail}") from None


def model_from_checkpoint(
    payload: dict[str, Any], source: str | Path = "checkpoint"
) -> tuple[StickGenModel, MotionStats]:
    """Rebuild the model (eval mode) and its normalisation statistics from a loaded checkpoint."""
    try:
        config = ModelConfig.from_dict(dict(payload["config"]["model"]))
        stats = MotionStats.from_dict(payload["config"]["stats"])
        state = payload["model"]
    except (KeyError, TypeError) as exc:
        raise StickGenError(f"{source}: checkpoint is missing {exc}") from None
    model = StickGenModel(config)
    load_weights(model, state, source)
    model.eval()
    return model, stats
