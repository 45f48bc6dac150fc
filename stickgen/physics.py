"""The physics track: centre-of-mass velocity, acceleration and momentum derived from motion."""

from __future__ import annotations

import numpy as np

from stickgen.schema import FPS
from stickgen.skeleton import BODY_MASS, centre_of_mass


def physics_from_motion(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """float32 `[..., T, 6]` = vx, vy, ax, ay, px, py of the centre of mass.

    Velocity and acceleration are central finite differences in time (one-sided at the ends), in
    m/s and m/s^2; momentum is BODY_MASS times velocity, in kg*m/s. Works on `[T, 20]` or batches
    `[B, T, 20]`; clips shorter than 2 frames have zero velocity.
    """
    com = centre_of_mass(np.asarray(motion, dtype=np.float64))
    vel = np.zeros_like(com) if com.shape[-2] < 2 else np.gradient(com, 1.0 / fps, axis=-2)
    acc = np.gradient(vel, 1.0 / fps, axis=-2) if com.shape[-2] >= 2 else np.zeros_like(com)
    return np.concatenate([vel, acc, BODY_MASS * vel], axis=-1).astype(np.float32)
