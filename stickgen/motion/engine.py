"""Scene plans -> motion: the procedural motion engine's entry points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stickgen.errors import StickGenError
from stickgen.motion.blend import pose_parameters
from stickgen.motion.kinematics import forward_kinematics
from stickgen.motion.style import draw_style
from stickgen.motion.timeline import build_timeline
from stickgen.physics import physics_from_motion
from stickgen.schema import FPS, MotionClip, Scene
from stickgen.skeleton import mirror_motion


def _motion(
    scenes: Sequence[Scene], actors: Sequence[int], fps: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """float32 motion `[B, T, 20]` and int64 labels `[B, T]`."""
    if isinstance(fps, bool) or not isinstance(fps, int | np.integer) or fps < 1:
        raise StickGenError(f"fps must be a positive whole number, not {fps!r}")
    timeline = build_timeline(scenes, actors, int(fps))
    style = draw_style(len(scenes), rng)
    params = pose_parameters(timeline, style, int(fps))
    motion = forward_kinematics(params, timeline.start_x, fps)
    flipped = timeline.facing < 0
    if flipped.any():
        motion[flipped] = mirror_motion(motion[flipped], timeline.start_x[flipped, None])
    return motion, timeline.labels


def synthesize_batch(
    scenes: Sequence[Scene], fps: int = FPS, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Motion of actor 0 of every scene: motion `[B, T, 20]` float32, actions `[B, T]` int64,
    physics `[B, T, 6]` float32.

    All scenes must have the same number of frames at `fps`. `rng` draws each clip's style
    (tempo, stride, amplitude, arm swing, posture, per-action pace, cycle phase) scene by scene
    in order, so the result equals calling `synthesize` on each scene in turn with the same
    generator; `rng=None` gives every clip the canonical style.
    """
    scenes = list(scenes)
    if not scenes:
        raise StickGenError("synthesize_batch needs at least one scene")
    lengths = {scene.num_frames(fps) for scene in scenes}
    if len(lengths) > 1:
        raise StickGenError(
            f"all scenes of a batch need the same duration; got {sorted(lengths)} frames"
        )
    motion, actions = _motion(scenes, [0] * len(scenes), fps, rng)
    return motion, actions, physics_from_motion(motion, fps)


def synthesize(
    scene: Scene, fps: int = FPS, rng: np.random.Generator | None = None, actor: int = 0
) -> MotionClip:
    """Motion of one actor of `scene` (style drawn from `rng` as one scene of a batch)."""
    motion, actions = _motion([scene], [actor], fps, rng)
    return MotionClip(motion[0], actions[0], physics_from_motion(motion[0], fps), fps)
