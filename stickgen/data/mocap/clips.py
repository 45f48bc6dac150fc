"""Time handling: resample a recording to the dataset frame rate, cut it into clips, pad."""

from __future__ import annotations

import numpy as np

from stickgen.errors import StickGenError


def resampled_length(frames: int, fps_in: float, fps_out: float) -> int:
    """Frames after resampling: the recording's duration (frames / fps_in) at fps_out."""
    return max(1, round(frames * fps_out / fps_in))


def resample(values: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Resample `[T, ...]` samples taken at `fps_in` to `fps_out` by linear interpolation in time.

    Output frame k is the value at time k / fps_out (times past the last input frame hold it), so
    a 3-s recording at 30 fps (90 frames) becomes 75 frames at 25 fps.
    """
    if fps_in <= 0 or fps_out <= 0:
        raise StickGenError(f"frame rates must be positive, got {fps_in} and {fps_out}")
    values = np.asarray(values, dtype=np.float64)
    count = resampled_length(values.shape[0], fps_in, fps_out)
    position = np.minimum(np.arange(count) * (fps_in / fps_out), values.shape[0] - 1)
    lo = np.floor(position).astype(np.int64)
    hi = np.minimum(lo + 1, values.shape[0] - 1)
    weight = (position - lo).reshape(-1, *([1] * (values.ndim - 1)))
    return values[lo] * (1 - weight) + values[hi] * weight


def clip_windows(
    frames: int, clip_frames: int, hop: int | None = None, min_frames: int = 1
) -> list[tuple[int, int]]:
    """`[start, stop)` windows of at most `clip_frames` every `hop` frames (default: no overlap).

    A trailing window shorter than `min_frames` is dropped unless it is the only one.
    """
    hop = hop or clip_frames
    if clip_frames < 1 or hop < 1:
        raise StickGenError("clip length and hop must be at least one frame")
    windows = []
    for start in range(0, max(frames, 1), hop):
        stop = min(start + clip_frames, frames)
        if windows and stop - start < min_frames:
            break
        windows.append((start, stop))
        if stop == frames:
            break
    return windows


def pad_hold(values: np.ndarray, frames: int) -> np.ndarray:
    """Pad `[T, ...]` to `frames` by holding the last frame (a still pose after the motion)."""
    values = np.asarray(values)
    if values.shape[0] >= frames:
        return values[:frames]
    tail = np.repeat(values[-1:], frames - values.shape[0], axis=0)
    return np.concatenate([values, tail], axis=0)
