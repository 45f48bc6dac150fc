"""Checkpoint files: written atomically, read with `weights_only=True`, loaded strictly.

A checkpoint is a dict of tensors and plain Python containers::

    format, version          "stickgen-checkpoint", 2
    model                    the model's state_dict
    config                   {"model": ModelConfig dict, "stats": MotionStats dict, "fps",
                              "frames", "train": TrainConfig dict (warmup and precision concrete),
                              "sampler": the default `Sampler` (absent: 20 steps, guidance 2)}
    parent                   a distilled model's teacher (`stickgen.train.distill`): its path,
                             epoch, step, sampler and val_loss; None for a model trained on data
    epoch, step              completed epochs, optimizer steps taken
    train_loss, val_loss, val_smoothness, val_position, val_action_accuracy   (None before the
                             first validation); metrics: every validation figure of that epoch
    dataset_id, dataset_path
    embedding_model          the embedding model id the text conditioning was trained with
    embedding                the dataset manifest's embedding record (model id, dim, how to load)
    num_parameters
    optimizer, scheduler, resume   state to continue training exactly where it stopped

Version 1 checkpoints of the diffusion model are upgraded when read (`upgrade_v1`); version 1
checkpoints of the conditional VAE that came before it are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stickgen.artefact import read_artefact, write_artefact
from stickgen.diffusion import Sampler
from stickgen.errors import StickGenError
from stickgen.model import ModelConfig, MotionStats, StickGenModel
from stickgen.schema import NUM_ACTIONS

FORMAT = "stickgen-checkpoint"
VERSION = 2
LAST = "last.pt"
BEST = "best.pt"


EPOCH_PREFIX, EPOCH_SUFFIX = "checkpoint_epoch_", ".pt"


def epoch_checkpoint_name(epoch: int) -> str:
    return f"{EPOCH_PREFIX}{epoch}{EPOCH_SUFFIX}"


def epoch_checkpoints(folder: Path) -> dict[int, Path]:
    """The `checkpoint_epoch_N.pt` files in `folder` by epoch N."""
    found = {}
    for path in folder.glob(f"{EPOCH_PREFIX}*{EPOCH_SUFFIX}"):
        number = path.name.removeprefix(EPOCH_PREFIX).removesuffix(EPOCH_SUFFIX)
        if number.isdigit():
            found[int(number)] = path
    return found


def prune_epoch_checkpoints(folder: Path, keep: int | None) -> list[int]:
    """Delete all but the `keep` newest epoch checkpoints in `folder` (None: keep all); returns
    the epochs removed. `best.pt` and `last.pt` are separate files and never touched."""
    if keep is None:
        return []
    files = epoch_checkpoints(folder)
    removed = sorted(files)[: max(len(files) - keep, 0)]
    for epoch in removed:
        files[epoch].unlink(missing_ok=True)
    return removed


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write `payload` atomically (`write_artefact`: temp file, fsync, `os.replace`)."""
    return write_artefact(path, payload)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (`weights_only=True`), check that it is one of ours and bring
    an older version up to this one."""
    payload = read_artefact(path, "checkpoint", FORMAT, (1, VERSION))
    return upgrade_v1(payload, path) if payload["version"] == 1 else payload


V1_MODEL_KEYS = ("kind", "latent_dim", "encoder_dim", "standardize_text", "plan_action_bias")
V1_RENAMED_WEIGHTS = {"level_mlp.": "t_mlp."}


def upgrade_v1(payload: dict[str, Any], source: str | Path = "checkpoint") -> dict[str, Any]:
    """A version 1 checkpoint as version 2: the model config loses the options every diffusion
    checkpoint had set one way, the noise-time MLP's weights their old name, and the training
    settings gather the preset and loss weights (precision fp32, the only one then)."""
    config = dict(payload["config"])
    model = dict(config["model"])
    if model.get("kind", "cvae") != "diffusion":
        raise StickGenError(
            f"{source} holds a conditional-VAE model from before the diffusion model; "
            "it is no longer supported: train a new model"
        )
    if not (model.get("standardize_text") and model.get("plan_action_bias")):
        raise StickGenError(f"{source} holds a model without text standardisation or plan bias")
    for key in V1_MODEL_KEYS:
        model.pop(key, None)
    weights = {k: v for k, v in config.get("loss_weights", {}).items() if k != "kl"}
    train = {k: v for k, v in config["train"].items() if k != "latent_dropout"}
    train.update(preset=config["preset"], loss_weights=weights, precision="fp32")
    state = {}
    for name, value in payload["model"].items():
        for old, new in V1_RENAMED_WEIGHTS.items():
            name = new + name.removeprefix(old) if name.startswith(old) else name
        state[name] = value
    return {
        **payload,
        "version": VERSION,
        "model": state,
        "config": {
            "model": model,
            "stats": config["stats"],
            "fps": config["fps"],
            "frames": config["frames"],
            "train": train,
        },
    }


def load_weights(model: StickGenModel, state: dict[str, Any], source: str | Path) -> None:
    """`load_state_dict(strict=True)`: missing, unexpected or mis-shaped weights are an error."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise StickGenError(f"{source}: weights do not match the model: {detail}") from None


def model_config(payload: dict[str, Any], source: str | Path = "checkpoint") -> ModelConfig:
    """The checkpoint's model config; refused when its actions are not this Stick-Gen's."""
    try:
        cfg = ModelConfig.from_dict(dict(payload["config"]["model"]))
    except (KeyError, TypeError) as exc:
        raise StickGenError(f"{source}: checkpoint is missing {exc}") from None
    if cfg.num_actions != NUM_ACTIONS:
        raise StickGenError(
            f"{source} was trained with {cfg.num_actions} actions, this Stick-Gen has "
            f"{NUM_ACTIONS}: train a new model on a dataset made with this version"
        )
    return cfg


def model_from_checkpoint(
    payload: dict[str, Any], source: str | Path = "checkpoint"
) -> tuple[StickGenModel, MotionStats]:
    """Rebuild the model (eval mode) and its normalisation statistics from a loaded checkpoint."""
    cfg = model_config(payload, source)
    try:
        stats = MotionStats.from_dict(payload["config"]["stats"])
        state = payload["model"]
    except (KeyError, TypeError) as exc:
        raise StickGenError(f"{source}: checkpoint is missing {exc}") from None
    model = StickGenModel(cfg)
    load_weights(model, state, source)
    model.sampler = Sampler.from_dict(payload["config"].get("sampler"))
    model.eval()
    return model, stats
