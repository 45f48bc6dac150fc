"""Social and emotional actions: wave, talk, shout, whisper, sing, point, clap, laugh, cry, bow,
shrug, celebrate, dance, and the ones two people do together: hug, handshake, high five. The
upper-body ones stand on relaxed legs.

The gestures two people share (handshake, high five) keep time by the segment's own clock, with no
per-clip tempo or phase, so two figures whose segments start together pump and slap together.
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
    set_legs,
    shift_over_feet,
    standing,
    upright_torso,
)
from stickgen.motion.pose import (
    ANGLE_CHANNELS,
    LEFT_ARM,
    LIFT,
    RIGHT_ARM,
    SHIFT,
    TORSO,
    blank_pose,
)
from stickgen.motion.primitives import deg, fitted_cycles, hops, keyframes, sine
from stickgen.schema import ActionType


@pose(ActionType.WAVE)
def wave(ctx: PoseContext) -> np.ndarray:
    """Right arm raised high, waving to and fro."""
    p = standing(ctx)
    p[:, RIGHT_ARM] = deg(150.0) + deg(20.0) * ctx.amplitude * sine(ctx.cycles(1.8))
    return p


@pose(ActionType.TALK)
def talk(ctx: PoseContext) -> np.ndarray:
    """Small, irregular hand gestures in front of the body and a slight nod."""
    p = standing(ctx)
    c, a = ctx.cycles(1.0), ctx.amplitude
    p[:, LEFT_ARM] = deg(42.0) + deg(12.0) * a * sine(1.2 * c) + deg(5.0) * sine(2.3 * c + 0.2)
    p[:, RIGHT_ARM] = deg(52.0) + deg(14.0) * a * sine(0.9 * c + 0.35) + deg(6.0) * sine(1.9 * c)
    p[:, TORSO] += deg(1.5) * sine(1.5 * c)
    return p


@pose(ActionType.SHOUT)
def shout(ctx: PoseContext) -> np.ndarray:
    """Leaning in with both arms thrust out forward, pulsing with each shout."""
    p = standing(ctx)
    pulse = np.maximum(0.0, sine(ctx.cycles(1.5))) ** 2
    p[:, TORSO] = upright_torso(ctx) + deg(12.0) + deg(4.0) * pulse
    lift = deg(12.0) * ctx.amplitude * pulse
    set_arms(p, deg(88.0) + lift, deg(108.0) + lift)
    return p


@pose(ActionType.WHISPER)
def whisper(ctx: PoseContext) -> np.ndarray:
    """Leaning in with one hand raised beside the mouth."""
    p = standing(ctx)
    p[:, TORSO] = upright_torso(ctx) + deg(15.0) + deg(1.0) * sine(ctx.cycles(0.5))
    p[:, RIGHT_ARM] = deg(138.0) + deg(3.0) * sine(ctx.cycles(0.7))
    p[:, LEFT_ARM] = deg(12.0) + ctx.arm_rest
    return p


@pose(ActionType.SING)
def sing(ctx: PoseContext) -> np.ndarray:
    """Chest open and leaning back, arms spread wide, swaying slowly."""
    p = standing(ctx)
    sway = ctx.amplitude * sine(ctx.cycles(0.5))
    p[:, TORSO] = upright_torso(ctx) - deg(6.0) + deg(4.0) * sway
    set_arms(p, deg(118.0) + deg(10.0) * sway, deg(68.0) - deg(10.0) * sway)
    return p


@pose(ActionType.POINT)
def point(ctx: PoseContext) -> np.ndarray:
    """Right arm held straight out forward."""
    p = standing(ctx)
    p[:, TORSO] += deg(4.0)
    p[:, RIGHT_ARM] = deg(92.0)
    return p


@pose(ActionType.CLAP)
def clap(ctx: PoseContext) -> np.ndarray:
    """Both hands in front, meeting again and again."""
    p = standing(ctx)
    spread = deg(12.0) * ctx.amplitude * np.abs(np.sin(np.pi * ctx.cycles(2.4)))
    set_arms(p, deg(75.0) + spread, deg(75.0) - spread)
    return p


@pose(ActionType.LAUGH)
def laugh(ctx: PoseContext) -> np.ndarray:
    """Hands on the belly, torso bobbing with each burst and rocking slowly."""
    p = standing(ctx)
    burst = np.abs(np.sin(np.pi * ctx.cycles(2.2)))
    rock = sine(ctx.cycles(0.35))
    p[:, TORSO] = upright_torso(ctx) - deg(4.0) + deg(7.0) * ctx.amplitude * burst + deg(6.0) * rock
    set_arms(p, deg(28.0) + deg(3.0) * burst, deg(32.0) + deg(3.0) * burst)
    return p


@pose(ActionType.CRY)
def cry(ctx: PoseContext) -> np.ndarray:
    """Slumped, both hands over the face, shoulders shaking."""
    p = standing(ctx)
    shake = sine(ctx.cycles(4.5))
    p[:, TORSO] = upright_torso(ctx) + deg(24.0) + deg(2.0) * shake
    set_arms(p, deg(160.0) + deg(3.0) * shake, deg(168.0) + deg(3.0) * shake)
    return p


BOW_TIMES, BOW_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 3, 8, 6, 3, -3],
        [0.30, 78, 6, 4, 3, -3],
        [0.55, 80, 6, 4, 3, -3],
        [0.85, 3, 8, 6, 3, -3],
        [1.00, 3, 8, 6, 3, -3],
    ]
)


@pose(ActionType.BOW)
def bow(ctx: PoseContext) -> np.ndarray:
    """Bend forward about 80 degrees, arms along the body, hips back; hold; rise."""
    p = blank_pose(ctx.n)
    keyed = ctx.keyed(3.2, BOW_TIMES, BOW_KEYS)
    apply_keys(p, ANGLE_CHANNELS, keyed)
    bend = (keyed[:, 0] - BOW_KEYS[0, 0]) / (BOW_KEYS[2, 0] - BOW_KEYS[0, 0])
    shift_over_feet(p, -0.13 * bend)
    p[:, TORSO] += ctx.lean
    return p


SHRUG_TIMES, SHRUG_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.30, -4, 48, 52],
        [0.55, -4, 50, 54],
        [0.85, 0, 8, 6],
        [1.00, 0, 8, 6],
    ]
)


@pose(ActionType.SHRUG)
def shrug(ctx: PoseContext) -> np.ndarray:
    """Arms lift outward (palms up) and drop again, over and over."""
    p = standing(ctx)
    keyed = ctx.keyed(1.5, SHRUG_TIMES, SHRUG_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    return p


@pose(ActionType.CELEBRATE)
def celebrate(ctx: PoseContext) -> np.ndarray:
    """Both arms up and pumping while hopping on the spot."""
    p = blank_pose(ctx.n)
    period = 0.62 / ctx.tempo
    c = ctx.t / period + ctx.phase
    pump = deg(14.0) * ctx.amplitude * sine(c)
    p[:, TORSO] = upright_torso(ctx) - deg(4.0)
    set_arms(p, deg(160.0) + pump, deg(165.0) - pump)
    set_legs(p, deg(4.0), deg(-4.0))
    p[:, LIFT] = hops(c, period, np.minimum(0.3, 0.7 * period))
    return p


@pose(ActionType.DANCE)
def dance(ctx: PoseContext) -> np.ndarray:
    """To a 120 bpm beat: arms pumping in turn, stepping, hips swaying, a bounce on each beat."""
    p = blank_pose(ctx.n)
    beat = ctx.cycles(2.0)
    bar = 0.5 * beat
    a = ctx.amplitude
    set_arms(p, deg(100.0) + deg(60.0) * a * sine(bar), deg(100.0) - deg(60.0) * a * sine(bar))
    step = deg(14.0) * ctx.field("stance") * sine(bar + 0.25)
    set_legs(p, step, -step)
    p[:, TORSO] = upright_torso(ctx) + deg(3.0) + deg(6.0) * a * sine(beat)
    p[:, SHIFT] = 0.07 * sine(0.25 * beat)
    p[:, LIFT] = hops(beat, 0.5 / ctx.tempo, 0.12)
    return p


@pose(ActionType.HUG)
def hug(ctx: PoseContext) -> np.ndarray:
    """Both arms reach forward round the other person at chest height, leaning in a little and
    rocking gently; the right hand pats the back."""
    p = standing(ctx)
    rock = sine(0.4 * ctx.t)
    pat = deg(5.0) * np.maximum(0.0, sine(1.6 * ctx.t)) ** 2
    p[:, TORSO] = upright_torso(ctx) + deg(6.0) + deg(2.0) * rock
    set_arms(p, deg(98.0) + deg(2.0) * rock, deg(92.0) + pat)
    return p


HANDSHAKE_HZ = 2.2  # pumps per second


@pose(ActionType.HANDSHAKE)
def handshake(ctx: PoseContext) -> np.ndarray:
    """Right hand held out at waist height and pumped up and down a few times, then held."""
    p = standing(ctx)
    pumping = np.clip(1.0 - (ctx.t - 0.4 - 3.0 / HANDSHAKE_HZ) / 0.3, 0.0, 1.0)  # three pumps
    pump = deg(9.0) * sine(HANDSHAKE_HZ * np.maximum(ctx.t - 0.4, 0.0)) * pumping
    p[:, TORSO] = upright_torso(ctx) + deg(5.0)
    p[:, RIGHT_ARM] = deg(42.0) + pump
    return p


HIGH_FIVE_PERIOD = 1.6  # seconds for one high five (never scaled by the clip's tempo)
HIGH_FIVE_TIMES, HIGH_FIVE_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.30, -5, -25, 176],  # hand straight up, the other arm swinging back
        [0.50, 10, -32, 148],  # slap: leaning in, hand up and forward, palms meet
        [0.62, 8, -22, 150],
        [1.00, 0, 8, 6],
    ]
)
HIGH_FIVE_STEP = 0.08  # metres the hip moves forward into the slap


@pose(ActionType.HIGH_FIVE)
def high_five(ctx: PoseContext) -> np.ndarray:
    """Raise the right hand high, step in and slap it forward against the other's, step back."""
    p = standing(ctx)
    phase, _ = fitted_cycles(ctx.t, ctx.duration, HIGH_FIVE_PERIOD)
    keyed = keyframes(phase, HIGH_FIVE_TIMES, HIGH_FIVE_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    step = np.interp(phase, [0.0, 0.3, 0.5, 0.62, 1.0], [0.0, 0.0, 1.0, 1.0, 0.0])
    shift_over_feet(p, HIGH_FIVE_STEP * step)
    return p
