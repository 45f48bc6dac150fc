"""Per-frame pose parameters for a timeline: transitions between actions and upper-body layering.

Transitions are inertialized. When an action starts, the gap between what the figure was doing
(the previous action carried on for one more frame, plus whatever transition was still under way)
and the new action's first pose becomes an offset, and so does the gap in their rates of change.
The offset eases to zero over the fade time along a cubic Hermite curve, so joint positions and
velocities are continuous at every boundary, however short the segments. Angles take the shorter
way round; root height, travel speed and shift ease the same way.

Layering: where a segment has an `upper` action, that action drives the arms (and adds its own
torso lean) while the body action keeps the legs and travel; the arm source is inertialized in
the same way whenever it changes.

All poses a batch needs are evaluated in one pass over the action library.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from stickgen.motion.actions import evaluate_poses
from stickgen.motion.actions.base import REST_LEAN
from stickgen.motion.pose import ANGLE_CHANNELS, ARM_CHANNELS, GROUND, NUM_CHANNELS, TORSO
from stickgen.motion.primitives import wrap_angle
from stickgen.motion.style import Style
from stickgen.motion.timeline import Runs, Timeline
from stickgen.schema import ACTION_SPECS, ActionType, Layer

BLEND_SECONDS = 0.4
SLOW_BLENDS = {  # getting into these postures takes longer
    ActionType.SIT: 0.7,
    ActionType.KNEEL: 0.7,
    ActionType.LIE_DOWN: 0.6,
    ActionType.STAND: 0.5,
    ActionType.SWIM: 0.6,
    ActionType.FLY: 0.6,
}
BODY_BLEND = np.array([SLOW_BLENDS.get(a, BLEND_SECONDS) for a in ActionType])
UPPER_BLEND = 0.35
MAX_CARRY = 1.0  # cap on |velocity gap| * fade time (rad or m): limits overshoot
MAX_TURN_RATE = 5.0  # rad/s: big posture changes fade more slowly ...
MAX_FADE = 1.2  # ... up to this many seconds
IS_UPPER_LAYER = np.array([ACTION_SPECS[a].layer == Layer.UPPER for a in ActionType])

BODY_ANGLES = np.isin(np.arange(NUM_CHANNELS), ANGLE_CHANNELS)
BODY_CARRY = np.arange(NUM_CHANNELS) != GROUND  # the contact weight eases without momentum
_ARMS = list(ARM_CHANNELS)


def hermite_offset(
    delta: np.ndarray, velocity: np.ndarray, fade: np.ndarray, elapsed: np.ndarray
) -> np.ndarray:
    """Offset `[n, K]` starting at `delta` with slope `velocity`, reaching 0 (flat) at `fade`."""
    s = np.clip(elapsed / fade, 0.0, 1.0)
    rest = (1.0 - s) ** 2
    return delta * ((1.0 + 2.0 * s) * rest)[:, None] + velocity * (fade * s * rest)[:, None]


def _gap(a: np.ndarray, b: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """a - b, with angle columns wrapped into [-pi, pi)."""
    d = a - b
    d[:, angles] = wrap_angle(d[:, angles])
    return d


def inertialize(
    values: np.ndarray,
    runs: Runs,
    carried_on: np.ndarray,
    fade: np.ndarray,
    fps: int,
    angles: np.ndarray,
    carry: np.ndarray,
) -> None:
    """Ease `values` `[B, T, K]` across the run boundaries of `runs`, in place.

    `carried_on` `[B, R, K]` holds, for each run after the first, the previous run's own value
    continued into this run's first frame; `fade` `[B, R]` the seconds each run's offset lasts at
    least (longer when an angle has far to turn, up to MAX_FADE); `carry` marks channels whose
    velocity gap is eased too.
    """
    fade = fade.astype(float)
    count, frames, _ = values.shape
    pure = values  # read-only until the offsets are added at the end
    delta = np.zeros(carried_on.shape)
    velocity = np.zeros(carried_on.shape)
    rows = np.arange(count)
    end = runs.end()
    for r in range(1, runs.start.shape[1]):
        live = rows[runs.count > r]
        before, start = runs.start[live, r - 1], runs.start[live, r]
        args = (delta[live, r - 1], velocity[live, r - 1], fade[live, r - 1])
        old = carried_on[live, r] + hermite_offset(*args, (start - before) / fps)
        old_prev = pure[live, start - 1] + hermite_offset(*args, (start - 1 - before) / fps)
        new = pure[live, start]
        new_next = pure[live, np.minimum(start + 1, frames - 1)]
        has_next = (start + 1 < end[live, r])[:, None]
        gap_velocity = _gap(old, old_prev, angles) - has_next * _gap(new_next, new, angles)
        gap = _gap(old, new, angles)
        turn = np.abs(gap[:, angles]).max(axis=1)
        fade[live, r] = np.clip(1.5 * turn / MAX_TURN_RATE, fade[live, r], MAX_FADE)
        limit = MAX_CARRY / fade[live, r][:, None]
        delta[live, r] = gap
        velocity[live, r] = np.where(carry, np.clip(gap_velocity * fps, -limit, limit), 0.0)
    run_id = runs.run_id
    elapsed = (np.arange(frames) - runs.frame_start) / fps
    frame_fade = np.take_along_axis(fade, run_id, axis=1)
    b, f = np.nonzero((run_id > 0) & (elapsed < frame_fade))
    r = run_id[b, f]
    values[b, f] += hermite_offset(delta[b, r], velocity[b, r], frame_fade[b, f], elapsed[b, f])


def _frame_clocks(runs: Runs, fps: int) -> tuple[np.ndarray, ...]:
    """Per frame: (seconds since its run began, run length, previous run's value)."""
    t = (np.arange(runs.run_id.shape[1]) - runs.frame_start + 0.5) / fps
    return t, (runs.frame_end - runs.frame_start) / fps, runs.frame_prev


def _boundaries(runs: Runs, fps: int) -> tuple[np.ndarray, ...]:
    """For every run after the first: (row, run, previous run's value, its clock continued into
    this run's first frame, its length, the value before it)."""
    index = np.arange(runs.start.shape[1])
    b, r = np.nonzero((index >= 1) & (index < runs.count[:, None]))
    gap = runs.start[b, r] - runs.start[b, r - 1]
    before = runs.previous_value()[b, r - 1]
    return b, r, runs.value[b, r - 1], (gap + 0.5) / fps, gap / fps, before


class _Requests:
    """Frames to pose, collected from several places and evaluated in one pass."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, action, t, duration, prev, rows, support) -> int:
        self.parts.append((action, t, duration, prev, rows, support))
        return len(self.parts) - 1

    def evaluate(self, style: Style) -> list[np.ndarray]:
        columns = [np.concatenate(column) for column in zip(*self.parts, strict=True)]
        *frames, support = columns
        poses = evaluate_poses(*frames, style, support=support)
        bounds = np.cumsum([0] + [len(part[0]) for part in self.parts])
        return [poses[lo:hi] for lo, hi in pairwise(bounds)]


def _upper_lean(action: np.ndarray, pose: np.ndarray, rows: np.ndarray, style: Style):
    """Torso lean an upper action adds (measured from upright); 0 for whole-body actions."""
    upright = REST_LEAN + style.lean[rows]
    return np.where(IS_UPPER_LAYER[action], pose[:, TORSO] - upright, 0.0)


@dataclass(frozen=True)
class _UpperPlan:
    """The upper-body track's runs and which requested poses belong to it."""

    runs: Runs
    has: np.ndarray  # [B*T] frames with an upper action
    now: int  # request: the upper action on those frames
    b: np.ndarray  # rows, runs and previous actions at each upper run boundary
    r: np.ndarray
    action: np.ndarray
    was: np.ndarray  # boundaries where the previous run had an upper action
    old: int  # request: that action carried on into the boundary frame


def _plan_upper(
    track: np.ndarray, support: np.ndarray, rows: np.ndarray, requests: _Requests, fps: int
) -> _UpperPlan:
    runs = Runs.of(track)
    has = track.ravel() >= 0
    clocks = [c.ravel()[has] for c in _frame_clocks(runs, fps)]
    now = requests.add(track.ravel()[has], *clocks, rows[has], support.ravel()[has])
    b, r, action, *clock = _boundaries(runs, fps)
    was = action >= 0
    old = requests.add(
        action[was], *(c[was] for c in clock), b[was], support[b[was], runs.start[b[was], r[was]]]
    )
    return _UpperPlan(runs, has, now, b, r, action, was, old)


def _apply_upper(
    params: np.ndarray,
    track: np.ndarray,
    plan: _UpperPlan,
    poses: list[np.ndarray],
    style: Style,
    fps: int,
) -> None:
    """Arms (and added lean) from the upper track, eased wherever their source changes."""
    count, frames, _ = params.shape
    rows = np.repeat(np.arange(count), frames)
    has, b, r, was = plan.has, plan.b, plan.r, plan.was
    source = np.zeros((count, frames, 3))  # left arm, right arm, torso lean
    source[..., :2] = params[..., _ARMS]
    flat = source.reshape(-1, 3)
    flat[has, :2] = poses[plan.now][:, _ARMS]
    flat[has, 2] = _upper_lean(track.ravel()[has], poses[plan.now], rows[has], style)
    carried_on = np.zeros((count, plan.runs.start.shape[1], 3))
    carried_on[b, r, :2] = params[b, plan.runs.start[b, r]][:, _ARMS]  # body arms went on
    carried_on[b[was], r[was], :2] = poses[plan.old][:, _ARMS]
    carried_on[b[was], r[was], 2] = _upper_lean(plan.action[was], poses[plan.old], b[was], style)
    fade = np.full(plan.runs.start.shape, UPPER_BLEND)
    everything = np.ones(3, dtype=bool)
    inertialize(source, plan.runs, carried_on, fade, fps, everything, everything)
    params[..., _ARMS] = source[..., :2]
    params[..., TORSO] += source[..., 2]


def pose_parameters(timeline: Timeline, style: Style, fps: int) -> np.ndarray:
    """`[B, T, NUM_CHANNELS]` pose parameters of a timeline, with transitions and layers."""
    count, frames = timeline.body.shape
    rows = np.repeat(np.arange(count), frames)
    support = timeline.support if timeline.support is not None else np.zeros((count, frames))
    moved = np.zeros(support.shape, dtype=bool)
    moved[:, 1:] = support[:, 1:] != support[:, :-1]  # onto or off a seat: a new run
    body = Runs.of(timeline.body, moved)
    body_b, body_r, *body_old = _boundaries(body, fps)
    requests = _Requests()
    clocks = (c.ravel() for c in _frame_clocks(body, fps))
    now = requests.add(timeline.body.ravel(), *clocks, rows, support.ravel())
    old_support = support[body_b, body.start[body_b, body_r] - 1]  # the run before, carried on
    old = requests.add(*body_old, body_b, old_support)
    layered = bool((timeline.upper >= 0).any())
    upper = _plan_upper(timeline.upper, support, rows, requests, fps) if layered else None
    poses = requests.evaluate(style)

    params = poses[now].reshape(count, frames, NUM_CHANNELS)
    carried_on = np.zeros((count, body.start.shape[1], NUM_CHANNELS))
    carried_on[body_b, body_r] = poses[old]
    fade = BODY_BLEND[np.maximum(body.value, 0)]
    inertialize(params, body, carried_on, fade, fps, BODY_ANGLES, BODY_CARRY)
    if upper is not None:
        _apply_upper(params, timeline.upper, upper, poses, style, fps)
    return params
