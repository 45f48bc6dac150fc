"""A per-frame action track as a few readable segments.

The learned model's action head predicts one label per frame; drawn as it is, a clip's track
flickers between neighbouring labels (a barcode). `action_segments` keeps the runs and folds
each run shorter than `min_seconds` into the longer of its neighbours, shortest first, so what
is left is what the model mostly predicted, when. The CLI and the web page show these segments,
and the faces of a model-drawn figure follow them (`smoothed`), so a face does not flicker either.
"""

from __future__ import annotations

import heapq
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
    neighbour unless the whole track is that short.

    The shortest run goes first (the earliest of equals): into both neighbours when they agree
    (one run across), else into the longer one (the left on a tie). The short runs wait in a
    heap keyed by (length, start), and the runs form a linked list, so a barcode of n runs
    takes O(n log n), not O(n^2).
    """
    runs = _runs([int(a) for a in actions])
    shortest = max(1, round(min_seconds * fps))
    left = list(range(-1, len(runs) - 1))  # neighbours' indices (-1 / len: none)
    right = list(range(1, len(runs) + 1))
    alive = [True] * len(runs)
    remaining = len(runs)
    queue = [(r[2] - r[1], r[1], i) for i, r in enumerate(runs) if r[2] - r[1] < shortest]
    heapq.heapify(queue)

    def unlink(i: int) -> None:
        nonlocal remaining
        alive[i] = False
        remaining -= 1
        if left[i] >= 0:
            right[left[i]] = right[i]
        if right[i] < len(runs):
            left[right[i]] = left[i]

    def grown(i: int) -> None:  # run i changed: queue it again while it is short
        length = runs[i][2] - runs[i][1]
        if length < shortest:
            heapq.heappush(queue, (length, runs[i][1], i))

    while remaining > 1 and queue:
        length, start, i = heapq.heappop(queue)
        if not alive[i] or (runs[i][2] - runs[i][1], runs[i][1]) != (length, start):
            continue  # merged away or changed since it was queued
        before = left[i] if left[i] >= 0 else None
        after = right[i] if right[i] < len(runs) else None
        if before is not None and after is not None and runs[before][0] == runs[after][0]:
            runs[before][2] = runs[after][2]  # the neighbours agree: one run across
            unlink(i)
            unlink(after)
            grown(before)
            continue
        before_len = runs[before][2] - runs[before][1] if before is not None else -1
        after_len = runs[after][2] - runs[after][1] if after is not None else -1
        if before is not None and before_len >= after_len:
            runs[before][2] = runs[i][2]
            grown(before)
        else:
            assert after is not None
            runs[after][1] = runs[i][1]
            grown(after)
        unlink(i)
    return [run for run, kept in zip(runs, alive, strict=True) if kept]


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
