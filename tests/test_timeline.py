"""`stickgen.timeline`: a flickering per-frame action track becomes a few segments."""

from __future__ import annotations

import numpy as np

from stickgen.face import face_track
from stickgen.schema import ActionType
from stickgen.timeline import _runs, action_segments, describe, smoothed

WALK, WAVE, JUMP = (int(ActionType[name]) for name in ("WALK", "WAVE", "JUMP"))


def test_short_runs_fold_into_their_neighbours() -> None:
    track = [WALK] * 20 + [WAVE] * 3 + [WALK] * 10 + [JUMP] * 40 + [WAVE] * 2 + [WALK] * 25
    segments = action_segments(track, fps=25)  # runs under 0.4 s = 10 frames go
    assert [(s.action, s.start, s.end) for s in segments] == [
        ("walk", 0, 33),
        ("jump", 33, 75),
        ("walk", 75, 100),
    ]
    assert describe(segments, 25) == "walk 0.0-1.3s, jump 1.3-3.0s, walk 3.0-4.0s"
    assert segments[1].to_json(25) == {
        "action": "jump", "start_frame": 33, "end_frame": 75, "start": 1.32, "end": 3.0,
    }  # fmt: skip


def test_a_barcode_becomes_one_segment_and_steady_tracks_stay() -> None:
    barcode = [WALK, WAVE] * 30
    (only,) = action_segments(barcode, fps=25)
    assert (only.start, only.end) == (0, 60)
    steady = [WALK] * 30 + [JUMP] * 30
    assert [s.action for s in action_segments(steady, fps=25)] == ["walk", "jump"]
    assert action_segments([], fps=25) == []


def test_smoothed_track_has_the_segments_labels_and_calms_the_face() -> None:
    flicker = [WALK] * 20 + [WAVE, JUMP] * 3 + [WALK] * 20 + [WAVE] * 30
    track = smoothed(flicker, fps=25)
    assert track.shape == (len(flicker),)
    expected = [WALK] * 46 + [WAVE] * 30  # the 6 flickering frames join the longer walk
    assert track.tolist() == expected
    assert _changes(face_track(track, 25)) < _changes(face_track(flicker, 25))


def _changes(rows: np.ndarray) -> int:
    """Frames whose face differs from the frame before."""
    return int((np.abs(np.diff(rows, axis=0)).sum(axis=1) > 0).sum())


def _folded_one_by_one(actions: list[int], shortest: int) -> list[tuple[int, int, int]]:
    """The rule itself, run literally: find the shortest short run (the earliest of equals) by
    scanning every run, fold it, repeat."""
    runs = _runs(actions)
    while len(runs) > 1:
        short = [k for k, run in enumerate(runs) if run[2] - run[1] < shortest]
        if not short:
            break
        i = min(short, key=lambda k: (runs[k][2] - runs[k][1], k))
        left = runs[i - 1] if i > 0 else None
        right = runs[i + 1] if i + 1 < len(runs) else None
        if left is not None and right is not None and left[0] == right[0]:
            left[2] = right[2]
            del runs[i : i + 2]
            continue
        left_len = left[2] - left[1] if left is not None else -1
        right_len = right[2] - right[1] if right is not None else -1
        if left is not None and left_len >= right_len:
            left[2] = runs[i][2]
        else:
            right[1] = runs[i][1]
        del runs[i]
    return [tuple(run) for run in runs]


def test_segments_follow_the_rule_on_random_flickering_tracks() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        frames = int(rng.integers(0, 300))
        labels = rng.integers(0, int(rng.integers(1, 5)), size=frames)
        stay = rng.random(frames) < rng.random()  # from a barcode to long steady runs
        track = [int(x) for x in labels]
        for k in range(1, frames):
            if stay[k]:
                track[k] = track[k - 1]
        names = [a.name.lower() for a in ActionType]
        expected = [(names[a], s, e) for a, s, e in _folded_one_by_one(track, 10)]
        got = [(seg.action, seg.start, seg.end) for seg in action_segments(track, fps=25)]
        assert got == expected, track
