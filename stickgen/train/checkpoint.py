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

from pathlib import Path
from typing import Any

from stickgen.artefact import read_artefact, write_artefact
from stickgen.errors import StickGenError
from stickgen.model import ModelConfig, MotionStats, StickGenModel

FORMAT = "stickgen-checkpoint"
VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


def epoch_checkpoint_name(epoch: int) -> str:
    return f"checkpoint_epoch_{epoch}.pt"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write `payload` atomically (`write_artefact`: temp file, fsync, `os.replace`)."""
    return write_artefact(path, payload)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (`weights_only=True`) and check that it is one of ours."""
    return read_artefact(path, "checkpoint", FORMAT, VERSION)


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
