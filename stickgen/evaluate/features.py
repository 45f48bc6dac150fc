"""What the evaluator's networks see of a motion: per-frame features that ignore where on the
stage the figure stands."""

from __future__ import annotations

import numpy as np

from stickgen.schema import FPS
from stickgen.skeleton import as_segments

FRAME_FEATURES = 22  # 20 hip-relative coordinates + hip velocity (vx, vy)
VELOCITY_HALF_WINDOW = 2  # frames each side: velocity over 0.16 s at 25 fps, not one frame


def hip_track(motion: np.ndarray) -> np.ndarray:
    """The hip (end of the torso) `[..., T, 2]`."""
    return as_segments(np.asarray(motion))[..., 0, 1, :]


def hip_velocity(hip: np.ndarray, fps: float = FPS, half: int = VELOCITY_HALF_WINDOW) -> np.ndarray:
    """`[..., T, 2]` velocity (m/s) as the displacement between the frames `half` before and
    after each frame (clamped at the ends) over the time between them: steady for real motion,
    and frame-to-frame jitter does not dominate it."""
    first = np.repeat(hip[..., :1, :], half, axis=-2)
    last = np.repeat(hip[..., -1:, :], half, axis=-2)
    padded = np.concatenate([first, hip, last], axis=-2)
    frames = hip.shape[-2]
    return (padded[..., 2 * half :, :] - padded[..., :frames, :]) * (fps / (2 * half))


def frame_features(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """float32 `[..., T, 22]` for `[..., T, 20]` motion: every x relative to the hip's x (y stays
    absolute: height above the ground matters), then the hip's velocity (`hip_velocity`)."""
    motion = np.asarray(motion, dtype=np.float64)
    hip = hip_track(motion)
    relative = motion.copy()
    relative[..., 0::2] -= hip[..., 0:1]
    return np.concatenate([relative, hip_velocity(hip, fps)], axis=-1).astype(np.float32)
