"""Locomotion: idle, walk, run, sprint, skip, jump, climb, crawl, swim, fly.

Conventions for the airborne ones (the ground-contact rule is suspended, see `pose.GROUND`):
climb is a ladder climbed up and back down within the segment (the body rises on the rungs,
peaking at most 2 m up, and is back on the ground when the segment ends); swim keeps the hip at a
constant water-surface height of 0.8 m; fly holds the body horizontal 1.5 m up.
"""

from __future__ import annotations

import numpy as np

from stickgen.motion.actions.base import (
    Gait,
    PoseContext,
    apply_keys,
    key_table,
    pose,
    set_arms,
    set_legs,
    shift_over_feet,
    standing,
    walk_cycle,
)
from stickgen.motion.pose import (
    ANGLE_CHANNELS,
    GROUND,
    LEFT_ARM,
    LEFT_LEG,
    LIFT,
    RIGHT_ARM,
    RIGHT_LEG,
    SPEED,
    TORSO,
    blank_pose,
)
from stickgen.motion.primitives import (
    TAU,
    ballistic,
    deg,
    fitted_cycles,
    frac,
    gait_angle,
    keyframes,
    sine,
    warp_flight,
)
from stickgen.schema import ActionType
from stickgen.skeleton import ARM_LENGTH


@pose(ActionType.IDLE)
def idle(ctx: PoseContext) -> np.ndarray:
    """Relaxed standing: breathing, slow weight shift over the feet, arms drifting."""
    p = standing(ctx)
    shift_over_feet(p, 0.02 * sine(ctx.cycles(0.12)))
    p[:, LEFT_ARM] += deg(2.5) * sine(ctx.cycles(0.17) + 0.3)
    p[:, RIGHT_ARM] += deg(2.5) * sine(ctx.cycles(0.13) + 0.7)
    return p


def striding(
    ctx: PoseContext, gait: Gait, lean_deg: float, arm_centre_deg: float, arm_gain: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gait with arms swinging against the legs; returns (pose, left-leg phase, cycle Hz)."""
    p = blank_pose(ctx.n)
    phase, hz = walk_cycle(ctx, p, gait)
    gain = arm_gain * ctx.field("arm_swing")
    centre = deg(gait.centre_deg)
    arm_rest = deg(arm_centre_deg) + ctx.arm_rest
    p[:, LEFT_ARM] = arm_rest - gain * (p[:, LEFT_LEG] - centre)
    p[:, RIGHT_ARM] = arm_rest - gain * (p[:, RIGHT_LEG] - centre)
    p[:, TORSO] = deg(lean_deg) + ctx.lean + deg(1.0) * sine(2.0 * phase)
    return p, phase, hz


def flight_between_steps(phase: np.ndarray, hz: np.ndarray, duty: float) -> np.ndarray:
    """Lift of a running gait: a ballistic flight after every toe-off (duty < 0.5)."""
    step = frac(2.0 * phase)  # 0 at each touch-down, stance until 2 * duty
    flight = (0.5 - duty) / hz
    return ballistic((step - 2.0 * duty) / (2.0 * hz), flight)


WALK = Gait(cycle_hz=1.0, duty=0.5, lead_deg=10.0)
RUN = Gait(cycle_hz=1.4, duty=0.36, lead_deg=28.0)
SPRINT = Gait(cycle_hz=1.75, duty=0.3, lead_deg=38.0)
SKIP = Gait(cycle_hz=1.25, duty=0.5, lead_deg=25.0)
SKIP_FLIGHT = 0.2  # seconds of each skip's hop


@pose(ActionType.WALK)
def walk(ctx: PoseContext) -> np.ndarray:
    """Legs alternate with the planted foot fixed, opposite arms swing, the hip bobs."""
    p, _, _ = striding(ctx, WALK, lean_deg=4.0, arm_centre_deg=6.0, arm_gain=0.9)
    return p


@pose(ActionType.RUN)
def run(ctx: PoseContext) -> np.ndarray:
    """Bigger swings, forward lean and a short flight between steps."""
    p, phase, hz = striding(ctx, RUN, lean_deg=12.0, arm_centre_deg=20.0, arm_gain=0.85)
    p[:, LIFT] = flight_between_steps(phase, hz, RUN.duty)
    return p


@pose(ActionType.SPRINT)
def sprint(ctx: PoseContext) -> np.ndarray:
    """More lean, faster cadence, longer flight, big arm drive."""
    p, phase, hz = striding(ctx, SPRINT, lean_deg=22.0, arm_centre_deg=25.0, arm_gain=1.05)
    p[:, LIFT] = flight_between_steps(phase, hz, SPRINT.duty)
    return p


@pose(ActionType.SKIP)
def skip(ctx: PoseContext) -> np.ndarray:
    """Step-hop rhythm: a hop in the middle of each stance, knee-up swing, high arm swing."""
    p, phase, hz = striding(ctx, SKIP, lean_deg=3.0, arm_centre_deg=30.0, arm_gain=1.4)
    hop_start = 0.5 - SKIP_FLIGHT * hz  # centred on mid-stance, in step units
    step = frac(2.0 * phase)
    p[:, LIFT] = ballistic((step - hop_start) / (2.0 * hz), SKIP_FLIGHT)
    return p


# Jump keys on a canonical cycle whose flight spans 0.31-0.62 (legs straight while airborne).
JUMP_TIMES, JUMP_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 3, 8, 6, 6, -6],
        [0.17, 30, -35, -30, 32, 28],  # crouch, arms swung back
        [0.31, 6, 70, 80, 0, 0],  # take-off, arms driving up
        [0.465, 2, 150, 160, 0, 0],  # apex
        [0.62, 4, 110, 115, 0, 0],  # touch-down
        [0.75, 20, 70, 72, 26, 22],  # absorb
        [0.86, 8, 20, 18, 8, -4],
        [1.00, 3, 8, 6, 6, -6],
    ]
)
JUMP_PERIOD = 1.5
JUMP_FLIGHT = 0.55  # seconds airborne: 0.37 m high with g = 9.81
JUMP_TAKEOFF = 0.31


@pose(ActionType.JUMP)
def jump(ctx: PoseContext) -> np.ndarray:
    """Crouch, take off, ballistic flight (g = 9.81), land, recover; whole jumps per segment."""
    phase, period = fitted_cycles(ctx.t, ctx.duration, JUMP_PERIOD / ctx.tempo)
    flight = np.minimum(JUMP_FLIGHT * np.sqrt(ctx.amplitude), 0.36 * period)
    landing = JUMP_TAKEOFF + flight / period
    canon = warp_flight(phase, JUMP_TAKEOFF, landing, JUMP_TAKEOFF, 0.62)
    p = blank_pose(ctx.n)
    apply_keys(p, ANGLE_CHANNELS, keyframes(canon, JUMP_TIMES, JUMP_KEYS))
    p[:, TORSO] += ctx.lean
    p[:, LIFT] = ballistic((phase - JUMP_TAKEOFF) * period, flight)
    return p


CLIMB_HZ = 0.7  # reach cycles per second
CLIMB_RATE = 0.16  # metres of peak height per second of segment
CLIMB_MAX = 2.0


@pose(ActionType.CLIMB)
def climb(ctx: PoseContext) -> np.ndarray:
    """Hands reach up alternately with the opposite foot stepping up a rung; the body rises and
    comes back down so the climber is on the ground at both ends of the segment."""
    p = blank_pose(ctx.n)
    s = sine(ctx.cycles(CLIMB_HZ))
    reach = deg(18.0) * ctx.amplitude
    step = deg(34.0) * ctx.amplitude
    p[:, TORSO] = deg(8.0) + ctx.lean
    set_arms(p, deg(155.0) + reach * s, deg(155.0) - reach * s)
    set_legs(p, deg(6.0) + step * (0.5 - 0.5 * s), deg(6.0) + step * (0.5 + 0.5 * s))
    peak = np.minimum(CLIMB_RATE * ctx.duration, CLIMB_MAX) * ctx.pace
    progress = np.clip(ctx.t / ctx.duration, 0.0, 1.0)
    p[:, LIFT] = peak * np.sin(np.pi * progress) ** 2
    return p


CRAWL = Gait(cycle_hz=0.75, duty=0.75, lead_deg=6.0, centre_deg=-6.0)
CRAWL_TORSO = deg(113.0)  # hips higher than shoulders: hands and feet both reach the ground
CRAWL_HAND_CENTRE = deg(15.0)


@pose(ActionType.CRAWL)
def crawl(ctx: PoseContext) -> np.ndarray:
    """On hands and feet, torso near horizontal, diagonal limbs moving together."""
    p = blank_pose(ctx.n)
    phase, hz = walk_cycle(ctx, p, CRAWL)
    torso = CRAWL_TORSO + ctx.lean
    p[:, TORSO] = torso
    reach = ctx.travel * CRAWL.duty / (2.0 * hz)
    lead = deg(8.0) * ctx.amplitude
    left = gait_angle(frac(phase + 0.5), reach, CRAWL.duty, lead, ARM_LENGTH)
    right = gait_angle(phase, reach, CRAWL.duty, lead, ARM_LENGTH)
    # world hand angles -> relative to the torso
    set_arms(p, left + CRAWL_HAND_CENTRE + torso, right + CRAWL_HAND_CENTRE + torso)
    return p


SWIM_HZ = 0.55  # arm strokes per second, each arm
SWIM_HEIGHT = 0.8  # hip height at the water surface


@pose(ActionType.SWIM)
def swim(ctx: PoseContext) -> np.ndarray:
    """Body horizontal at the water surface, alternating over-arm strokes, flutter kick."""
    p = blank_pose(ctx.n)
    c = ctx.cycles(SWIM_HZ)
    p[:, TORSO] = deg(88.0) + deg(3.0) * sine(2.0 * c)
    set_arms(p, np.pi - TAU * frac(c), np.pi - TAU * frac(c + 0.5))
    kick = deg(12.0) * ctx.amplitude * sine(3.0 * c)
    set_legs(p, deg(-90.0) + kick, deg(-90.0) - kick)
    p[:, GROUND] = 0.0
    p[:, LIFT] = SWIM_HEIGHT + 0.02 * sine(2.0 * c)
    p[:, SPEED] = ctx.travel
    return p


FLY_HEIGHT = 1.5


@pose(ActionType.FLY)
def fly(ctx: PoseContext) -> np.ndarray:
    """Superhero pose: body horizontal in the air, arms forward, legs trailing."""
    p = blank_pose(ctx.n)
    c = ctx.cycles(0.4)
    p[:, TORSO] = deg(84.0) + ctx.lean
    set_arms(p, deg(178.0), deg(172.0))
    sway = deg(4.0) * sine(c)
    set_legs(p, deg(-92.0) + sway, deg(-86.0) - sway)
    p[:, GROUND] = 0.0
    p[:, LIFT] = FLY_HEIGHT + 0.06 * sine(c)
    p[:, SPEED] = ctx.travel
    return p
