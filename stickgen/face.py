"""Face tracks: per-frame facial features derived from action labels (design section 4).

A face row is `FaceFeatures.to_vector()`: expression id, eye type id, eyebrow angle (degrees),
mouth shape id, mouth openness 0..1, speaking 0/1, speech Hz.

Rules, per frame:

* Each action has a default expression, mouth shape and speech rate (`ACTION_SPECS`).
* A layered upper-body action lends its expression when the main action's is neutral, and its
  mouth and speech when it speaks and the main action does not ("walking and talking").
* A prompt's emotion (`expression` track, -1 = none) overrides the expression.
* The expression sets eye type and eyebrow angle (`EXPRESSION_FACES`). When the expression is not
  the mouth-giving action's own default and that action's mouth is only a resting shape (closed,
  smile, frown), the mouth becomes the expression's resting mouth; working mouths (talking,
  eating, panting) stay.
* Speaking actions oscillate mouth openness at their rate between a per-action low and high
  (`SPEECH_OPENNESS`), with a phase that runs continuously, so the mouth never jumps.

Transitions: a change lasts `TRANSITION_SECONDS` (0.3 s) from the boundary between two frames.
The continuous fields (eyebrow angle, resting mouth openness and the speech amplitude) follow a
smoothstep curve over that window, implemented as a causal filter so overlapping changes blend
without jumps. The categorical ids (expression, eye type, mouth shape) switch at the midpoint of the
window. `speaking` and `speech Hz` follow the action labels without delay, being facts about the
action rather than about the face's appearance.
"""

from __future__ import annotations

import math

import numpy as np

from stickgen.errors import StickGenError
from stickgen.schema import (
    ACTION_SPECS,
    FACE_DIM,
    FPS,
    NUM_ACTIONS,
    ActionType,
    EyeType,
    FacialExpression,
    MouthShape,
)

TRANSITION_SECONDS = 0.3

_E = FacialExpression
# expression -> (eye type, eyebrow angle in degrees, resting mouth). Positive angles raise the
# inner ends of the brows (worry, sadness); negative angles pull them down into a frown.
EXPRESSION_FACES: dict[FacialExpression, tuple[EyeType, float, MouthShape]] = {
    _E.NEUTRAL: (EyeType.DOTS, 0.0, MouthShape.CLOSED),
    _E.HAPPY: (EyeType.ARCS, 6.0, MouthShape.SMILE),
    _E.SAD: (EyeType.DROOPY, 22.0, MouthShape.FROWN),
    _E.SURPRISED: (EyeType.WIDE, 12.0, MouthShape.SMALL_O),
    _E.ANGRY: (EyeType.NARROW, -28.0, MouthShape.FROWN),
    _E.EXCITED: (EyeType.WIDE, 8.0, MouthShape.OPEN),
}

# Mouth openness when the mouth is not speaking.
MOUTH_OPENNESS: dict[MouthShape, float] = {
    MouthShape.CLOSED: 0.0,
    MouthShape.SMILE: 0.0,
    MouthShape.FROWN: 0.0,
    MouthShape.OPEN: 0.45,
    MouthShape.WIDE_OPEN: 0.85,
    MouthShape.SMALL_O: 0.35,
    MouthShape.SINGING: 0.6,
}
RESTING_MOUTHS = (MouthShape.CLOSED, MouthShape.SMILE, MouthShape.FROWN)

# Speaking actions: (lowest, highest) mouth openness of the speech cycle.
SPEECH_OPENNESS: dict[ActionType, tuple[float, float]] = {
    ActionType.TALK: (0.1, 0.6),
    ActionType.SHOUT: (0.4, 1.0),
    ActionType.WHISPER: (0.05, 0.25),
    ActionType.SING: (0.3, 0.9),
}
_DEFAULT_SPEECH_OPENNESS = (0.1, 0.6)


def _tables() -> dict[str, np.ndarray]:
    """Per-action and per-expression lookup arrays for vectorised indexing."""
    specs = [ACTION_SPECS[a] for a in ActionType]
    speech = [
        SPEECH_OPENNESS.get(a, _DEFAULT_SPEECH_OPENNESS) if s.speech_hz > 0 else (0.0, 0.0)
        for a, s in zip(ActionType, specs, strict=True)
    ]
    faces = [EXPRESSION_FACES[e] for e in FacialExpression]
    return {
        "expr": np.array([s.expression for s in specs], dtype=np.int64),
        "mouth": np.array([s.mouth for s in specs], dtype=np.int64),
        "hz": np.array([s.speech_hz for s in specs], dtype=np.float32),
        "speech_lo": np.array([lo for lo, _ in speech], dtype=np.float32),
        "speech_amp": np.array([hi - lo for lo, hi in speech], dtype=np.float32),
        "eye": np.array([f[0] for f in faces], dtype=np.int64),
        "brow": np.array([f[1] for f in faces], dtype=np.float32),
        "rest_mouth": np.array([f[2] for f in faces], dtype=np.int64),
        "open": np.array([MOUTH_OPENNESS[m] for m in MouthShape], dtype=np.float32),
        "is_resting": np.array([m in RESTING_MOUTHS for m in MouthShape], dtype=bool),
    }


_T = _tables()


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def transition_kernel(fps: int) -> np.ndarray:
    """Causal filter weights: a step becomes a smoothstep over TRANSITION_SECONDS.

    Frame k after a boundary sits at (k + 0.5) / fps seconds, so its eased value is
    smoothstep((k + 0.5) / n) with n = TRANSITION_SECONDS * fps frames.
    """
    n = TRANSITION_SECONDS * fps
    k = np.arange(math.ceil(n + 0.5), dtype=np.float64)
    upper = _smoothstep((k + 0.5) / n)
    lower = np.where(k > 0, _smoothstep((k - 0.5) / n), 0.0)
    return (upper - lower).astype(np.float32)


def switch_delay(fps: int) -> int:
    """Frames after a boundary at which categorical ids switch: the transition's midpoint."""
    n = TRANSITION_SECONDS * fps
    return max(0, math.ceil(n / 2 - 0.5))


def _ease(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Causal filter along the last axis, holding the first value before the clip starts."""
    pad = len(kernel) - 1
    xp = np.concatenate([np.repeat(x[..., :1], pad, axis=-1), x], axis=-1)
    t = x.shape[-1]
    out = np.zeros_like(x)
    for k, w in enumerate(kernel):
        out += w * xp[..., pad - k : pad - k + t]
    return out


def _delay(x: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 0:
        return x
    t = x.shape[-1]
    idx = np.maximum(np.arange(t) - frames, 0)
    return x[..., idx]


def _labels(name: str, values: np.ndarray | None, shape: tuple[int, ...], high: int) -> np.ndarray:
    """Validate an int label track (-1 allowed except for actions) and return it as int64."""
    if values is None:
        return np.full(shape, -1, dtype=np.int64)
    arr = np.asarray(values)
    if arr.shape != shape:
        raise StickGenError(f"{name} has shape {arr.shape}, expected {shape}")
    whole = np.issubdtype(arr.dtype, np.integer) or bool(
        np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    )
    if not whole:
        raise StickGenError(f"{name} must hold integer labels")
    arr = arr.astype(np.int64)
    low = 0 if name == "actions" else -1
    if arr.size and (arr.min() < low or arr.max() >= high):
        raise StickGenError(f"{name} labels must lie in {low}..{high - 1}")
    return arr


def face_tracks(
    actions: np.ndarray,
    fps: int = FPS,
    upper: np.ndarray | None = None,
    expression: np.ndarray | None = None,
) -> np.ndarray:
    """float32 `[B, T, 7]` face rows for a batch of int action tracks `[B, T]`.

    `upper` (layered upper-body action) and `expression` (prompt emotion override) are int
    `[B, T]` with -1 where unset. See the module docstring for the rules.
    """
    acts = np.asarray(actions)
    if acts.ndim != 2:
        raise StickGenError(f"actions must be [B, T], got shape {acts.shape}")
    if fps <= 0:
        raise StickGenError("fps must be positive")
    a = _labels("actions", acts, acts.shape, NUM_ACTIONS)
    u = _labels("upper", upper, a.shape, NUM_ACTIONS)
    e = _labels("expression", expression, a.shape, len(FacialExpression))
    tb = _T
    if a.shape[1] == 0:
        return np.zeros((*a.shape, FACE_DIM), dtype=np.float32)

    has_u = u >= 0
    uc = np.where(has_u, u, 0)
    neutral = int(FacialExpression.NEUTRAL)
    expr_from_upper = has_u & (tb["expr"][a] == neutral) & (tb["expr"][uc] != neutral)
    speech_from_upper = has_u & (tb["hz"][a] == 0) & (tb["hz"][uc] > 0)
    source = np.where(speech_from_upper, uc, a)  # the action that gives mouth and speech

    expr = np.where(expr_from_upper, tb["expr"][uc], tb["expr"][a])
    expr = np.where(e >= 0, e, expr)
    mouth = tb["mouth"][source]
    restyle = tb["is_resting"][mouth] & (expr != tb["expr"][source])
    mouth = np.where(restyle, tb["rest_mouth"][expr], mouth)

    hz = tb["hz"][source]
    speaking = hz > 0
    base_open = np.where(speaking, tb["speech_lo"][source], tb["open"][mouth])
    amp = tb["speech_amp"][source]

    kernel = transition_kernel(fps)
    brow = _ease(tb["brow"][expr], kernel)
    base_open = _ease(base_open.astype(np.float32), kernel)
    amp = _ease(amp, kernel)
    # Speech phase accumulates continuously (cycles so far, before this frame's step).
    cycles = np.cumsum(hz / fps, axis=-1) - hz / fps
    openness = base_open + amp * (0.5 - 0.5 * np.cos(2.0 * np.pi * cycles))

    delay = switch_delay(fps)
    out = np.empty((*a.shape, FACE_DIM), dtype=np.float32)
    out[..., 0] = _delay(expr, delay)
    out[..., 1] = _delay(tb["eye"][expr], delay)
    out[..., 2] = brow
    out[..., 3] = _delay(mouth, delay)
    out[..., 4] = np.clip(openness, 0.0, 1.0)
    out[..., 5] = speaking
    out[..., 6] = hz
    return out


def face_track(
    actions: np.ndarray,
    fps: int = FPS,
    upper: np.ndarray | None = None,
    expression: np.ndarray | None = None,
) -> np.ndarray:
    """float32 `[T, 7]` face rows for one int action track `[T]` (see `face_tracks`)."""
    acts = np.asarray(actions)
    if acts.ndim != 1:
        raise StickGenError(f"actions must be [T], got shape {acts.shape}")

    def batch(x: np.ndarray | None) -> np.ndarray | None:
        return None if x is None else np.asarray(x)[None]

    return face_tracks(acts[None], fps, batch(upper), batch(expression))[0]
