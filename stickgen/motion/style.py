"""Per-clip style: how one synthesized person moves differently from another.

`draw_style(n, rng)` consumes exactly `n * STYLE_DRAWS` uniforms from `rng`, scene after scene
(`rng.random((n, STYLE_DRAWS))`), so drawing a batch equals drawing its scenes one by one in order.
`rng=None` gives the canonical style: every factor 1, no offsets, phase 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stickgen.motion.primitives import deg
from stickgen.schema import NUM_ACTIONS

# (low, high, canonical) per field, in the order they are drawn.
STYLE_RANGES: dict[str, tuple[float, float, float]] = {
    "tempo": (0.9, 1.1, 1.0),  # cadence of every cyclic action
    "stride": (0.9, 1.1, 1.0),  # travel speed at a given cadence
    "amplitude": (0.8, 1.2, 1.0),  # size of gestures and swings
    "arm_swing": (0.75, 1.25, 1.0),  # arm swing while travelling
    "lean": (deg(-3.0), deg(3.0), 0.0),  # posture: extra forward lean, rad
    "arm_rest": (deg(-3.0), deg(5.0), 0.0),  # posture: how far relaxed arms hang forward, rad
    "stance": (0.75, 1.25, 1.0),  # width of standing leg spread
    "phase": (0.0, 1.0, 0.0),  # where cyclic actions start in their cycle
}
PACE_RANGE = (0.8, 1.2)  # per-action speed factor: tempo and travel of that action
STYLE_DRAWS = len(STYLE_RANGES) + NUM_ACTIONS


@dataclass(frozen=True)
class Style:
    """Style factors of a batch of clips: one value (or one row of `pace`) per clip."""

    tempo: np.ndarray
    stride: np.ndarray
    amplitude: np.ndarray
    arm_swing: np.ndarray
    lean: np.ndarray
    arm_rest: np.ndarray
    stance: np.ndarray
    phase: np.ndarray
    pace: np.ndarray  # [B, NUM_ACTIONS]


def canonical_style(n: int) -> Style:
    """The deterministic default style for `n` clips."""
    fields = {name: np.full(n, spec[2]) for name, spec in STYLE_RANGES.items()}
    return Style(**fields, pace=np.ones((n, NUM_ACTIONS)))


def draw_style(n: int, rng: np.random.Generator | None) -> Style:
    """Random style for `n` clips (canonical when `rng` is None)."""
    if rng is None:
        return canonical_style(n)
    u = rng.random((n, STYLE_DRAWS))
    fields = {
        name: low + (high - low) * u[:, i]
        for i, (name, (low, high, _)) in enumerate(STYLE_RANGES.items())
    }
    low, high = PACE_RANGE
    pace = low + (high - low) * u[:, len(STYLE_RANGES) :]
    return Style(**fields, pace=pace)
