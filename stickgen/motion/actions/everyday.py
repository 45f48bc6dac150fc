"""Everyday actions: sit, stand, kneel, lie down, eat, drink, read, type, look around, stretch,
push, lift, think.

With single-segment legs (hip to foot, no knee): sitting on a seat (`PoseContext.seat` > 0, e.g.
a bench at 0.45 m) holds the hip at the seat's height with the legs reaching forward and down to
feet planted on the ground, the line a bent leg's hip and foot make; sitting with no seat is on the
floor, legs out in front and hands in the lap. Kneeling is one leg forward to the planted foot and
the other back to the knee on the ground. Lying is on the back, head behind the hip: on the ground,
or on a bed or couch at its height.
"""

from __future__ import annotations

import numpy as np

from stickgen.motion.actions.base import (
    BREATH_HZ,
    Gait,
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
    walk_cycle,
)
from stickgen.motion.pose import (
    ANGLE_CHANNELS,
    GROUND,
    LEFT_ARM,
    LIFT,
    RIGHT_ARM,
    TORSO,
    blank_pose,
)
from stickgen.motion.primitives import deg, keyframes, sine
from stickgen.schema import ActionType
from stickgen.skeleton import LEG_LENGTH


def resting(ctx: PoseContext, torso_deg: float, arms_deg: tuple[float, float]) -> np.ndarray:
    """A still body pose with breathing: torso and arms set, legs left for the caller."""
    p = blank_pose(ctx.n)
    breath = sine(ctx.t * BREATH_HZ + ctx.phase)
    p[:, TORSO] = deg(torso_deg) + ctx.lean + deg(0.8) * breath
    set_arms(p, deg(arms_deg[0]) + ctx.arm_rest, deg(arms_deg[1]) + ctx.arm_rest)
    return p


FLOOR_SIT_LEGS = (84.0, 80.0)  # degrees forward: legs out along the floor
FLOOR_SIT_ARMS = (50.0, 46.0)  # hands resting on the thighs
SEAT_LEG_SPREAD = 2.0  # degrees between the two legs on a seat


@pose(ActionType.SIT)
def sit(ctx: PoseContext) -> np.ndarray:
    """On a seat: the hip at the seat's height, legs forward and down to the feet on the ground,
    hands in the lap. On the floor (no seat): hip down, legs out in front, hands on the thighs."""
    seated = ctx.seat > 0.0
    p = resting(ctx, -3.0, (38.0, 42.0))
    reach = np.arccos(np.clip(ctx.seat / LEG_LENGTH, 0.0, 1.0))  # hip-to-foot line at seat height
    spread = deg(SEAT_LEG_SPREAD)
    left = np.where(seated, reach + spread, deg(FLOOR_SIT_LEGS[0]))
    right = np.where(seated, reach - spread, deg(FLOOR_SIT_LEGS[1]))
    set_legs(p, left, right)
    floor = ~seated
    p[floor, LEFT_ARM] = deg(FLOOR_SIT_ARMS[0]) + ctx.arm_rest[floor]
    p[floor, RIGHT_ARM] = deg(FLOOR_SIT_ARMS[1]) + ctx.arm_rest[floor]
    p[floor, TORSO] -= deg(3.0)
    return p


@pose(ActionType.KNEEL)
def kneel(ctx: PoseContext) -> np.ndarray:
    """On one knee: front foot planted ahead, back leg reaching the ground behind, hip low."""
    p = resting(ctx, 3.0, (14.0, 10.0))
    set_legs(p, deg(56.0), deg(-56.0))
    return p


LIE_BACK_SECONDS = 1.5
LIE_BACK_TIMES, LIE_BACK_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.0, -3, 38, 42, 62, 58],  # seated
        [0.5, -35, 25, 25, 76, 72],  # leaning back on the way down
        [1.0, -80, 12, 8, 90, 90],
    ]
)


@pose(ActionType.LIE_DOWN)
def lie_down(ctx: PoseContext) -> np.ndarray:
    """On the back: torso flat with the head resting on the ground (or on the bed), legs out in
    front.

    Coming from another action, the figure first sits and then lies back.
    """
    p = resting(ctx, -80.0, (12.0, 8.0))
    set_legs(p, deg(90.0), deg(90.0))
    raised = ctx.seat > 0.0  # on a bed or couch: the hip rests at its height
    p[raised, GROUND] = 0.0
    p[raised, LIFT] = ctx.seat[raised]
    progress = ctx.t * ctx.tempo / LIE_BACK_SECONDS
    lowering = (ctx.prev >= 0) & (progress < 1.0)
    if lowering.any():
        keyed = keyframes(progress[lowering], LIE_BACK_TIMES, LIE_BACK_KEYS)
        offset = keyed - LIE_BACK_KEYS[-1]
        for column, channel in enumerate(ANGLE_CHANNELS):
            p[lowering, channel] += offset[:, column]
    return p


GETTING_UP_FROM = (int(ActionType.SIT), int(ActionType.KNEEL), int(ActionType.LIE_DOWN))
RISE_SECONDS = 1.3
RISE_TIMES, RISE_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.0, 38, 30, 30, 40, 34],  # weight forward over the feet
        [0.5, 22, 14, 12, 18, 12],
        [1.0, 0, 3, 3, 0, 0],
    ]
)


@pose(ActionType.STAND)
def stand(ctx: PoseContext) -> np.ndarray:
    """Upright and still, feet together; rising first when coming from sit, kneel or lie."""
    p = blank_pose(ctx.n)
    apply_keys(p, ANGLE_CHANNELS, np.broadcast_to(RISE_KEYS[-1], (ctx.n, 5)))
    rise = ctx.t * ctx.tempo / RISE_SECONDS
    rising = np.isin(ctx.prev, GETTING_UP_FROM) & (rise < 1.0)
    if rising.any():
        keyed = keyframes(rise[rising], RISE_TIMES, RISE_KEYS)
        for column, channel in enumerate(ANGLE_CHANNELS):
            p[rising, channel] = keyed[:, column]
    p[:, TORSO] += ctx.lean + deg(0.3) * sine(ctx.t * BREATH_HZ + ctx.phase)
    p[:, LEFT_ARM] += 0.5 * ctx.arm_rest
    p[:, RIGHT_ARM] += 0.5 * ctx.arm_rest
    return p


EAT_TIMES, EAT_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 5, 48, 45],  # fork at the plate
        [0.35, 7, 48, 152],  # to the mouth
        [0.55, 7, 48, 150],
        [0.90, 5, 48, 45],
        [1.00, 5, 48, 45],
    ]
)


@pose(ActionType.EAT)
def eat(ctx: PoseContext) -> np.ndarray:
    """Left hand holds the plate, right hand goes from plate to mouth again and again."""
    p = standing(ctx)
    keyed = ctx.keyed(1.8, EAT_TIMES, EAT_KEYS)
    set_lean_and_arms(p, ctx, keyed)
    return p


DRINK_TIMES, DRINK_KEYS = key_table(
    [  # phase, torso lean, left arm, right arm
        [0.00, 0, 8, 6],
        [0.25, 0, 8, 150],  # cup to the lips
        [0.45, -10, 8, 168],  # tip it up, head back
        [0.65, -8, 8, 160],
        [0.85, 0, 8, 30],
        [1.00, 0, 8, 6],
    ]
)


@pose(ActionType.DRINK)
def drink(ctx: PoseContext) -> np.ndarray:
    """Raise the cup to the mouth, tip it up with the head back, lower it."""
    p = standing(ctx)
    keyed = ctx.keyed(3.6, DRINK_TIMES, DRINK_KEYS)
    p[:, TORSO] = upright_torso(ctx) + keyed[:, 0]
    set_arms(p, keyed[:, 1] + ctx.arm_rest, keyed[:, 2])
    return p


PAGE_TIMES, PAGE_KEYS = key_table([[0.0, 0], [0.8, 0], [0.88, 24], [0.96, 0], [1.0, 0]])


@pose(ActionType.READ)
def read(ctx: PoseContext) -> np.ndarray:
    """Both hands hold a book at chest height, head bowed over it; a page turns now and then."""
    p = standing(ctx)
    p[:, TORSO] = upright_torso(ctx) + deg(13.0)
    turn = ctx.keyed(4.0, PAGE_TIMES, PAGE_KEYS)[:, 0]
    set_arms(p, deg(76.0), deg(80.0) + turn)
    return p


@pose(ActionType.TYPE)
def type_(ctx: PoseContext) -> np.ndarray:
    """Hands forward at desk height, fingers tapping fast."""
    p = standing(ctx)
    p[:, TORSO] = upright_torso(ctx) + deg(8.0)
    tap = deg(4.0) * ctx.amplitude * sine(ctx.cycles(7.0))
    set_arms(p, deg(52.0) + tap, deg(56.0) - tap)
    return p


@pose(ActionType.LOOK_AROUND)
def look_around(ctx: PoseContext) -> np.ndarray:
    """Peering this way and that: leaning in and back, shifting weight, arms relaxed."""
    p = standing(ctx)
    slow, quick = ctx.cycles(0.27), ctx.cycles(0.61)
    p[:, TORSO] += ctx.amplitude * (deg(9.0) * sine(slow) + deg(3.0) * sine(quick))
    p[:, LEFT_ARM] += deg(4.0) * sine(slow + 0.25)
    p[:, RIGHT_ARM] += deg(4.0) * sine(quick + 0.5)
    shift_over_feet(p, 0.05 * sine(slow + 0.15))
    return p


@pose(ActionType.STRETCH)
def stretch(ctx: PoseContext) -> np.ndarray:
    """Arms straight up overhead, leaning slowly back and forth."""
    p = standing(ctx)
    c = ctx.cycles(0.22)
    p[:, TORSO] = upright_torso(ctx) - deg(4.0) + deg(9.0) * ctx.amplitude * sine(c)
    reach = deg(8.0) * sine(1.3 * c)
    set_arms(p, deg(172.0) + reach, deg(178.0) - reach)
    return p


PUSH = Gait(cycle_hz=0.55, duty=0.6, lead_deg=6.0, centre_deg=-14.0)


@pose(ActionType.PUSH)
def push(ctx: PoseContext) -> np.ndarray:
    """Leaning into something heavy, arms straight out at chest height, slow steps."""
    p = blank_pose(ctx.n)
    phase, _ = walk_cycle(ctx, p, PUSH)
    p[:, TORSO] = deg(28.0) + ctx.lean
    strain = deg(3.0) * sine(2.0 * phase)
    set_arms(p, deg(112.0) + strain, deg(108.0) + strain)
    return p


LIFT_PERIOD = 2.6
LIFT_TIMES, LIFT_KEYS = key_table(
    [  # phase, torso, left arm, right arm, left leg, right leg
        [0.00, 3, 8, 6, 14, -14],  # feet planted wide
        [0.20, 42, 42, 40, 52, 30],  # squat, hands down to the load
        [0.32, 44, 44, 42, 54, 32],
        [0.50, 4, 20, 18, 14, -14],  # stand up holding it
        [0.68, -4, 172, 170, 14, -14],  # raise it overhead
        [0.80, -5, 175, 173, 14, -14],
        [1.00, 3, 8, 6, 14, -14],
    ]
)


@pose(ActionType.LIFT)
def lift(ctx: PoseContext) -> np.ndarray:
    """Squat down with arms down, stand up, raise the load overhead, put it down."""
    p = blank_pose(ctx.n)
    apply_keys(p, ANGLE_CHANNELS, ctx.keyed(LIFT_PERIOD, LIFT_TIMES, LIFT_KEYS))
    p[:, TORSO] += ctx.lean
    return p


@pose(ActionType.THINK)
def think(ctx: PoseContext) -> np.ndarray:
    """Still, one hand raised to the chin, the other arm folded across the body."""
    p = standing(ctx)
    p[:, TORSO] += deg(4.0)
    p[:, RIGHT_ARM] = deg(150.0) + deg(2.0) * sine(ctx.cycles(0.5))
    p[:, LEFT_ARM] = deg(36.0) + ctx.arm_rest
    return p
