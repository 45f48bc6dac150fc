"""The 5-segment stick figure: proportions, segment layout and derived quantities.

A motion frame is 20 floats: 5 segments x (x1, y1, x2, y2) in metres, y up, ground at y = 0, x to
the figure's front. Segment order and endpoints:

    0 torso      neck -> hip
    1 left arm   neck -> left hand
    2 right arm  neck -> right hand
    3 left leg   hip  -> left foot
    4 right leg  hip  -> right foot

The head is a circle of radius HEAD_RADIUS whose centre sits HEAD_OFFSET above the neck along the
torso axis (hip -> neck direction).
"""

from __future__ import annotations

import numpy as np

TORSO, LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG = range(5)
SEGMENT_NAMES = ("torso", "left_arm", "right_arm", "left_leg", "right_leg")

TORSO_LENGTH = 0.55
ARM_LENGTH = 0.70
LEG_LENGTH = 0.90
HEAD_RADIUS = 0.12
HEAD_OFFSET = 0.15  # neck to head centre
SEGMENT_LENGTHS = np.array(
    [TORSO_LENGTH, ARM_LENGTH, ARM_LENGTH, LEG_LENGTH, LEG_LENGTH], dtype=np.float32
)
BODY_HEIGHT = LEG_LENGTH + TORSO_LENGTH + HEAD_OFFSET + HEAD_RADIUS  # standing, 1.72 m
CONTACT_HEIGHT = 0.05  # m: a foot this close to the ground touches it

BODY_MASS = 70.0  # kg, used for momentum in the physics track
# Share of body mass per segment (head separately); each segment's mass sits at its midpoint.
SEGMENT_MASS_SHARE = np.array([0.50, 0.05, 0.05, 0.16, 0.16], dtype=np.float32)
HEAD_MASS_SHARE = 0.08

# Column permutation that swaps left and right limbs (used by mirror augmentation).
MIRROR_PERMUTATION = np.concatenate(
    [np.arange(4 * s, 4 * s + 4) for s in (TORSO, RIGHT_ARM, LEFT_ARM, RIGHT_LEG, LEFT_LEG)]
)


def as_segments(motion: np.ndarray) -> np.ndarray:
    """View `[..., 20]` motion as `[..., 5, 2, 2]` (segment, endpoint, xy)."""
    return motion.reshape(*motion.shape[:-1], 5, 2, 2)


def foot_positions(motion: np.ndarray) -> np.ndarray:
    """Where the feet are, `[..., 2, 2]` (left, right; xy): the far ends of the legs."""
    return as_segments(motion)[..., [LEFT_LEG, RIGHT_LEG], 1, :]


def foot_contact(feet: np.ndarray) -> np.ndarray:
    """bool `[..., T - 1, 2]` for `[..., T, 2, 2]` foot positions: the foot is within
    CONTACT_HEIGHT of the ground on a frame and on the one before it."""
    low = feet[..., 1] <= CONTACT_HEIGHT
    return low[..., 1:, :] & low[..., :-1, :]


def segment_lengths(motion: np.ndarray) -> np.ndarray:
    """Length of each segment, `[..., 5]`."""
    seg = as_segments(motion)
    return np.linalg.norm(seg[..., 1, :] - seg[..., 0, :], axis=-1)


def head_centre(motion: np.ndarray) -> np.ndarray:
    """Head centre `[..., 2]`: HEAD_OFFSET above the neck along the hip -> neck direction."""
    seg = as_segments(motion)
    neck, hip = seg[..., TORSO, 0, :], seg[..., TORSO, 1, :]
    axis = neck - hip
    length = np.sqrt(axis[..., 0:1] ** 2 + axis[..., 1:2] ** 2)  # faster than linalg.norm
    return neck + HEAD_OFFSET * (axis / np.maximum(length, 1e-6))


# [20, 2] weights: motion row -> mass-weighted sum of the segments' midpoints (one matmul, much
# faster than reducing over the small segment axes).
_MIDPOINT_WEIGHTS = np.kron(
    np.repeat(SEGMENT_MASS_SHARE.astype(np.float64) / 2, 2)[:, None], np.eye(2)
)


def centre_of_mass(motion: np.ndarray) -> np.ndarray:
    """Mass-weighted centre of the segments' midpoints and the head, `[..., 2]`."""
    motion = np.asarray(motion)
    weights = _MIDPOINT_WEIGHTS.astype(np.result_type(motion.dtype, np.float32), copy=False)
    body = motion @ weights
    return body + HEAD_MASS_SHARE * head_centre(motion)


def lowest_point(motion: np.ndarray) -> np.ndarray:
    """Lowest y of any segment endpoint or the head's bottom, `[...]` (0 when standing)."""
    ends = motion[..., 1::2].min(axis=-1)  # every endpoint's y
    return np.minimum(ends, head_centre(motion)[..., 1] - HEAD_RADIUS)


def mirror_motion(motion: np.ndarray, about_x: float | np.ndarray = 0.0) -> np.ndarray:
    """Mirror `[..., 20]` motion across the vertical line x = about_x and swap left/right limbs.

    `about_x` is a float or an array broadcastable to `motion.shape[:-1]`. The figure then faces
    the other way; applying it twice gives the original motion back.
    """
    out = np.array(motion[..., MIRROR_PERMUTATION], dtype=motion.dtype, copy=True)
    about = np.expand_dims(np.asarray(about_x, dtype=motion.dtype), -1)
    out[..., 0::2] = 2 * about - out[..., 0::2]
    return out
