"""Action metrics: does the motion do what the prompt's plan says, when it says it?

Labels are the per-frame `ActionType` indices the story engine plans for a prompt; predictions
come from the evaluator's action classifier run on the motion.
"""

from __future__ import annotations

import numpy as np

from stickgen.schema import NUM_ACTIONS

MIN_FRAMES = 5  # an action counts as performed when predicted on at least this many frames


def frame_accuracy(predicted: np.ndarray, planned: np.ndarray) -> float:
    """Share of frames whose predicted action equals the planned one."""
    predicted, planned = np.asarray(predicted), np.asarray(planned)
    if predicted.shape != planned.shape:
        raise ValueError(f"predicted {predicted.shape} and planned {planned.shape} differ")
    return float((predicted == planned).mean())


def confusion_matrix(
    predicted: np.ndarray, planned: np.ndarray, num_classes: int = NUM_ACTIONS
) -> np.ndarray:
    """int64 `[C, C]` frame counts: row = planned action, column = predicted action."""
    index = np.asarray(planned).ravel() * num_classes + np.asarray(predicted).ravel()
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, -1)


def planned_sequence(planned: np.ndarray) -> list[int]:
    """The plan's actions in time order with consecutive repeats collapsed."""
    planned = np.asarray(planned)
    if planned.size == 0:
        return []
    starts = np.concatenate([[True], planned[1:] != planned[:-1]])
    return [int(a) for a in planned[starts]]


def order_correct(
    predicted: np.ndarray, planned: np.ndarray, min_frames: int = MIN_FRAMES
) -> bool | None:
    """For a plan of two or more different actions in sequence, each used once: True when every
    planned action is predicted on at least `min_frames` frames and the mean frame index of
    each action's predicted frames increases in the plan's order. None when the plan has fewer
    than two actions or repeats one (no single order to check)."""
    sequence = planned_sequence(planned)
    if len(sequence) < 2 or len(set(sequence)) != len(sequence):
        return None
    frames = np.arange(len(predicted))
    centres = []
    for action in sequence:
        hits = frames[np.asarray(predicted) == action]
        if len(hits) < min_frames:
            return False
        centres.append(hits.mean())
    return bool(np.all(np.diff(centres) > 0))


def order_accuracy(predicted: np.ndarray, planned: np.ndarray) -> tuple[float | None, int]:
    """(share of checkable clips whose actions come in the planned order, clips checked); the
    share is None when no clip has a checkable multi-action plan."""
    checks = [order_correct(p, q) for p, q in zip(predicted, planned, strict=True)]
    checked = [c for c in checks if c is not None]
    return (float(np.mean(checked)) if checked else None), len(checked)
