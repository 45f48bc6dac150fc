"""Two figures doing something together meet at the right distance, whatever their style.

The story engine places actors so that a pair stands `Interaction.distance` apart when their
first interaction starts, counting on each actor's planned travel at the canonical pace. A clip
drawn with a random style (pace and stride vary by up to a fifth), or by the learned model, travels
a little more or less, and eases to a stop after it, so the partner's whole clip is shifted along
x to make the distance exact once the lead has settled (`SETTLE_SECONDS` into the interaction).
Shifting a clip changes no pose, velocity or label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stickgen.schema import Scene

HIP_X = 2  # column of the hip's x in a motion frame (torso segment, second end point)
SETTLE_SECONDS = 0.6  # a figure that walked up is still easing to a stop this long after


def bring_together(scene: Scene, motions: Sequence[np.ndarray], fps: int) -> list[np.ndarray]:
    """`[T, 20]` motion per actor, the partners of `scene.interactions` shifted (copies) so each
    pair is its distance apart, on the side its lead faces, when the pair first meets. An actor
    is moved at most once; the first actor of the scene never is."""
    out = [np.asarray(m) for m in motions]
    fixed = {0}
    for interaction in scene.interactions:
        a, b = interaction.actors
        if not (0 <= a < len(out) and 0 <= b < len(out)) or a == b:
            continue
        if b in fixed and a in fixed:
            continue
        lead, partner = (a, b) if b not in fixed else (b, a)
        if not len(out[lead]) or not len(out[partner]):
            continue
        settled = interaction.start + min(SETTLE_SECONDS, interaction.end - interaction.start)
        frame = min(max(round(settled * fps), 0), len(out[lead]) - 1, len(out[partner]) - 1)
        side = 1.0 if scene.actors[lead].facing > 0 else -1.0
        want = float(out[lead][frame, HIP_X]) + side * interaction.distance
        shift = np.float32(want - float(out[partner][frame, HIP_X]))
        moved = out[partner].copy()
        moved[:, 0::2] += shift
        out[partner] = moved
        fixed |= {lead, partner}
    return out
