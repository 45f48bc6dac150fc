"""Validation by generation: the model sees only text (and optionally the action plan), never the
target motion (`StickGenModel.generate` from its fixed typical noise draw), and its output is
compared with the data.

Metric definitions (all averaged over every frame of every validation sample):

- val_loss: the figure that picks the best checkpoint. Diffusion models: the training objective
  (`denoising_loss`, no text dropped) at a noise time and noise drawn for each sample from its
  dataset index (`validation_noise`), so it is deterministic and comparable between epochs.
  CVAE models: as val_sample_loss.
- val_sample_loss: the training loss (`multitask_loss`, same weights, no KL) of the generated
  clip against its one target. It has a floor well above 0: the data's random phases and styles
  cannot be told from text, and a sample that commits to one stride phase pays for not being the
  mean of all phases, so it need not fall as a diffusion model improves.
- val_smoothness: mean absolute second difference over frames of the 20 joint coordinates of the
  generated absolute motion, |x[t+1] - 2 x[t] + x[t-1]|, in metres per frame^2 (multiply by
  fps^2 = 625 for m/s^2). Lower is smoother; `val_smoothness_data` is the same on the true motion,
  the value to aim for.
- val_position: mean Euclidean distance between generated and true root (hip) position, metres.
- val_action_accuracy: share of frames where the action head's argmax equals the true label.

`evaluate` reports these with the plan given (`val_*`) and from text alone (`val_*_text`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from stickgen.model import NO_PLAN, MotionStats, StickGenModel, predicted_motion, split_motion
from stickgen.train.batches import BatchReader, split_batches
from stickgen.train.losses import LossWeights, denoising_loss, multitask_loss, second_difference

VAL_NOISE_SEED = 0  # seeds the noise times and noise of a diffusion model's val_loss


def smoothness(motion: Tensor) -> Tensor:
    """Per-sample mean |second difference| of `[B, T, 20]` motion, metres / frame^2, `[B]`."""
    if motion.shape[-2] < 3:
        return motion.new_zeros(motion.shape[0])
    return second_difference(motion).abs().mean(dim=(-1, -2))


def position_error(pred_motion: Tensor, true_motion: Tensor) -> Tensor:
    """Per-sample mean Euclidean root (hip) distance in metres, `[B]`."""
    _, pred_root = split_motion(pred_motion)
    _, true_root = split_motion(true_motion)
    return (pred_root - true_root).norm(dim=-1).mean(dim=-1)


def action_accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """Per-sample share of frames whose argmax matches the label, `[B]`."""
    return (logits.argmax(dim=-1) == labels).float().mean(dim=-1)


def validation_noise(
    model: StickGenModel, sample_ids: np.ndarray, frames: int
) -> tuple[Tensor, Tensor]:
    """Noise time `[B]` and noise of each sample for a diffusion model's val_loss, drawn from a
    generator seeded by `VAL_NOISE_SEED` and the sample's dataset index, so a sample's draw does
    not depend on its batch or on the order of the batches."""
    levels, noises = [], []
    for sample in np.asarray(sample_ids).tolist():
        draw = torch.Generator().manual_seed(VAL_NOISE_SEED * 1_000_003 + int(sample))
        levels.append(torch.rand(1, generator=draw))
        noises.append(torch.randn(model.noise_shape(1, frames), generator=draw))
    return torch.cat(levels), torch.cat(noises)


@torch.inference_mode()
def evaluate(
    model: StickGenModel,
    reader: BatchReader,
    indices: np.ndarray,
    stats: MotionStats,
    weights: LossWeights,
    batch_size: int = 64,
) -> dict[str, float]:
    """Generate every sample of `indices` with and without its plan and score it (see module)."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    count = 0
    try:
        for batch_idx in split_batches(np.asarray(indices), batch_size):
            batch = reader.read(batch_idx)
            n = int(batch["text"].shape[0])
            no_plan = torch.full_like(batch["actions"], NO_PLAN)
            if model.config.diffusion:  # one draw per sample serves both plan settings
                level, noise = validation_noise(model, batch_idx, no_plan.shape[1])
            for suffix, plan in (("", batch["actions"]), ("_text", no_plan)):
                out = model.generate(batch["text"], plan)
                sample_loss, _ = multitask_loss(out, batch, stats, weights)
                loss = sample_loss
                if model.config.diffusion:
                    loss, _ = denoising_loss(model, batch, stats, weights, plan, level, noise)
                motion = predicted_motion(out, stats)
                values = {
                    "val_loss": float(loss) * n,
                    "val_sample_loss": float(sample_loss) * n,
                    "val_smoothness": float(smoothness(motion).sum()),
                    "val_position": float(position_error(motion, batch["motion"]).sum()),
                    "val_action_accuracy": float(
                        action_accuracy(out["actions"], batch["actions"]).sum()
                    ),
                }
                for key, value in values.items():
                    sums[key + suffix] = sums.get(key + suffix, 0.0) + value
            sums["val_smoothness_data"] = sums.get("val_smoothness_data", 0.0) + float(
                smoothness(batch["motion"]).sum()
            )
            count += n
    finally:
        model.train(was_training)
    return {key: value / max(count, 1) for key, value in sums.items()}
