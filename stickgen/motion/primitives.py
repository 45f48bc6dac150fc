"""Small vectorised signal shapes the action library is built from."""

from __future__ import annotations

import numpy as np

TAU = 2.0 * np.pi
GRAVITY = 9.81  # m/s^2


def deg(value: float | np.ndarray) -> float | np.ndarray:
    """Degrees to radians."""
    return np.deg2rad(value)


def frac(x: np.ndarray) -> np.ndarray:
    """Fractional part in [0, 1)."""
    return x - np.floor(x)


def sine(cycles: np.ndarray) -> np.ndarray:
    """sin(2 pi * cycles)."""
    return np.sin(TAU * cycles)


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends; clipped outside [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def wrap_angle(x: np.ndarray) -> np.ndarray:
    """Angle difference mapped into [-pi, pi)."""
    return (x + np.pi) % TAU - np.pi


def keyframes(phase: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Ease between key poses: `times` `[K]` ascending from 0 to 1, `values` `[K, M]` -> `[n, M]`.

    Each span eases in and out (smoothstep), so the motion slows into every key pose.
    """
    i = np.clip(np.searchsorted(times, phase, side="right") - 1, 0, len(times) - 2)
    span = times[i + 1] - times[i]
    u = smoothstep((phase - times[i]) / span)
    return values[i] + (values[i + 1] - values[i]) * u[:, None]


def fitted_cycles(
    t: np.ndarray, duration: np.ndarray, period: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phase in [0, 1] of a repeated gesture that fits a whole number of times in `duration`.

    Returns (phase, stretched period). Past the end of the last whole gesture the phase stays at
    1 (its final pose). A gesture is sped up by at most a third: in a shorter segment it plays
    that fast and is cut off by whatever comes next.
    """
    count = np.maximum(1.0, np.round(duration / period))
    fitted = np.maximum(duration / count, 0.75 * period)
    cycles = t / fitted
    phase = np.where(cycles >= count, 1.0, frac(cycles))
    return phase, fitted


def ballistic(x: np.ndarray, flight: np.ndarray | float) -> np.ndarray:
    """Height of a free flight lasting `flight` seconds, `x` seconds after take-off (g = 9.81)."""
    inside = (x >= 0.0) & (x <= flight)
    return np.where(inside, 0.5 * GRAVITY * x * (flight - x), 0.0)


def hops(cycles: np.ndarray, period: np.ndarray, flight: np.ndarray | float) -> np.ndarray:
    """Lift of repeated hops: one ballistic flight at the start of every cycle."""
    return ballistic(frac(cycles) * period, flight)


def gait_angle(
    phase: np.ndarray, reach: np.ndarray, duty: float, lead: np.ndarray, length: float
) -> np.ndarray:
    """Angle of one limb in a cyclic gait, phase 0 = touch-down.

    During stance (phase < duty) the contact point moves linearly from `reach` in front of the
    joint to `reach` behind it, so it stays put on the ground while the body travels at
    2 * reach / (duty * period). During swing it returns, swinging `lead` radians wider than
    the mirror path so the foot clears the ground except where the limbs cross.
    """
    stance = phase < duty
    u = np.where(stance, phase / duty, (phase - duty) / (1.0 - duty))
    x = np.where(stance, reach * (1.0 - 2.0 * u), reach * (2.0 * u - 1.0))
    angle = np.arcsin(np.clip(x / length, -1.0, 1.0))
    return angle - np.where(stance, 0.0, lead * np.sin(TAU * u))


def warp_flight(
    phase: np.ndarray, start: float, end: np.ndarray, canon_start: float, canon_end: float
) -> np.ndarray:
    """Map a cycle phase whose flight spans [start, end] onto canonical keys spanning
    [canon_start, canon_end], piecewise linearly, so key poses line up with take-off and landing
    whatever the real flight time is."""
    before = phase * canon_start / start
    during = canon_start + (phase - start) * (canon_end - canon_start) / (end - start)
    after = canon_end + (phase - end) * (1.0 - canon_end) / (1.0 - end)
    return np.where(phase < start, before, np.where(phase < end, during, after))
