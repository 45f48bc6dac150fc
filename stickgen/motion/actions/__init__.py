"""The action library: one vectorised pose function per action, and their evaluation."""

from __future__ import annotations

import numpy as np

from stickgen.motion.actions import combat, everyday, locomotion, social, sports
from stickgen.motion.actions.base import POSES, PoseContext
from stickgen.motion.pose import NUM_CHANNELS
from stickgen.motion.style import Style
from stickgen.schema import NUM_ACTIONS, ActionType

_MODULES = (locomotion, social, sports, combat, everyday)
_MISSING = set(ActionType) - set(POSES)
if _MISSING:
    raise RuntimeError(f"actions without a pose function: {sorted(a.name for a in _MISSING)}")


def evaluate_poses(
    actions: np.ndarray,
    t: np.ndarray,
    duration: np.ndarray,
    prev: np.ndarray,
    rows: np.ndarray,
    style: Style,
    support: np.ndarray | None = None,
) -> np.ndarray:
    """Pose parameters `[n, NUM_CHANNELS]` for `n` frames of any mix of actions.

    Frames are grouped by action and each group goes through its pose function at once.
    `support` gives each frame's seat or bed height in metres (0, the ground, when None).
    """
    if support is None:
        support = np.zeros(len(actions))
    order = np.argsort(actions, kind="stable")
    columns = (actions, t, duration, prev, rows, support)
    sorted_actions, t, duration, prev, rows, support = (a[order] for a in columns)
    bounds = np.searchsorted(sorted_actions, np.arange(NUM_ACTIONS + 1))
    posed = np.empty((len(actions), NUM_CHANNELS))
    for action in ActionType:
        lo, hi = bounds[action], bounds[action + 1]
        if lo < hi:
            part = slice(lo, hi)
            ctx = PoseContext(
                action, t[part], duration[part], prev[part], rows[part], style, support[part]
            )
            posed[part] = POSES[action](ctx)
    out = np.empty_like(posed)
    out[order] = posed
    return out


__all__ = ["POSES", "PoseContext", "evaluate_poses"]
