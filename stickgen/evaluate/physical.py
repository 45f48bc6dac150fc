"""Physical plausibility of motion, per clip: foot skating, ground penetration, floating, segment
length drift, jerk, stillness and the hip's wandering. Every function takes `[N, T, 20]` motion
in metres (y up, ground at y = 0) and returns one value per clip."""

from __future__ import annotations

import numpy as np

from stickgen.schema import FPS
from stickgen.skeleton import (
    CONTACT_HEIGHT,
    HEAD_OFFSET,
    HEAD_RADIUS,
    LEFT_LEG,
    RIGHT_LEG,
    TORSO,
    as_segments,
    foot_contact,
    foot_positions,
    lowest_point,
    segment_lengths,
)

SKATE_SPEED = 0.3  # body heights per second (0.52 m/s, 2 cm a frame at 25 fps, for 1.72 m)
STATIC_SPEED = 0.05  # m/s: mean joint speed under which a clip counts as static


def _clips(motion: np.ndarray) -> np.ndarray:
    motion = np.asarray(motion, dtype=np.float64)
    if motion.ndim != 3 or motion.shape[-1] != 20:
        raise ValueError(f"expected motion [N, T, 20], got {motion.shape}")
    return motion


def joints(motion: np.ndarray) -> np.ndarray:
    """The six distinct joints `[..., T, 6, 2]`: neck, hip, left hand, right hand, left foot,
    right foot."""
    seg = as_segments(np.asarray(motion))
    return np.concatenate([seg[..., 0, :, :], seg[..., 1:, 1, :]], axis=-2)


def body_height(motion: np.ndarray) -> np.ndarray:
    """Standing height `[N]` of each clip's figure: median leg + torso length + head."""
    lengths = np.median(segment_lengths(_clips(motion)), axis=1)  # [N, 5]
    legs = (lengths[:, LEFT_LEG] + lengths[:, RIGHT_LEG]) / 2
    return legs + lengths[:, TORSO] + HEAD_OFFSET + HEAD_RADIUS


def foot_skating_ratio(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Share of consecutive frame pairs in which a foot skates: it is within CONTACT_HEIGHT of
    the ground on both frames and its horizontal speed exceeds SKATE_SPEED body heights per
    second (either foot counts once per pair)."""
    motion = _clips(motion)
    if motion.shape[1] < 2:
        return np.zeros(len(motion))
    feet = foot_positions(motion)  # [N, T, 2, 2]
    contact = foot_contact(feet)
    speed = np.abs(np.diff(feet[..., 0], axis=1)) * fps
    limit = SKATE_SPEED * body_height(motion)[:, None, None]
    skating = (contact & (speed > limit)).any(axis=-1)
    return skating.mean(axis=1)


def ground_penetration(motion: np.ndarray) -> np.ndarray:
    """Mean depth (m) of the figure's lowest point below the ground, over frames (0 when no
    point ever goes below y = 0)."""
    return np.maximum(-lowest_point(_clips(motion)), 0.0).mean(axis=1)


def floating(motion: np.ndarray) -> np.ndarray:
    """Mean height (m) of the figure's lowest point above the contact band (CONTACT_HEIGHT),
    over frames: 0 while anything touches the ground."""
    return np.maximum(lowest_point(_clips(motion)) - CONTACT_HEIGHT, 0.0).mean(axis=1)


def segment_length_variation(motion: np.ndarray) -> np.ndarray:
    """Mean over the 5 segments of each segment's length std / mean over frames (0 for a
    rigid figure)."""
    lengths = segment_lengths(_clips(motion))  # [N, T, 5]
    return (lengths.std(axis=1) / np.maximum(lengths.mean(axis=1), 1e-6)).mean(axis=1)


def mean_jerk(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Mean magnitude (m/s^3) of the joints' jerk: the third finite difference of position times
    fps^3, averaged over joints and frames (0 for clips under 4 frames)."""
    motion = _clips(motion)
    if motion.shape[1] < 4:
        return np.zeros(len(motion))
    jerk = np.diff(joints(motion), n=3, axis=1) * fps**3
    return np.linalg.norm(jerk, axis=-1).mean(axis=(1, 2))


def hip_wander(motion: np.ndarray) -> np.ndarray:
    """The largest horizontal distance (m) of the hip from where the clip starts it `[N]`."""
    hip_x = joints(_clips(motion))[..., 1, 0]  # [N, T]
    return np.abs(hip_x - hip_x[:, :1]).max(axis=1)


def mean_joint_speed(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Mean joint speed (m/s) over joints and frames."""
    motion = _clips(motion)
    if motion.shape[1] < 2:
        return np.zeros(len(motion))
    return (np.linalg.norm(np.diff(joints(motion), axis=1), axis=-1) * fps).mean(axis=(1, 2))


def is_static(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """bool `[N]`: the clip's mean joint speed is under STATIC_SPEED."""
    return mean_joint_speed(motion, fps) < STATIC_SPEED
