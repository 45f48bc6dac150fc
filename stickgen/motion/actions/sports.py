"""Sports: kick, throw, catch, bat, pitch, dribble, shoot.

Over-arm throws rotate the arm backwards through a full turn (down, back, up, over the top,
forward); angles past -180 degrees are the same arm positions one turn on.
"""

from __future__ import annotations

import numpy as np

from stickgen.motion.actions.base import (
    PoseContext,
    apply_keys,
    key_table,
    pose,
    set_arms,
    set_lean_and_arms,
    staggered,
    standing,
    upright_torso,
)
from stickgen.motion.pose import (
    ANGLE_CHANNELS,
    LIFT,
    SHIFT,
    TORSO,
    blank_pose,
)
from stickgen.motion.primitives import (
    ballistic,
    deg,
    fitted_cycles,
    keyframes,
    sine,
    warp_flight,
)
from stickgen.schema import ActionType

KICK_TIMES, KICK_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 3, 8, 6, 6, -6],
        [0.25, -2, 40, -25, 4, -35],  # wind-up: kicking leg back
        [0.38, -14, 55, -45, -4, 85],  # strike: leg swings forward and up
        [0.50, -10, 45, -30, -3, 70],
        [0.75, 2, 15, 5, 5, 5],
        [1.00, 3, 8, 6, 6, -6],
    ]
)


@pose(ActionType.KICK)
def kick(ctx: PoseContext) -> np.ndarray:
    """Wind the right leg back, swing it forward and up, return; arms counterbalance."""
    p = blank_pose(ctx.n)
    apply_keys(p, ANGLE_CHANNELS, ctx.keyed(1.8, KICK_TIMES, KICK_KEYS))
    p[:, TORSO] += ctx.lean
    return p


THROW_TIMES, THROW_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.35, -8, 75, -115],  # wind-up: throwing arm back and up, other arm aims
        [0.50, 12, 20, -265],  # release over the top, in front
        [0.62, 18, 5, -320],  # follow-through
        [1.00, 0, 8, -354],
    ]
)


@pose(ActionType.THROW)
def throw(ctx: PoseContext) -> np.ndarray:
    """Over-arm throw with the right arm; the left arm points at the target."""
    p = standing(ctx)
    staggered(p, ctx, 10.0, 10.0)
    keyed = ctx.keyed(2.0, THROW_TIMES, THROW_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    return p


CATCH_TIMES, CATCH_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.25, 8, 100, 105],  # reach out
        [0.45, 8, 105, 110],  # waiting
        [0.55, -4, 45, 50],  # ball in: pull to the chest
        [0.80, 0, 40, 45],
        [1.00, 0, 8, 6],
    ]
)


@pose(ActionType.CATCH)
def catch(ctx: PoseContext) -> np.ndarray:
    """Both arms reach forward, then pull the ball in to the chest."""
    p = standing(ctx)
    staggered(p, ctx, 12.0, 8.0)
    keyed = ctx.keyed(2.2, CATCH_TIMES, CATCH_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    return p


BAT_TIMES, BAT_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.25, -5, -100, -105],  # hands cocked behind the back shoulder
        [0.45, -8, -110, -115],
        [0.55, 8, 20, 15],  # hands come through the zone
        [0.62, 12, 95, 90],  # contact, arms extended out front
        [0.72, 10, 150, 145],  # follow-through
        [1.00, 0, 8, 6],
    ]
)


@pose(ActionType.BAT)
def bat(ctx: PoseContext) -> np.ndarray:
    """Two-handed swing from behind the shoulder, through the zone and out front, from a wide
    stance (a level swing seen from the side)."""
    p = standing(ctx)
    staggered(p, ctx, 16.0, 16.0)
    keyed = ctx.keyed(2.4, BAT_TIMES, BAT_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    return p


PITCH_TIMES, PITCH_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 3, 8, 6, 6, -6],
        [0.20, 5, 60, 60, 4, -4],  # set: hands together at the chest
        [0.35, -5, 55, 55, 70, 0],  # leg lift
        [0.50, 0, 70, -120, 30, -25],  # stride, throwing arm back
        [0.62, 28, 10, -270, 35, -30],  # release in front
        [0.75, 35, 0, -335, 30, -45],  # follow-through
        [1.00, 3, 8, -354, 6, -6],
    ]
)
PITCH_STRIDE = 0.35  # metres the hip travels forward in the stride (then walks back)


@pose(ActionType.PITCH)
def pitch(ctx: PoseContext) -> np.ndarray:
    """Wind-up with a high leg lift, stride forward and throw over-arm, recover."""
    p = blank_pose(ctx.n)
    phase, _ = fitted_cycles(ctx.t, ctx.duration, 2.6 / ctx.tempo)
    keyed = keyframes(phase, PITCH_TIMES, PITCH_KEYS)
    keyed = PITCH_KEYS[0] + (keyed - PITCH_KEYS[0]) * ctx.amplitude[:, None]
    apply_keys(p, ANGLE_CHANNELS, keyed)
    p[:, TORSO] += ctx.lean
    stride = np.interp(phase, [0.0, 0.35, 0.62, 0.75, 1.0], [0.0, 0.0, 0.9, 1.0, 0.0])
    p[:, SHIFT] = PITCH_STRIDE * stride
    return p


@pose(ActionType.DRIBBLE)
def dribble(ctx: PoseContext) -> np.ndarray:
    """Slight crouch, right hand pumping the ball down at hip height, left arm guarding."""
    p = standing(ctx)
    staggered(p, ctx, 14.0, 14.0)
    p[:, TORSO] = upright_torso(ctx) + deg(14.0)
    pump = deg(35.0) + deg(14.0) * ctx.amplitude * sine(ctx.cycles(2.2))
    set_arms(p, deg(55.0), pump)
    return p


SHOOT_TIMES, SHOOT_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg (canonical flight 0.32-0.5)
        [0.00, 3, 8, 6, 6, -6],
        [0.20, 10, 75, 80, 22, 14],  # dip, ball at the chest
        [0.32, 2, 150, 160, 0, 0],  # rise and take off
        [0.41, 0, 165, 165, 0, 0],
        [0.50, 0, 160, 140, 0, 0],  # release: shooting hand flicks forward
        [0.62, 8, 120, 110, 15, 10],  # land
        [0.80, 4, 30, 30, 6, -6],
        [1.00, 3, 8, 6, 6, -6],
    ]
)
SHOOT_FLIGHT = 0.36
SHOOT_TAKEOFF = 0.32


@pose(ActionType.SHOOT)
def shoot(ctx: PoseContext) -> np.ndarray:
    """Basketball jump shot: dip, rise with the ball overhead, release at the top of a hop."""
    phase, period = fitted_cycles(ctx.t, ctx.duration, 2.0 / ctx.tempo)
    flight = np.minimum(SHOOT_FLIGHT, 0.3 * period)
    landing = SHOOT_TAKEOFF + flight / period
    canon = warp_flight(phase, SHOOT_TAKEOFF, landing, SHOOT_TAKEOFF, 0.5)
    p = blank_pose(ctx.n)
    apply_keys(p, ANGLE_CHANNELS, keyframes(canon, SHOOT_TIMES, SHOOT_KEYS))
    p[:, TORSO] += ctx.lean
    p[:, LIFT] = ballistic((phase - SHOOT_TAKEOFF) * period, flight)
    return p
