"""Scene plans -> per-frame action tracks, and the runs (stretches of one action) in them."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stickgen.errors import StickGenError
from stickgen.schema import ACTION_SPECS, ActionType, Layer, Scene

_STILL = (ActionType.IDLE, ActionType.STAND)
MAX_SUPPORT = 1.0  # metres: the highest seat or bed a figure can sit or lie on


@dataclass(frozen=True)
class Timeline:
    """What each figure of a batch does on each frame."""

    body: np.ndarray  # [B, T] action driving legs, travel and (unless layered) arms
    upper: np.ndarray  # [B, T] upper-body action layered on top, -1 where none
    labels: np.ndarray  # [B, T] per-frame label, as `Scene.action_track`
    start_x: np.ndarray  # [B]
    facing: np.ndarray  # [B], +1 or -1
    support: np.ndarray | None = None  # [B, T] metres: seat or bed height under the figure


def _support(value: object) -> float:
    try:
        height = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StickGenError(f"segment support must be a height in metres, not {value!r}") from None
    if not 0.0 <= height <= MAX_SUPPORT:
        raise StickGenError(f"segment support must be 0 to {MAX_SUPPORT:g} m, not {height:g}")
    return height


def _action(value: object, where: str) -> ActionType:
    try:
        return ActionType(value)
    except ValueError:
        raise StickGenError(f"{where}: {value!r} is not an action") from None


def build_timeline(scenes: Sequence[Scene], actors: Sequence[int], fps: int) -> Timeline:
    """Per-frame tracks of `actors[i]` of `scenes[i]`; all scenes must have the same length.

    Frames follow `Scene.action_track`: frame i covers time (i + 0.5) / fps, a later segment
    overrides an earlier one, and uncovered frames are IDLE. When a still action (idle, stand)
    carries an upper action that is not an upper-body action, that action drives the whole body.
    """
    frames = scenes[0].num_frames(fps)
    if frames < 1:
        raise StickGenError(f"a scene of {scenes[0].duration} s has no frames at {fps} fps")
    times = ((np.arange(frames) + 0.5) / fps).tolist()
    count = len(scenes)
    body = np.full((count, frames), int(ActionType.IDLE), dtype=np.int64)
    upper = np.full((count, frames), -1, dtype=np.int64)
    labels = body.copy()
    support = np.zeros((count, frames))
    start_x = np.zeros(count)
    facing = np.ones(count, dtype=np.int64)
    for row, (scene, index) in enumerate(zip(scenes, actors, strict=True)):
        if not 0 <= index < len(scene.actors):
            raise StickGenError(f"scene {scene.description!r} has no actor {index}")
        actor = scene.actors[index]
        if actor.facing not in (1, -1):
            raise StickGenError(f"actor facing must be +1 or -1, not {actor.facing!r}")
        start_x[row], facing[row] = float(actor.start_x), actor.facing
        for seg in actor.segments:
            main = _action(seg.action, "segment action")
            layered = -1 if seg.upper is None else int(_action(seg.upper, "upper action"))
            if main in _STILL and layered >= 0 and ACTION_SPECS[layered].layer != Layer.UPPER:
                main, layered = ActionType(layered), -1
            lo, hi = bisect_left(times, seg.start), bisect_left(times, seg.end)
            body[row, lo:hi] = main
            upper[row, lo:hi] = layered
            labels[row, lo:hi] = int(seg.label)
            support[row, lo:hi] = _support(getattr(seg, "support", 0.0))
    return Timeline(body, upper, labels, start_x, facing, support)


@dataclass(frozen=True)
class Runs:
    """The runs (maximal stretches of one value) of each row of a `[B, T]` track."""

    run_id: np.ndarray  # [B, T] which run of its row each frame is in
    start: np.ndarray  # [B, R] first frame of each run; the frame count past a row's last run
    value: np.ndarray  # [B, R] the track's value in each run; -1 past a row's last run
    count: np.ndarray  # [B] runs per row
    frame_start: np.ndarray  # [B, T] first frame of each frame's run
    frame_end: np.ndarray  # [B, T] one past the last frame of each frame's run
    frame_prev: np.ndarray  # [B, T] value of the run before each frame's run, -1 if none

    @classmethod
    def of(cls, track: np.ndarray, breaks: np.ndarray | None = None) -> Runs:
        """Runs of `track`; `breaks` `[B, T]` marks frames that start a run even when the value
        stays the same (a sit on the floor followed by a sit on a bench)."""
        rows, frames = track.shape
        change = np.ones(track.shape, dtype=bool)
        change[:, 1:] = track[:, 1:] != track[:, :-1]
        if breaks is not None:
            change |= breaks
        run_id = np.cumsum(change, axis=1) - 1
        count = run_id[:, -1] + 1
        start = np.full((rows, int(count.max())), frames)
        value = np.full(start.shape, -1, dtype=track.dtype)
        b, f = np.nonzero(change)
        start[b, run_id[b, f]] = f
        value[b, run_id[b, f]] = track[b, f]
        index = np.arange(frames)
        frame_start = np.maximum.accumulate(np.where(change, index, 0), axis=1)
        next_start = np.full(track.shape, frames)
        next_start[:, :-1] = np.where(change[:, 1:], index[1:], frames)
        frame_end = np.minimum.accumulate(next_start[:, ::-1], axis=1)[:, ::-1]
        before = np.take_along_axis(track, np.maximum(frame_start - 1, 0), axis=1)
        frame_prev = np.where(frame_start > 0, before, -1)
        return cls(run_id, start, value, count, frame_start, frame_end, frame_prev)

    def end(self) -> np.ndarray:
        """[B, R] one past the last frame of each run."""
        frames = self.run_id.shape[1]
        return np.concatenate([self.start[:, 1:], np.full((len(self.start), 1), frames)], 1)

    def previous_value(self) -> np.ndarray:
        """[B, R] value of the run before each run, -1 for first runs."""
        return np.concatenate([np.full((len(self.value), 1), -1), self.value[:, :-1]], axis=1)
