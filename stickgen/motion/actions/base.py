"""What every action's pose function receives, the registry they join, and shared body parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from stickgen.motion.pose import (
    LEFT_ARM,
    LEFT_LEG,
    RIGHT_ARM,
    RIGHT_LEG,
    SHIFT,
    SPEED,
    TORSO,
    blank_pose,
)
from stickgen.motion.primitives import deg, fitted_cycles, gait_angle, keyframes, sine
from stickgen.motion.style import Style
from stickgen.schema import ACTION_SPECS, ActionType
from stickgen.skeleton import LEG_LENGTH

REST_LEAN = deg(2.0)  # an upright person leans very slightly forward
REST_ARMS = (deg(8.0), deg(6.0))  # relaxed arms hang a little forward of the torso
REST_SPREAD = deg(6.0)  # relaxed standing feet: left a little forward, right a little back
BREATH_HZ = 0.25


@dataclass
class PoseContext:
    """The frames of one action to pose: all arrays are `[n]`, one entry per frame."""

    action: ActionType
    t: np.ndarray  # seconds since the action started
    duration: np.ndarray  # seconds the action lasts (it may be evaluated past its end)
    prev: np.ndarray  # the action before this one, -1 if none
    rows: np.ndarray  # which clip of the batch each frame belongs to
    style: Style
    support: np.ndarray | None = None  # metres: seat or bed height under the figure (0 = ground)

    @property
    def n(self) -> int:
        return len(self.t)

    @cached_property
    def seat(self) -> np.ndarray:
        """Height of what the figure sits or lies on, metres per frame (0 = the ground)."""
        return np.zeros(self.n) if self.support is None else np.asarray(self.support, float)

    @cached_property
    def pace(self) -> np.ndarray:
        """This action's speed factor in each frame's clip."""
        return self.style.pace[self.rows, int(self.action)]

    @cached_property
    def tempo(self) -> np.ndarray:
        """Cadence factor: the clip's tempo times this action's pace."""
        return self.style.tempo[self.rows] * self.pace

    @cached_property
    def travel(self) -> np.ndarray:
        """Forward speed, m/s: the action's speed times pace and stride."""
        speed = ACTION_SPECS[self.action].speed
        return speed * self.pace * self.style.stride[self.rows]

    def field(self, name: str) -> np.ndarray:
        """A per-clip style field gathered per frame."""
        return getattr(self.style, name)[self.rows]

    @cached_property
    def amplitude(self) -> np.ndarray:
        return self.field("amplitude")

    @cached_property
    def lean(self) -> np.ndarray:
        return self.field("lean")

    @cached_property
    def arm_rest(self) -> np.ndarray:
        return self.field("arm_rest")

    @cached_property
    def phase(self) -> np.ndarray:
        return self.field("phase")

    def cycles(self, hz: float) -> np.ndarray:
        """Cycles elapsed of a rhythm at `hz` (times tempo), starting at the clip's phase."""
        return self.t * (hz * self.tempo) + self.phase

    def keyed(
        self, period: float, times: np.ndarray, values: np.ndarray, scale: bool = True
    ) -> np.ndarray:
        """Key poses (`values` `[K, M]`, radians) repeated a whole number of times per run.

        With `scale`, the style amplitude scales each key's distance from the first key.
        """
        phase, _ = fitted_cycles(self.t, self.duration, period / self.tempo)
        out = keyframes(phase, times, values)
        if scale:
            out = values[0] + (out - values[0]) * self.amplitude[:, None]
        return out


PoseFunction = Callable[[PoseContext], np.ndarray]
POSES: dict[ActionType, PoseFunction] = {}


def pose(action: ActionType) -> Callable[[PoseFunction], PoseFunction]:
    """Register the pose function of `action`."""

    def register(fn: PoseFunction) -> PoseFunction:
        if action in POSES:
            raise RuntimeError(f"two pose functions for {action.name}")
        POSES[action] = fn
        return fn

    return register


def key_table(rows: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """`[[phase, v1, v2, ...], ...]` with angles in degrees -> (times, values in radians)."""
    table = np.asarray(rows, dtype=float)
    return table[:, 0], np.deg2rad(table[:, 1:])


def upright_torso(ctx: PoseContext) -> np.ndarray:
    """The resting torso angle (posture) each upper-body action's lean is measured from."""
    return REST_LEAN + ctx.lean


def standing(ctx: PoseContext) -> np.ndarray:
    """Relaxed standing: feet slightly apart, arms hanging, breathing."""
    p = blank_pose(ctx.n)
    breath = sine(ctx.t * BREATH_HZ + ctx.phase)
    p[:, TORSO] = upright_torso(ctx) + deg(0.8) * breath
    p[:, LEFT_ARM] = REST_ARMS[0] + ctx.arm_rest + deg(1.0) * breath
    p[:, RIGHT_ARM] = REST_ARMS[1] + ctx.arm_rest + deg(1.0) * breath
    spread = REST_SPREAD * ctx.field("stance")
    p[:, LEFT_LEG] = spread
    p[:, RIGHT_LEG] = -spread
    return p


def set_arms(p: np.ndarray, left: np.ndarray | float, right: np.ndarray | float) -> None:
    """Set both arm angles (radians, relative to the torso)."""
    p[:, LEFT_ARM] = left
    p[:, RIGHT_ARM] = right


def set_lean_and_arms(p: np.ndarray, ctx: PoseContext, keyed: np.ndarray) -> None:
    """Apply key-framed `[lean, left arm, right arm]` columns (radians) to the torso and arms."""
    p[:, TORSO] = upright_torso(ctx) + keyed[:, 0]
    set_arms(p, keyed[:, 1], keyed[:, 2])


def set_legs(p: np.ndarray, left: np.ndarray | float, right: np.ndarray | float) -> None:
    """Set both leg angles (radians, world)."""
    p[:, LEFT_LEG] = left
    p[:, RIGHT_LEG] = right


def staggered(p: np.ndarray, ctx: PoseContext, front_deg: float, back_deg: float) -> None:
    """Standing with the left foot forward and the right foot back."""
    stance = ctx.field("stance")
    set_legs(p, deg(front_deg) * stance, -deg(back_deg) * stance)


def shift_over_feet(p: np.ndarray, shift: np.ndarray) -> None:
    """Move the hip forward by `shift` metres while both feet stay where they are."""
    p[:, SHIFT] += shift
    for leg in (LEFT_LEG, RIGHT_LEG):
        reach = LEG_LENGTH * np.sin(p[:, leg]) - shift
        p[:, leg] = np.arcsin(np.clip(reach / LEG_LENGTH, -1.0, 1.0))


def apply_keys(p: np.ndarray, channels: tuple[int, ...], keyed: np.ndarray) -> None:
    """Write keyed columns into pose channels."""
    for column, channel in enumerate(channels):
        p[:, channel] = keyed[:, column]


@dataclass(frozen=True)
class Gait:
    """A cyclic gait: `cycle_hz` full cycles (a step of each leg) per second."""

    cycle_hz: float
    duty: float  # share of the cycle each foot is on the ground
    lead_deg: float  # how much wider than the mirror path the swing leg moves
    centre_deg: float = 0.0  # leg angle the gait swings about


def walk_cycle(ctx: PoseContext, p: np.ndarray, gait: Gait) -> tuple[np.ndarray, np.ndarray]:
    """Legs of a gait whose planted foot stays put while the body travels at `ctx.travel`.

    Sets the leg and speed channels; returns (cycle phase of the left leg, cycles per second).
    """
    hz = gait.cycle_hz * ctx.tempo
    phase = (ctx.t * hz + ctx.phase) % 1.0
    reach = ctx.travel * gait.duty / (2.0 * hz)
    lead = deg(gait.lead_deg) * ctx.amplitude
    left = gait_angle(phase, reach, gait.duty, lead, LEG_LENGTH)
    right = gait_angle((phase + 0.5) % 1.0, reach, gait.duty, lead, LEG_LENGTH)
    set_legs(p, left + deg(gait.centre_deg), right + deg(gait.centre_deg))
    p[:, SPEED] = ctx.travel
    return phase, hz
