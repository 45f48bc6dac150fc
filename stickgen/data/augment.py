"""Data augmentation of motion clips, vectorised over a batch: speed, position, scale, mirror.

Every augmentation returns a complete `ClipBatch` whose fields agree with its new motion:

- speed: the clip is re-timed by a factor f (f > 1 plays faster). New frame t shows original
  time t*f; when that runs past the end, the last pose is held (so a faster clip ends in a short
  freeze, a slower one is cropped). Motion is interpolated segment by segment (start points
  linearly, directions renormalised to the interpolated length) so bones keep their length and
  the figure stays connected; action labels and categorical face fields take the nearest frame,
  continuous face fields are interpolated, speech Hz is multiplied by f.
- position: a horizontal shift; y is untouched, so the ground stays at 0.
- scale: the figure and its travel scale by s about the ground point under its starting centre
  of mass. Segment lengths then differ from the canonical `SEGMENT_LENGTHS` by s, so validation
  checks lengths for constancy within a clip, never against the canonical values. The head's
  radius and offset are skeleton constants and do not scale: frames where that would sink the
  head below the ground (a small figure lying down) are raised just enough.
- mirror: `mirror_motion` about the starting centre of mass (x flip plus left/right limb swap);
  the figure faces the other way. Actions and face are unchanged: descriptions never name a side.

Physics is always recomputed from the new motion with `physics_from_motion`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stickgen.physics import physics_from_motion
from stickgen.schema import FPS
from stickgen.skeleton import (
    LEFT_ARM,
    RIGHT_ARM,
    TORSO,
    as_segments,
    centre_of_mass,
    lowest_point,
    mirror_motion,
)

AUGMENT_KINDS = ("speed", "position", "scale", "mirror")

# Columns of the face track [T, 7] by how they resample.
FACE_CATEGORICAL = (0, 1, 3, 5)  # expression, eye type, mouth shape, speaking
FACE_CONTINUOUS = (2, 4)  # eyebrow angle, mouth openness
FACE_SPEECH_HZ = 6

_SIDE_WORDS = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def mentions_side(text: str) -> bool:
    """True when a description names a side ("left", "right"), which mirroring would falsify."""
    return _SIDE_WORDS.search(text) is not None


@dataclass
class ClipBatch:
    """A batch of equally long clips with every per-frame field."""

    motion: np.ndarray  # float32 [B, T, 20]
    actions: np.ndarray  # int64 [B, T]
    physics: np.ndarray  # float32 [B, T, 6]
    face: np.ndarray  # float32 [B, T, 7]

    def __len__(self) -> int:
        return int(self.motion.shape[0])


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply (in this order) and the ranges their parameters come from."""

    kinds: tuple[str, ...] = AUGMENT_KINDS
    speed_range: tuple[float, float] = (0.8, 1.25)  # drawn log-uniformly
    shift_range: tuple[float, float] = (-1.5, 1.5)  # metres
    scale_range: tuple[float, float] = (0.85, 1.15)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in AUGMENT_KINDS]
        if unknown:
            raise ValueError(f"unknown augmentations {unknown}; expected some of {AUGMENT_KINDS}")
        if not 0 < self.speed_range[0] <= self.speed_range[1]:
            raise ValueError(f"bad speed range {self.speed_range}")
        if not 0 < self.scale_range[0] <= self.scale_range[1]:
            raise ValueError(f"bad scale range {self.scale_range}")

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) for key, value in asdict(self).items()}


def _anchor_x(motion: np.ndarray) -> np.ndarray:
    """x of each clip's centre of mass on its first frame, `[B]`."""
    return centre_of_mass(motion[:, 0].astype(np.float64))[..., 0]


def _rebuild(clips: ClipBatch, motion: np.ndarray, fps: float) -> ClipBatch:
    motion = motion.astype(np.float32)
    return ClipBatch(
        motion, clips.actions.copy(), physics_from_motion(motion, fps), clips.face.copy()
    )


def shift_position(clips: ClipBatch, shift: np.ndarray, fps: float = FPS) -> ClipBatch:
    """Move each clip horizontally by `shift[b]` metres."""
    motion = clips.motion.astype(np.float64)
    motion[..., 0::2] += np.asarray(shift, dtype=np.float64)[:, None, None]
    return _rebuild(clips, motion, fps)


def _lift_to_floor(motion: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Raise frames of `[B, T, 20]` motion (in place) whose lowest point sank below
    `min(floor, 0)` `[B, T]`: nothing ends up under the ground unless it already was."""
    lift = np.maximum(np.minimum(floor, 0.0) - lowest_point(motion), 0.0)
    motion[..., 1::2] += lift[..., None]
    return motion


def scale_figure(clips: ClipBatch, scale: np.ndarray, fps: float = FPS) -> ClipBatch:
    """Scale each clip by `scale[b]` about the ground point under its starting centre of mass.

    The head keeps its fixed size and offset (skeleton constants), so a figure shrunk while
    lying down would sink its head into the ground: such frames are raised just enough."""
    original = clips.motion.astype(np.float64)
    motion = original.copy()
    s = np.asarray(scale, dtype=np.float64)[:, None, None]
    anchor = _anchor_x(clips.motion)[:, None, None]
    motion[..., 0::2] = anchor + s * (motion[..., 0::2] - anchor)
    motion[..., 1::2] *= s
    return _rebuild(clips, _lift_to_floor(motion, lowest_point(original)), fps)


def mirror_clips(clips: ClipBatch, fps: float = FPS) -> ClipBatch:
    """Mirror each clip about the vertical through its starting centre of mass, swapping limbs."""
    anchor = _anchor_x(clips.motion)[:, None]
    return _rebuild(clips, mirror_motion(clips.motion.astype(np.float64), anchor), fps)


def _lerp(a: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-clip linear interpolation along time: a[b, i0[b, t]] .. a[b, i1[b, t]] with w[b, t]."""
    rows = np.arange(a.shape[0])[:, None]
    lo, hi = a[rows, i0], a[rows, i1]
    w = w.reshape(*w.shape, *([1] * (a.ndim - 2)))
    return lo + w * (hi - lo)


def _length(v: np.ndarray) -> np.ndarray:
    return np.sqrt(v[..., 0] ** 2 + v[..., 1] ** 2)


def _resample_motion(motion: np.ndarray, i0, i1, w) -> np.ndarray:
    """Interpolate motion in time keeping bones rigid and joints attached.

    Plain linear interpolation keeps the hip path and each bone's direction but shortens bones
    that rotate between the two frames; each bone is rescaled to its interpolated length along
    its interpolated direction, the neck moves with the torso and the arms hang on the new neck.
    """
    rows = np.arange(motion.shape[0])[:, None]
    source = motion.astype(np.float64)
    lo, hi = source[rows, i0], source[rows, i1]
    out = lo + w[..., None] * (hi - lo)
    seg = as_segments(out)  # a view: editing seg edits out
    vecs = seg[..., 1, :] - seg[..., 0, :]
    src_seg = as_segments(source)
    target = _lerp(_length(src_seg[..., 1, :] - src_seg[..., 0, :]), i0, i1, w)
    vecs *= (target / np.maximum(_length(vecs), 1e-9))[..., None]
    # The torso runs neck -> hip: keep the hip, move the neck, and the arms' roots with it.
    neck_shift = seg[..., TORSO, 1, :] - vecs[..., TORSO, :] - seg[..., TORSO, 0, :]
    for bone in (TORSO, LEFT_ARM, RIGHT_ARM):
        seg[..., bone, 0, :] += neck_shift
    seg[..., 1, :] = seg[..., 0, :] + vecs
    # Rescaled bones can dip a little below where the interpolated pose was.
    return _lift_to_floor(out, _lerp(lowest_point(source), i0, i1, w))


def change_speed(clips: ClipBatch, factor: np.ndarray, fps: float = FPS) -> ClipBatch:
    """Re-time each clip by `factor[b]` (> 1 faster), keeping its length; see the module doc."""
    factor = np.asarray(factor, dtype=np.float64)
    if np.any(factor <= 0):
        raise ValueError("speed factors must be positive")
    frames = clips.motion.shape[1]
    source = np.minimum(np.arange(frames)[None, :] * factor[:, None], frames - 1)  # [B, T]
    i0 = np.floor(source).astype(np.int64)
    i1 = np.minimum(i0 + 1, frames - 1)
    w = source - i0
    nearest = np.minimum(np.rint(source).astype(np.int64), frames - 1)
    rows = np.arange(len(clips))[:, None]

    motion = _resample_motion(clips.motion, i0, i1, w).astype(np.float32)
    actions = clips.actions[rows, nearest]
    face = clips.face[rows, nearest].copy()
    cont = list(FACE_CONTINUOUS)
    face[..., cont] = _lerp(clips.face[..., cont].astype(np.float64), i0, i1, w)
    face[..., FACE_SPEECH_HZ] *= factor[:, None]
    return ClipBatch(motion, actions, physics_from_motion(motion, fps), face)


def draw_parameters(kind: str, size: int, rng: np.random.Generator, config: AugmentConfig):
    """Random parameters `[size]` of one augmentation (None for mirror, which has none)."""
    if kind == "speed":
        lo, hi = np.log(config.speed_range)
        return np.exp(rng.uniform(lo, hi, size))
    if kind == "position":
        return rng.uniform(*config.shift_range, size)
    if kind == "scale":
        return rng.uniform(*config.scale_range, size)
    if kind == "mirror":
        return None
    raise ValueError(f"unknown augmentation {kind!r}")


def apply_augmentation(kind: str, clips: ClipBatch, params, fps: float = FPS) -> ClipBatch:
    """Apply one named augmentation with parameters from `draw_parameters`."""
    if kind == "speed":
        return change_speed(clips, params, fps)
    if kind == "position":
        return shift_position(clips, params, fps)
    if kind == "scale":
        return scale_figure(clips, params, fps)
    if kind == "mirror":
        return mirror_clips(clips, fps)
    raise ValueError(f"unknown augmentation {kind!r}")


def augment_batch(
    clips: ClipBatch,
    rng: np.random.Generator,
    config: AugmentConfig | None = None,
    fps: float = FPS,
) -> list[tuple[str, ClipBatch]]:
    """Every configured augmentation of every clip, in `config.kinds` order (deterministic)."""
    config = config or AugmentConfig()
    return [
        (kind, apply_augmentation(kind, clips, draw_parameters(kind, len(clips), rng, config), fps))
        for kind in config.kinds
    ]
