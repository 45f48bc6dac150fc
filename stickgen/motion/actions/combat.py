"""Combat: punch, dodge, fight stance."""

from __future__ import annotations

import numpy as np

from stickgen.motion.actions.base import (
    PoseContext,
    apply_keys,
    key_table,
    pose,
    set_arms,
    shift_over_feet,
    staggered,
    standing,
    upright_torso,
)
from stickgen.motion.pose import ANGLE_CHANNELS, LEFT_LEG, RIGHT_LEG, TORSO, blank_pose
from stickgen.motion.primitives import deg, frac, sine
from stickgen.schema import ActionType

GUARD = (deg(125.0), deg(118.0))  # fists up in front of the face
JAB = deg(92.0)  # arm straight out at shoulder height


def jab_pulse(phase: np.ndarray, start: float, length: float = 0.22) -> np.ndarray:
    """0 -> 1 -> 0 over `length` of the cycle from `start`: a fast extension and retraction."""
    u = np.clip((phase - start) / length, 0.0, 1.0)
    return np.sin(np.pi * u) ** 2


@pose(ActionType.PUNCH)
def punch(ctx: PoseContext) -> np.ndarray:
    """Guard up, alternating straight jabs forward, leaning into each one."""
    p = standing(ctx)
    staggered(p, ctx, 15.0, 15.0)
    phase = frac(ctx.cycles(1.1))
    left, right = jab_pulse(phase, 0.0), jab_pulse(phase, 0.5)
    reach = ctx.amplitude
    set_arms(
        p,
        GUARD[0] + (JAB - GUARD[0]) * left * reach,
        GUARD[1] + (JAB - GUARD[1]) * right * reach,
    )
    p[:, TORSO] = upright_torso(ctx) + deg(8.0) + deg(5.0) * (left + right)
    return p


@pose(ActionType.FIGHT_STANCE)
def fight_stance(ctx: PoseContext) -> np.ndarray:
    """Guard arms up, staggered legs, bouncing lightly on the feet."""
    p = blank_pose(ctx.n)
    bounce = sine(ctx.cycles(1.8))
    stance = ctx.field("stance")
    p[:, LEFT_LEG] = deg(20.0) * stance + deg(3.0) * bounce
    p[:, RIGHT_LEG] = -deg(18.0) * stance - deg(3.0) * bounce
    p[:, TORSO] = upright_torso(ctx) + deg(8.0) + deg(1.5) * bounce
    sway = deg(4.0) * sine(ctx.cycles(0.9))
    set_arms(p, deg(130.0) + sway, deg(118.0) - sway)
    shift_over_feet(p, 0.02 * sine(ctx.cycles(0.45)))
    return p


DODGE_TIMES, DODGE_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 6, 60, 55, 10, -10],
        [0.15, -20, 90, 80, 22, -24],  # lean and step back
        [0.40, 6, 60, 55, 10, -10],
        [0.60, 38, 110, 100, 30, -28],  # duck
        [0.85, 6, 60, 55, 10, -10],
        [1.00, 6, 60, 55, 10, -10],
    ]
)


@pose(ActionType.DODGE)
def dodge(ctx: PoseContext) -> np.ndarray:
    """Lean and step back away from a blow, recover, then duck under the next one."""
    p = blank_pose(ctx.n)
    keyed = ctx.keyed(2.0, DODGE_TIMES, DODGE_KEYS)
    apply_keys(p, ANGLE_CHANNELS, keyed)
    back = np.clip((DODGE_KEYS[0, 0] - keyed[:, 0]) / (DODGE_KEYS[0, 0] - DODGE_KEYS[1, 0]), 0, 1)
    p[:, TORSO] += ctx.lean
    shift_over_feet(p, -0.2 * back)
    return p
