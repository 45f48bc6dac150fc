"""Face tracks: defaults per action, layering, emotion override, eased transitions, speech rate."""

from __future__ import annotations

import time

import numpy as np
import pytest

from stickgen.errors import StickGenError
from stickgen.face import EXPRESSION_FACES, TRANSITION_SECONDS, face_track, face_tracks
from stickgen.schema import (
    ACTION_SPECS,
    FACE_DIM,
    ActionType,
    FaceFeatures,
    FacialExpression,
    MouthShape,
)

A = ActionType
E = FacialExpression


def constant(action: ActionType, frames: int = 50) -> np.ndarray:
    return np.full(frames, int(action), dtype=np.int64)


def steady(track: np.ndarray) -> FaceFeatures:
    """The face in the last frame of a track (long after any transition)."""
    return FaceFeatures.from_vector(track[-1])


@pytest.mark.parametrize(
    "action", [A.IDLE, A.WALK, A.WAVE, A.CRY, A.SHOUT, A.CATCH, A.CELEBRATE, A.PUNCH]
)
def test_defaults_follow_action_specs(action: ActionType) -> None:
    track = face_track(constant(action))
    assert track.shape == (50, FACE_DIM) and track.dtype == np.float32
    face = steady(track)
    spec = ACTION_SPECS[action]
    eye, brow, _ = EXPRESSION_FACES[spec.expression]
    assert face.expression == spec.expression
    assert face.mouth_shape == spec.mouth
    assert face.eye_type == eye
    assert face.eyebrow_angle == pytest.approx(brow)
    assert face.speaking == (spec.speech_hz > 0)
    assert face.speech_hz == pytest.approx(spec.speech_hz)


def test_expressions_have_distinct_eyes_or_brows() -> None:
    looks = {(eye, brow) for eye, brow, _ in EXPRESSION_FACES.values()}
    assert len(looks) == len(FacialExpression)
    happy, sad, angry = (EXPRESSION_FACES[e] for e in (E.HAPPY, E.SAD, E.ANGRY))
    assert sad[1] > 0 > angry[1]  # worried brows vs frowning brows
    assert happy[2] == MouthShape.SMILE and sad[2] == MouthShape.FROWN


def test_layered_upper_action_lends_expression_and_speech() -> None:
    walk = constant(A.WALK)
    waving = steady(face_track(walk, upper=constant(A.WAVE)))
    assert waving.expression == E.HAPPY and waving.mouth_shape == MouthShape.SMILE
    talking = steady(face_track(walk, upper=constant(A.TALK)))
    assert talking.speaking and talking.speech_hz == pytest.approx(8.0)
    # A main action with its own expression keeps it.
    kicking = steady(face_track(constant(A.KICK), upper=constant(A.WAVE)))
    assert kicking.expression == ACTION_SPECS[A.KICK].expression


def test_emotion_override() -> None:
    sad_wave = steady(face_track(constant(A.WAVE), expression=constant(E.SAD)))
    assert sad_wave.expression == E.SAD
    assert sad_wave.eye_type == EXPRESSION_FACES[E.SAD][0]
    assert sad_wave.mouth_shape == MouthShape.FROWN  # the smile was only a resting mouth
    angry_talk = face_track(constant(A.TALK, 100), expression=constant(E.ANGRY, 100))
    face = steady(angry_talk)
    assert face.expression == E.ANGRY and face.speaking
    assert face.mouth_shape == ACTION_SPECS[A.TALK].mouth  # a working mouth stays
    assert angry_talk[:, 4].std() > 0.05  # still moving
    # -1 means no override.
    unset = face_track(constant(A.WAVE), expression=np.full(50, -1))
    np.testing.assert_array_equal(unset, face_track(constant(A.WAVE)))


@pytest.mark.parametrize("fps", [25, 100])
def test_expression_change_eases_over_transition(fps: int) -> None:
    change = 2 * fps
    actions = np.concatenate([constant(A.IDLE, change), constant(A.CRY, 2 * fps)])
    track = face_track(actions, fps=fps)
    brow = track[:, 2].astype(np.float64)
    old, new = brow[0], brow[-1]
    assert new != old
    progress = (brow - old) / (new - old)
    moving = np.flatnonzero((progress > 1e-6) & (progress < 1 - 1e-6))
    assert moving[0] == change  # starts at the boundary, not before
    rise = (moving[-1] + 1 - change) / fps  # boundary to the first frame at the new value
    assert rise == pytest.approx(TRANSITION_SECONDS, abs=1.0 / fps)
    assert np.all(np.diff(progress) >= -1e-6)  # monotonic
    # Smooth: eases in and out, so the steepest step is in the middle, the ends are gentle.
    steps = np.diff(progress[change - 1 : moving[-1] + 2])
    assert steps.argmax() not in (0, len(steps) - 1)
    # Categorical ids switch at the midpoint of the eased change.
    switched = np.flatnonzero(track[:, 0] == E.SAD)[0]
    assert switched == np.flatnonzero(progress >= 0.5)[0]
    assert np.all(track[switched:, 1] == EXPRESSION_FACES[E.SAD][0])


def dominant_hz(signal: np.ndarray, fps: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal - signal.mean()))
    freqs = np.fft.rfftfreq(len(signal), 1.0 / fps)
    return float(freqs[spectrum.argmax()])


@pytest.mark.parametrize(
    ("action", "hz"), [(A.TALK, 8.0), (A.SHOUT, 6.0), (A.WHISPER, 10.0), (A.SING, 4.0)]
)
def test_speaking_mouth_oscillates_at_its_rate(action: ActionType, hz: float) -> None:
    fps = 25
    track = face_track(constant(action, 10 * fps), fps=fps)
    openness = track[:, 4].astype(np.float64)
    assert dominant_hz(openness, fps) == pytest.approx(hz, abs=0.15)
    assert np.all(track[:, 5] == 1) and np.all(track[:, 6] == hz)
    assert openness.min() >= 0 and openness.max() <= 1


def test_speech_amplitude_shout_wide_whisper_small() -> None:
    def swing(action: ActionType) -> float:
        openness = face_track(constant(action, 500), fps=100)[:, 4]
        return float(openness.max() - openness.min())

    assert swing(A.SHOUT) > swing(A.TALK) > swing(A.WHISPER) > 0.1


def test_silent_actions_do_not_speak() -> None:
    track = face_track(constant(A.WAVE))
    assert np.all(track[:, 5] == 0) and np.all(track[:, 6] == 0)
    assert np.ptp(track[:, 4]) == 0


def test_speech_never_jumps() -> None:
    actions = np.concatenate([constant(A.IDLE, 50), constant(A.SHOUT, 50), constant(A.IDLE, 50)])
    openness = face_track(actions, fps=100)[:, 4]
    assert np.abs(np.diff(openness)).max() < 0.25


def test_batch_equals_single() -> None:
    rng = np.random.default_rng(7)
    batch, frames = 6, 120
    actions = np.repeat(rng.integers(0, len(ActionType), (batch, frames // 10)), 10, axis=1)
    upper = np.where(rng.random((batch, frames)) < 0.4, int(A.TALK), -1)
    expression = np.repeat(rng.integers(-1, len(FacialExpression), (batch, frames // 20)), 20, 1)
    tracks = face_tracks(actions, upper=upper, expression=expression)
    assert tracks.shape == (batch, frames, FACE_DIM)
    for i in range(batch):
        single = face_track(actions[i], upper=upper[i], expression=expression[i])
        np.testing.assert_array_equal(tracks[i], single)


def test_deterministic_and_rows_decode() -> None:
    actions = np.repeat(np.arange(len(ActionType)), 7)
    first, second = face_track(actions), face_track(actions)
    np.testing.assert_array_equal(first, second)
    for row in first:
        FaceFeatures.from_vector(row)  # every id is a valid enum member


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actions": np.array([0, 99])}, "actions"),
        ({"actions": np.array([0, -1])}, "actions"),
        ({"actions": np.zeros(5, int), "upper": np.zeros(4, int)}, "upper"),
        ({"actions": np.zeros(5, int), "expression": np.full(5, 17)}, "expression"),
        ({"actions": np.zeros((2, 5), int)}, r"\[T\]"),
    ],
)
def test_bad_tracks_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(StickGenError, match=message):
        face_track(**kwargs)


def test_batch_throughput() -> None:
    """The dataset generator calls this on thousands of clips; keep it fast (lenient bound)."""
    rng = np.random.default_rng(0)
    actions = np.repeat(rng.integers(0, len(ActionType), (1000, 25)), 10, axis=1)
    face_tracks(actions[:10])
    start = time.perf_counter()
    face_tracks(actions)
    assert time.perf_counter() - start < 1.0
