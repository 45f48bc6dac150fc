"""A per-frame action track as a few readable segments.

The learned model's action head predicts one label per frame; drawn as it is, a clip's track
flickers between neighbouring labels (a barcode). `action_segments` keeps the runs and folds
each run shorter than `min_seconds` into the longer of its neighbours, shortest first, so what
is left is what the model mostly predicted, when. The CLI and the web page show these segments,
and the faces of a model-drawn figure follow them (`smoothed`), so a face does not flicker either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stickgen.schema import ActionType

MIN_SEGMENT_S = 0.4


@dataclass(frozen=True)
class Segment:
    action: str
    start: int  # first frame
    end: int  # frame after the last

    def to_json(self, fps: int) -> dict:
        return {
            "action": self.action,
            "start_frame": self.start,
            "end_frame": self.end,
            "start": round(self.start / fps, 3),
            "end": round(self.end / fps, 3),
        }


def _runs(labels: Sequence[int]) -> list[list[int]]:
    runs: list[list[int]] = []  # [label, start, end]
    for frame, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][2] = frame + 1
        else:
            runs.append([label, frame, frame + 1])
    return runs


def _merged_runs(actions: Sequence[int], fps: int, min_seconds: float) -> list[list[int]]:
    """`[label, start, end]` runs of the track, each shorter than `min_seconds` folded into a
    neighbour (shortest first) unless the whole track is that short."""
    runs = _runs([int(a) for a in actions])
    shortest = max(1, round(min_seconds * fps))
    while len(runs) > 1:
        short = [i for i, run in enumerate(runs) if run[2] - run[1] < shortest]
        if not short:
            break
        i = min(short, key=lambda k: (runs[k][2] - runs[k][1], k))
        left = runs[i - 1] if i > 0 else None
        right = runs[i + 1] if i + 1 < len(runs) else None
        if left is not None and right is not None and left[0] == right[0]:
            left[2] = right[2]  # the neighbours agree: one run across
            del runs[i : i + 2]
            continue
        left_len = left[2] - left[1] if left is not None else -1
        right_len = right[2] - right[1] if right is not None else -1
        if left is not None and left_len >= right_len:
            left[2] = runs[i][2]
        else:
            assert right is not None
            right[1] = runs[i][1]
        del runs[i]
    return runs


def action_segments(
    actions: Sequence[int], fps: int, min_seconds: float = MIN_SEGMENT_S
) -> list[Segment]:
    """Segments of a per-frame action track (`ActionType` indices), no run shorter than
    `min_seconds` unless the whole track is."""
    names = [a.name.lower() for a in ActionType]
    return [
        Segment(names[label], start, end)
        for label, start, end in _merged_runs(actions, fps, min_seconds)
    ]


def smoothed(actions: Sequence[int], fps: int, min_seconds: float = MIN_SEGMENT_S) -> np.ndarray:
    """int64 `[T]`: the action track redrawn from its `action_segments`, one label per frame."""
    track = np.empty(len(actions), dtype=np.int64)
    for label, start, end in _merged_runs(actions, fps, min_seconds):
        track[start:end] = label
    return track


def describe(segments: Sequence[Segment], fps: int) -> str:
    """`walk 0.0-2.4s, jump 2.4-3.0s`: segments on one line."""
    return ", ".join(f"{s.action} {s.start / fps:.1f}-{s.end / fps:.1f}s" for s in segments)
