"""3D joint positions -> the 5-segment side-view stick figure.

Conventions (see DESIGN.md section 2): x to the front, y up, metres, ground at y = 0.

* **Up axis**: given by the format (BVH and DeepMimic Y-up, AMASS Z-up, HumanML3D joints Y-up);
  `detect_up` overrides the hint only when the data clearly says otherwise (the pelvis -> neck
  direction averages > 0.8 along another axis while the hinted axis gets < 0.5).
* **Facing**: per frame, forward = up x (right hip - left hip), flattened to the ground plane.
  The clip's facing axis is the principal axis of those directions (so a person who walks away,
  turns and walks back keeps one axis), oriented so that the figure faces +x during the clip's
  first second. It is a fixed side camera: someone who turns around travels toward -x.
* **Projection**: horizontal = position along the facing axis relative to the pelvis at the
  clip's first frame (travel preserved), vertical = height.
* **Scale**: one factor per recording, LEG_LENGTH / (thigh + shin) of the capture skeleton, turns
  capture units into the design's proportions; it multiplies travel too.
* **Segments**: every segment gets the canonical length of `stickgen.skeleton`. The torso and
  arms keep the direction of their projected 3D counterparts (pelvis -> neck, neck -> wrist). A
  limb is one straight segment, so elbow and knee bend and out-of-plane motion, which shorten the
  real projected limb, are lost. A straight leg keeps its hip -> ankle direction. A bent leg
  would then put the foot far below the real ankle (a crouch turns into standing on one leg, a
  swing foot scrapes the ground), so as the leg's 3D extension (pelvis -> ankle over the
  recording's straight-leg reach) falls from BENT_FROM to BENT_FULLY the leg's angle moves to the
  one that puts the foot at the real ankle's *height*, reaching forward or back like the ankle
  and knee. The blend keeps near-straight legs stable (height alone is ill-conditioned there).
* **Ground**: the hip is at its scaled capture height above the ground; the ground is the
  lowest ankle over the clip's stance frames (an ankle slower than STANCE_SPEED). Ankle heights
  are clamped at 0, and a per-frame lift puts the lower foot at its capture height when a leg
  cannot reach it, so stance feet sit at y = 0, jumps keep their flight and no endpoint or the
  head goes below y = 0. (A single per-clip offset cannot do this with constant-length legs: a
  crouch lowers the hip but not the leg.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stickgen.data.mocap.skeletons import (
    LEFT_FOOT,
    LEFT_HAND,
    LEFT_HIP,
    LEFT_KNEE,
    NECK,
    PELVIS,
    RIGHT_FOOT,
    RIGHT_HAND,
    RIGHT_HIP,
    RIGHT_KNEE,
)
from stickgen.errors import StickGenError
from stickgen.skeleton import ARM_LENGTH, LEG_LENGTH, TORSO_LENGTH, lowest_point

STANCE_SPEED = 0.4  # m/s (after scaling): an ankle slower than this is on the ground
BENT_FROM = 0.95  # leg extension (pelvis -> ankle / straight reach) below which a leg is bent
BENT_FULLY = 0.7  # extension at which the foot follows the ankle's height alone


@dataclass(frozen=True)
class Projection:
    """What `project_clip` decided for one clip (kept for the manifest and for checks)."""

    facing: np.ndarray  # [3] unit vector in the capture's world, horizontal
    up: np.ndarray  # [3] unit vector
    scale: float  # metres of stick figure per capture unit
    ground: float  # capture height (along up) of the ground level


def unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Normalize `[..., n]` vectors; near-zero ones become `fallback`."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(norm > 1e-9, v / np.maximum(norm, 1e-12), fallback)


def detect_up(roles: np.ndarray, hint: int | None = None) -> np.ndarray:
    """The world's up unit vector from the pelvis -> neck direction, or the format's hint axis."""
    torso = unit(roles[:, NECK] - roles[:, PELVIS], np.zeros(3)).mean(axis=0)
    axis = int(np.argmax(np.abs(torso)))
    up = np.zeros(3)
    if hint is not None and not (abs(torso[axis]) > 0.8 and abs(torso[hint]) < 0.5):
        up[hint] = 1.0
    else:
        up[axis] = np.sign(torso[axis]) or 1.0
    return up


def facing_axis(roles: np.ndarray, up: np.ndarray, fps: float) -> np.ndarray:
    """The clip's horizontal facing axis (see the module docstring)."""
    across = roles[:, RIGHT_HIP] - roles[:, LEFT_HIP]
    forward = np.cross(up, across)
    forward -= np.outer(forward @ up, up)
    norm = np.linalg.norm(forward, axis=-1)
    valid = norm > 1e-9
    if not valid.any():
        travel = roles[-1, PELVIS] - roles[0, PELVIS]
        travel -= (travel @ up) * up
        if np.linalg.norm(travel) > 1e-9:
            return travel / np.linalg.norm(travel)
        return unit(np.cross(up, np.roll(up, 1)), np.zeros(3))
    directions = forward[valid] / norm[valid, None]
    _, vectors = np.linalg.eigh(directions.T @ directions)
    axis = vectors[:, -1] - (vectors[:, -1] @ up) * up
    axis /= np.linalg.norm(axis)
    start = directions[: max(1, round(fps))].mean(axis=0)
    return -axis if start @ axis < 0 else axis


def leg_length(roles: np.ndarray) -> float:
    """Capture leg length: median thigh + shin over frames and sides (pelvis -> ankle reach
    when there are no knees)."""
    legs = []
    for hip, knee, foot in ((LEFT_HIP, LEFT_KNEE, LEFT_FOOT), (RIGHT_HIP, RIGHT_KNEE, RIGHT_FOOT)):
        if np.all(np.isfinite(roles[:, knee])):
            thigh = np.linalg.norm(roles[:, knee] - roles[:, hip], axis=-1)
            shin = np.linalg.norm(roles[:, foot] - roles[:, knee], axis=-1)
            legs.append(np.median(thigh + shin))
        else:
            reach = np.linalg.norm(roles[:, foot] - roles[:, PELVIS], axis=-1)
            legs.append(np.percentile(reach, 95))
    length = float(np.mean(legs))
    if not np.isfinite(length) or length <= 0:
        raise StickGenError("the capture's legs have zero length; cannot scale the figure")
    return length


def body_scale(roles: np.ndarray) -> float:
    """Metres of stick figure per capture unit: LEG_LENGTH / capture leg length."""
    return LEG_LENGTH / leg_length(roles)


def _stance_ground(heights: np.ndarray, feet: np.ndarray, scale: float, fps: float) -> float:
    """Capture height of the ground: the lowest ankle over frames where that ankle is still."""
    lower = np.argmin(heights, axis=1)
    frames = np.arange(heights.shape[0])
    if heights.shape[0] > 1:
        speed = np.linalg.norm(np.gradient(feet, axis=0), axis=-1) * fps * scale
        still = speed[frames, lower] < STANCE_SPEED
    else:
        still = np.ones(1, dtype=bool)
    low = heights[frames, lower]
    return float(low[still].min() if still.any() else low.min())


def project_clip(
    roles: np.ndarray, up: np.ndarray, scale: float, fps: float, reach: float | None = None
) -> tuple[np.ndarray, Projection]:
    """Role positions `[T, R, 3]` (capture units) -> motion float32 `[T, 20]` and the choices.

    `reach` is the recording's straight-leg reach (`leg_reach`); by default the clip's own.
    """
    roles = np.asarray(roles, dtype=np.float64)
    facing = facing_axis(roles, up, fps)
    feet3d = roles[:, [LEFT_FOOT, RIGHT_FOOT]]
    ground = _stance_ground(feet3d @ up, feet3d, scale, fps)
    origin = roles[0, PELVIS] + (ground - roles[0, PELVIS] @ up) * up
    plane = np.stack([(roles - origin) @ facing, (roles - origin) @ up], axis=-1) * scale

    down, upward = np.array([0.0, -1.0]), np.array([0.0, 1.0])
    hip = plane[:, PELVIS]
    neck = hip + TORSO_LENGTH * unit(plane[:, NECK] - hip, upward)
    hands = [
        neck + ARM_LENGTH * unit(plane[:, j] - plane[:, NECK], down)
        for j in (LEFT_HAND, RIGHT_HAND)
    ]
    reach = leg_reach(roles) if reach is None else reach
    extension = np.linalg.norm(feet3d - roles[:, [PELVIS]], axis=-1) / reach
    feet = [
        _leg(plane, hip, extension[:, side], foot, knee)
        for side, (foot, knee) in enumerate(((LEFT_FOOT, LEFT_KNEE), (RIGHT_FOOT, RIGHT_KNEE)))
    ]
    motion = np.concatenate(
        [neck, hip, neck, hands[0], neck, hands[1], hip, feet[0], hip, feet[1]], axis=-1
    )
    target = np.maximum(plane[:, [LEFT_FOOT, RIGHT_FOOT], 1].min(axis=1), 0.0)
    offset = target - np.minimum(motion[:, 15], motion[:, 19])
    offset += np.maximum(-lowest_point(motion + _lift(offset)), 0.0)  # hands and head too
    motion = motion + _lift(offset)
    return motion.astype(np.float32), Projection(facing, up, float(scale), ground)


def leg_reach(roles: np.ndarray) -> float:
    """Capture distance pelvis -> ankle with the leg straight (95th percentile over frames)."""
    reach = np.linalg.norm(roles[:, [LEFT_FOOT, RIGHT_FOOT]] - roles[:, [PELVIS]], axis=-1)
    return float(np.percentile(reach, 95))


def _leg(
    plane: np.ndarray, hip: np.ndarray, extension: np.ndarray, foot: int, knee: int
) -> np.ndarray:
    """Foot `[T, 2]` of one leg; see the module docstring."""
    leg = plane[:, foot] - hip
    straight_angle = np.arctan2(leg[:, 0], -leg[:, 1])  # from straight down, + = forward
    drop = np.clip(hip[:, 1] - np.maximum(plane[:, foot, 1], 0.0), -LEG_LENGTH, LEG_LENGTH)
    lean = leg[:, 0]
    if np.all(np.isfinite(plane[:, knee])):
        lean = lean + 0.5 * (plane[:, knee, 0] - hip[:, 0])
    reach = np.where(lean < 0, -1.0, 1.0) * np.sqrt(np.maximum(LEG_LENGTH**2 - drop**2, 0.0))
    bent_angle = np.arctan2(reach, drop)
    bend = np.clip((BENT_FROM - extension) / (BENT_FROM - BENT_FULLY), 0.0, 1.0)
    angle = (1 - bend) * straight_angle + bend * bent_angle
    return hip + LEG_LENGTH * np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def _lift(offset: np.ndarray) -> np.ndarray:
    """`[T, 20]` that adds `offset[t]` to every y coordinate."""
    lift = np.zeros((offset.shape[0], 20))
    lift[:, 1::2] = offset[:, None]
    return lift
