"""Validation by generation: the model sees only text (and optionally the action plan), never the
target motion (`StickGenModel.generate` from its fixed typical noise draw), and its output is
compared with the data.

Metric definitions (all averaged over every frame of every validation sample):

- val_loss: the figure that picks the best checkpoint: the training objective (`denoising_loss`,
  no text dropped) at a noise time and noise drawn for each sample from its dataset index
  (`validation_noise`), so it is deterministic and comparable between epochs.
- val_sample_loss: the training loss (`multitask_loss`, same weights) of the generated clip
  against its one target. It has a floor well above 0: the data's random phases and styles
  cannot be told from text, and a sample that commits to one stride phase pays for not being the
  mean of all phases, so it need not fall as the model improves.
- val_smoothness: mean absolute second difference over frames of the 20 joint coordinates of the
  generated absolute motion, |x[t+1] - 2 x[t] + x[t-1]|, in metres per frame^2 (multiply by
  fps^2 = 625 for m/s^2). Lower is smoother; `val_smoothness_data` is the same on the true motion,
  the value to aim for.
- val_position: mean Euclidean distance between generated and true root (hip) position, metres.
- val_action_accuracy: share of frames where the action head's argmax equals the true label.

`validate_epoch` reports these with the plan given (`val_*`) and from text alone (`val_*_text`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from stickgen.model import MotionStats, StickGenModel, predicted_motion, split_motion
from stickgen.train.batches import BatchReader, split_batches
from stickgen.train.losses import LossWeights, denoising_loss, multitask_loss, second_difference

VAL_NOISE_SEED = 0  # seeds the noise times and noise of val_loss


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
    """Noise time t `[B]` and noise of each sample for val_loss, drawn from a
    generator seeded by `VAL_NOISE_SEED` and the sample's dataset index, so a sample's draw does
    not depend on its batch or on the order of the batches."""
    times, noises = [], []
    for sample in np.asarray(sample_ids).tolist():
        draw = torch.Generator().manual_seed(VAL_NOISE_SEED * 1_000_003 + int(sample))
        times.append(torch.rand(1, generator=draw))
        noises.append(torch.randn(model.noise_shape(1, frames), generator=draw))
    return torch.cat(times), torch.cat(noises)


METRICS = ("val_loss", "val_sample_loss", "val_smoothness", "val_position", "val_action_accuracy")
KEYS = (*METRICS, *(key + "_text" for key in METRICS), "val_smoothness_data")


@torch.inference_mode()
def validate_epoch(
    model: StickGenModel,
    reader: BatchReader,
    indices: np.ndarray,
    stats: MotionStats,
    weights: LossWeights,
    batch_size: int = 64,
    device: torch.device | None = None,
    total: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, float]:
    """Generate every sample of `indices` with and without its plan and score it (see module).

    `total` sums the per-sample sums over the processes that validate a share each (every
    process must call it); the means are then those of all their samples together.
    """
    was_training = model.training
    model.eval()
    sums = dict.fromkeys(KEYS, 0.0)
    count = 0
    try:
        for batch_idx in split_batches(np.sort(np.asarray(indices)), batch_size):
            batch = reader.read(batch_idx)
            if device is not None:
                batch = {k: v.to(device) for k, v in batch.items()}
            n = int(batch["text"].shape[0])
            no_plan = torch.full_like(batch["actions"], model.no_plan)
            # one draw per sample serves both plan settings
            t, noise = (
                v.to(no_plan.device) for v in validation_noise(model, batch_idx, no_plan.shape[1])
            )
            for suffix, plan in (("", batch["actions"]), ("_text", no_plan)):
                out = model.generate(batch["text"], plan)
                sample_loss, _ = multitask_loss(out, batch, stats, weights)
                loss, _ = denoising_loss(model, batch, stats, weights, plan, t, noise)
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
                    sums[key + suffix] += value
            sums["val_smoothness_data"] += float(smoothness(batch["motion"]).sum())
            count += n
    finally:
        model.train(was_training)
    if total is not None:
        summed = total(torch.tensor([*sums.values(), count], dtype=torch.float64)).tolist()
        sums, count = dict(zip(KEYS, summed[:-1], strict=True)), summed[-1]
    return {key: value / max(count, 1) for key, value in sums.items()}
