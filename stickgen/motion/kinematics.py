"""Pose parameters -> the 5-segment figure: forward kinematics, ground contact and travel."""

from __future__ import annotations

import numpy as np

from stickgen.motion.pose import (
    GROUND,
    LEFT_ARM,
    LEFT_LEG,
    LIFT,
    RIGHT_ARM,
    RIGHT_LEG,
    SHIFT,
    SPEED,
    TORSO,
)
from stickgen.skeleton import ARM_LENGTH, HEAD_OFFSET, HEAD_RADIUS, LEG_LENGTH, TORSO_LENGTH


def forward_kinematics(params: np.ndarray, start_x: np.ndarray, fps: float) -> np.ndarray:
    """`[B, T, NUM_CHANNELS]` pose parameters -> `[B, T, 20]` motion.

    The root (hip) travels forward by the integrated SPEED from `start_x`, plus SHIFT. Its
    height puts the figure's lowest point (any endpoint or the bottom of the head) on the ground
    plus LIFT, mixed by GROUND with a plain hip height of LIFT; nothing ever goes below ground.
    Computed in float32 (the motion contract's type) on channel-first arrays, for speed.
    """
    channels = np.ascontiguousarray(np.moveaxis(params, -1, 0), dtype=np.float32)  # [C, B, T]
    torso = channels[TORSO]
    sin_t, cos_t = np.sin(torso), np.cos(torso)
    neck_x, neck_y = TORSO_LENGTH * sin_t, TORSO_LENGTH * cos_t
    hands = []
    for channel in (LEFT_ARM, RIGHT_ARM):
        world = channels[channel] - torso
        hands.append((neck_x + ARM_LENGTH * np.sin(world), neck_y - ARM_LENGTH * np.cos(world)))
    feet = []
    for channel in (LEFT_LEG, RIGHT_LEG):
        angle = channels[channel]
        feet.append((LEG_LENGTH * np.sin(angle), -LEG_LENGTH * np.cos(angle)))
    head_bottom = (TORSO_LENGTH + HEAD_OFFSET) * cos_t - HEAD_RADIUS
    lowest = np.minimum(np.minimum(neck_y, head_bottom), 0.0)
    for _, y in (*hands, *feet):
        np.minimum(lowest, y, out=lowest)
    hip_y = channels[GROUND] * -lowest + channels[LIFT]
    np.maximum(hip_y, -lowest, out=hip_y)

    speed = channels[SPEED]
    travel = (np.cumsum(speed, axis=-1) - speed) / np.float32(fps)
    hip_x = np.asarray(start_x, dtype=np.float32)[:, None] + travel + channels[SHIFT]

    neck = (hip_x + neck_x, hip_y + neck_y)
    hip = (hip_x, hip_y)
    columns = [*neck, *hip]
    for dx, dy in hands:
        columns += [*neck, hip_x + dx, hip_y + dy]
    for dx, dy in feet:
        columns += [*hip, hip_x + dx, hip_y + dy]
    motion = np.empty((20, *torso.shape), dtype=np.float32)
    for index, column in enumerate(columns):
        motion[index] = column
    return np.ascontiguousarray(np.moveaxis(motion, 0, -1))
