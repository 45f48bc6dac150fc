"""The multi-task training loss: every head against its target, plus smoothness and bone length."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from stickgen import diffusion
from stickgen.errors import refuse_unknown_keys
from stickgen.model import (
    MOTION_FEATURES,
    MotionStats,
    StickGenModel,
    motion_features,
    root_velocity,
    split_motion,
)
from stickgen.schema import FPS
from stickgen.skeleton import LEFT_ARM, LEFT_LEG, RIGHT_ARM, RIGHT_LEG

DEFAULT_SPECTRUM_WEIGHT = 1.0


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (see `multitask_loss`)."""

    pose: float = 1.0
    position: float = 1.0
    velocity: float = 0.5
    action: float = 0.5
    physics: float = 0.25
    smoothness: float = 1.0
    segment: float = 2.0
    spectrum: float = DEFAULT_SPECTRUM_WEIGHT  # phase-free spectrum term (`spectrum_distance`)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> LossWeights:
        refuse_unknown_keys(data, cls, "loss weights")
        return cls(**{k: float(v) for k, v in data.items()})


def segment_lengths(motion: Tensor) -> Tensor:
    """`[..., 5]` lengths of the five segments of `[..., 20]` motion."""
    seg = motion.reshape(*motion.shape[:-1], 5, 2, 2)
    return (seg[..., 1, :] - seg[..., 0, :]).norm(dim=-1)


def second_difference(x: Tensor) -> Tensor:
    """x[t+1] - 2 x[t] + x[t-1] along the frame axis (-2)."""
    return x[..., 2:, :] - 2 * x[..., 1:-1, :] + x[..., :-2, :]


SPECTRUM_WINDOW = 50  # frames (2 s at 25 fps): resolves gait and wave rates down to 0.5 Hz


def spectrum_distance(pred: Tensor, true: Tensor, window: int = SPECTRUM_WINDOW) -> Tensor:
    """Phase-free match of how much and how fast each channel of `[B, T, C]` tracks oscillates.

    Both are cut into stretches of `window` frames (hop a quarter of it); each stretch loses its
    mean (the level is what MSE matches; a magnitude cannot tell +a from -a, and on the mean it
    would hold a channel at the wrong sign) and is Hann-windowed; the magnitude spectra are
    compared with L1, summed over frequency and averaged over channels and stretches, in units
    of the window's gain, so a sine of amplitude a against one of amplitude A (any phase) costs
    about |a - A|. Plain MSE is minimised by averaging cycles that start at random phases into a
    still pose; this term makes that cost what it really does.
    """
    frames = pred.shape[-2]
    if frames < 4:
        return pred.new_zeros(())
    size = min(window, frames)
    taper = torch.hann_window(size, periodic=False, device=pred.device, dtype=pred.dtype)

    def magnitude(x: Tensor) -> Tensor:
        stretches = x.transpose(-1, -2).unfold(-1, size, max(1, size // 4))  # [..., C, S, size]
        stretches = stretches - stretches.mean(dim=-1, keepdim=True)
        return torch.fft.rfft(stretches * taper, dim=-1).abs() / taper.sum()

    return (magnitude(pred) - magnitude(true)).abs().sum(dim=-1).mean()


def with_limb_contrasts(pose: Tensor) -> Tensor:
    """`[..., 20]` pose plus left-minus-right hand and foot coordinates `[..., 4]`: a gait's
    legs (and a walk's arms) swing in opposite phase, which per-channel spectra cannot see but
    the spectrum of their difference can."""
    ends = pose.unflatten(-1, (5, 2, 2))[..., 1, :]  # [..., 5, 2]: each segment's end point
    hands = ends[..., LEFT_ARM, :] - ends[..., RIGHT_ARM, :]
    feet = ends[..., LEFT_LEG, :] - ends[..., RIGHT_LEG, :]
    return torch.cat([pose, hands, feet], dim=-1)


def targets(batch: dict[str, Tensor], stats: MotionStats, fps: float = FPS) -> dict[str, Tensor]:
    """Normalised regression targets of a batch (keys match the model's heads)."""
    pose, root = split_motion(batch["motion"])
    return {
        "pose": stats.normalize("pose", pose),
        "root": stats.normalize("root", root),
        "velocity": stats.normalize("velocity", root_velocity(root, fps)),
        "physics": stats.normalize("physics", batch["physics"]),
        "actions": batch["actions"],
    }


PLAN_DROPOUT = 0.5  # share of training samples that see no action plan (text-only generation)
TEXT_DROPOUT = 0.1  # share of samples trained without their text (for guidance)


@dataclass(frozen=True)
class Draws:
    """The random choices of one training batch: which rows lose their plan or their text, and
    each row's noise time t and noise. Drawn for a whole (global) batch from one generator, so a
    row's draws do not depend on how the batch is split between processes."""

    drop_plan: Tensor  # [B] bool
    t: Tensor  # [B]
    noise: Tensor  # [B, T, 24]
    drop_text: Tensor  # [B] bool

    @classmethod
    def sample(
        cls, rows: int, frames: int, plan_dropout: float, generator: torch.Generator
    ) -> Draws:
        drop_plan = torch.rand(rows, generator=generator) < plan_dropout
        t = torch.rand(rows, generator=generator)
        noise = torch.randn(rows, frames, MOTION_FEATURES, generator=generator)
        drop_text = torch.rand(rows, generator=generator) < TEXT_DROPOUT
        return cls(drop_plan, t, noise, drop_text)

    def rows(self, start: int, stop: int, device: torch.device | None = None) -> Draws:
        """The draws of rows start..stop, on `device`."""
        return Draws(*(v[start:stop].to(device) for v in self.__dict__.values()))


def multitask_loss(
    outputs: dict[str, Tensor],
    batch: dict[str, Tensor],
    stats: MotionStats,
    weights: LossWeights,
    fps: float = FPS,
    *,
    tgt: dict[str, Tensor] | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Weighted sum of the terms below; returns (total, {term: value}).

    pose / position / velocity / physics: MSE of the normalised head outputs against normalised
    targets (physics is matched to the data's own track: no constant gravity is imposed).
    action: per-frame cross-entropy. smoothness: MSE between the second differences (over frames)
    of predicted and true normalised pose+root, so motion is as smooth as the data, not stiffer.
    segment: mean absolute error of the five segment lengths of the predicted pose, in metres.
    spectrum: `spectrum_distance` of the normalised pose `with_limb_contrasts` (computed only when
    its weight is set).
    """
    tgt = tgt if tgt is not None else targets(batch, stats, fps)
    terms = {
        "pose": F.mse_loss(outputs["pose"], tgt["pose"]),
        "position": F.mse_loss(outputs["root"], tgt["root"]),
        "velocity": F.mse_loss(outputs["velocity"], tgt["velocity"]),
        "physics": F.mse_loss(outputs["physics"], tgt["physics"]),
        "action": F.cross_entropy(outputs["actions"].flatten(0, 1), tgt["actions"].flatten()),
    }
    if outputs["pose"].shape[-2] >= 3:
        pred = torch.cat([outputs["pose"], outputs["root"]], dim=-1)
        true = torch.cat([tgt["pose"], tgt["root"]], dim=-1)
        terms["smoothness"] = F.mse_loss(second_difference(pred), second_difference(true))
    else:
        terms["smoothness"] = outputs["pose"].new_zeros(())
    pred_pose = stats.denormalize("pose", outputs["pose"])
    true_pose, _ = split_motion(batch["motion"])
    terms["segment"] = (segment_lengths(pred_pose) - segment_lengths(true_pose)).abs().mean()
    if weights.spectrum > 0:
        terms["spectrum"] = spectrum_distance(
            with_limb_contrasts(outputs["pose"]), with_limb_contrasts(tgt["pose"])
        )
    w = weights.to_dict()
    total = sum(w[name] * value for name, value in terms.items())
    return total, {name: float(value.detach()) for name, value in terms.items()}


def training_loss(
    model: StickGenModel | torch.nn.Module,
    batch: dict[str, Tensor],
    stats: MotionStats,
    weights: LossWeights,
    draws: Draws,
) -> tuple[Tensor, dict[str, float]]:
    """One training pass: drop the plans and texts that `draws` says (so the model also learns
    to generate without a plan, and the unconditioned prediction that guidance needs), noise each
    clip to its time t and score the clean-clip prediction (`denoising_loss`)."""
    no_plan = getattr(model, "module", model).no_plan  # the model, or DDP around it
    plan = torch.where(draws.drop_plan[:, None], no_plan, batch["actions"])
    return denoising_loss(model, batch, stats, weights, plan, draws.t, draws.noise, draws.drop_text)


def denoising_loss(
    model: StickGenModel | torch.nn.Module,
    batch: dict[str, Tensor],
    stats: MotionStats,
    weights: LossWeights,
    plan: Tensor,
    t: Tensor,
    noise: Tensor,
    drop_text: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """The denoising objective: noise each clip's features to its time `t` `[B]` with `noise`,
    predict the clean clip from the text (hidden where `drop_text`) and `plan`, and score that
    prediction with `multitask_loss`."""
    tgt = targets(batch, stats)
    noisy = diffusion.add_noise(motion_features(tgt), t, noise)
    outputs = model(noisy, t, batch["text"], plan, drop_text)
    return multitask_loss(outputs, batch, stats, weights, tgt=tgt)
