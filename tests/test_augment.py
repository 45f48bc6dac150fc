"""Augmentations keep every field consistent with the new motion."""

from __future__ import annotations

import numpy as np
import pytest

from stickgen.data.augment import (
    AugmentConfig,
    ClipBatch,
    augment_batch,
    change_speed,
    mentions_side,
    mirror_clips,
    scale_figure,
    shift_position,
)
from stickgen.physics import physics_from_motion
from stickgen.schema import FPS, ActionType
from stickgen.skeleton import (
    ARM_LENGTH,
    HEAD_RADIUS,
    LEG_LENGTH,
    MIRROR_PERMUTATION,
    TORSO_LENGTH,
    lowest_point,
    segment_lengths,
)

T = 250
CHANGE = 100  # frame where the hand-built clips switch from walking to waving


def _polar(origin: np.ndarray, length: float, angle: np.ndarray) -> np.ndarray:
    """End point of a bone of `length` hanging at `angle` from straight down (forward positive)."""
    return origin + length * np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def make_clips(batch: int = 3, seed: int = 0) -> ClipBatch:
    """Connected walking-then-waving figures, feet on the ground, then a talking face."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / FPS
    motion = np.zeros((batch, T, 20))
    for b in range(batch):
        freq = rng.uniform(0.8, 1.6)
        swing = 0.45 * np.sin(2 * np.pi * freq * t)
        legs = np.stack([swing, -swing])  # left, right leg angles
        hip_y = LEG_LENGTH * np.cos(legs).min(axis=0)
        hip_x = rng.uniform(-1, 1) + np.cumsum(np.where(np.arange(T) < CHANGE, 1.4 / FPS, 0.0))
        hip = np.stack([hip_x, hip_y], axis=-1)
        neck = hip + TORSO_LENGTH * np.array([np.sin(0.09), np.cos(0.09)])  # a slight lean
        wave = np.where(np.arange(T) < CHANGE, -swing, np.pi - 0.6 + 0.5 * np.sin(9 * t))
        hands = [_polar(neck, ARM_LENGTH, -swing), _polar(neck, ARM_LENGTH, wave)]
        feet = [_polar(hip, LEG_LENGTH, legs[0]), _polar(hip, LEG_LENGTH, legs[1])]
        bones = [(neck, hip), (neck, hands[0]), (neck, hands[1]), (hip, feet[0]), (hip, feet[1])]
        motion[b] = np.concatenate([np.concatenate(pair, axis=-1) for pair in bones], axis=-1)
    motion = motion.astype(np.float32)
    actions = np.where(np.arange(T) < CHANGE, ActionType.WALK, ActionType.WAVE)
    actions = np.repeat(actions[None].astype(np.int64), batch, axis=0)
    face = np.zeros((batch, T, 7), dtype=np.float32)
    talking = np.arange(T) >= CHANGE
    face[:, :, 0] = np.where(talking, 1, 0)  # expression
    face[:, :, 2] = np.linspace(-5, 5, T)  # eyebrow angle
    face[:, :, 4] = np.where(talking, 0.5 + 0.5 * np.sin(2 * np.pi * 8 * t), 0)  # openness
    face[:, :, 5] = talking
    face[:, :, 6] = np.where(talking, 8.0, 0.0)
    return ClipBatch(motion, actions, physics_from_motion(motion), face)


def _bone_length_spread(motion: np.ndarray) -> float:
    lengths = segment_lengths(motion.astype(np.float64))
    return float((np.ptp(lengths, axis=1) / lengths.mean(axis=1)).max())


def test_hand_built_clips_are_valid_figures():
    clips = make_clips()
    assert _bone_length_spread(clips.motion) < 1e-5
    assert abs(lowest_point(clips.motion).min()) < 1e-5


def test_mirror_twice_is_identity_and_swaps_limbs():
    clips = make_clips()
    once = mirror_clips(clips)
    twice = mirror_clips(once)
    np.testing.assert_allclose(twice.motion, clips.motion, atol=1e-5)
    # Once: the left arm of the mirrored clip is the original right arm, reflected in x.
    left_arm = once.motion[..., 4:8]
    right_arm = clips.motion[..., 8:12]
    np.testing.assert_allclose(left_arm[..., 1::2], right_arm[..., 1::2], atol=1e-6)
    assert not np.allclose(left_arm[..., 0::2], right_arm[..., 0::2])
    np.testing.assert_array_equal(
        once.motion[..., MIRROR_PERMUTATION][..., 1::2], clips.motion[..., 1::2]
    )
    np.testing.assert_array_equal(once.actions, clips.actions)
    np.testing.assert_array_equal(once.face, clips.face)
    # The figure now travels the other way.
    assert np.sign(once.physics[:, :CHANGE, 0].mean()) == -np.sign(
        clips.physics[:, :CHANGE, 0].mean()
    )


@pytest.mark.parametrize("factor", [0.8, 1.25, 1.1])
def test_speed_moves_action_change_by_the_factor(factor):
    clips = make_clips()
    fast = change_speed(clips, np.full(len(clips), factor))
    assert fast.motion.shape == clips.motion.shape
    for row in fast.actions:
        change = int(np.flatnonzero(np.diff(row))[0]) + 1
        assert abs(change - CHANGE / factor) <= 1
    # Labels follow the motion: the hips stop travelling where the label becomes WAVE.
    moving = np.abs(fast.physics[:, :, 0]) > 0.5
    labels_walk = fast.actions == ActionType.WALK
    assert (moving[:, 5:-5] <= labels_walk[:, 5:-5]).all()


def test_speed_keeps_bones_joints_ground_and_scales_speech():
    clips = make_clips()
    factors = np.array([0.8, 1.0, 1.25])
    out = change_speed(clips, factors)
    assert _bone_length_spread(out.motion) < 1e-4
    seg = out.motion.reshape(len(clips), T, 5, 2, 2)
    np.testing.assert_allclose(seg[:, :, 1, 0], seg[:, :, 0, 0], atol=1e-5)  # arms on the neck
    np.testing.assert_allclose(seg[:, :, 3, 0], seg[:, :, 0, 1], atol=1e-5)  # legs on the hip
    assert lowest_point(out.motion).min() >= -1e-5
    speaking = out.face[..., 5] > 0.5
    hz = out.face[..., 6]
    for b, f in enumerate(factors):
        np.testing.assert_allclose(hz[b][speaking[b]], 8.0 * f, rtol=1e-5)
    np.testing.assert_array_equal(out.motion[1], clips.motion[1])  # factor 1 changes nothing
    # The faster clip ends on a held pose: zero velocity there.
    assert np.abs(out.physics[2, -20:, :2]).max() < 1e-4


def test_scale_keeps_proportions_and_ground():
    clips = make_clips()
    scale = np.array([0.85, 1.0, 1.15])
    out = scale_figure(clips, scale)
    before = segment_lengths(clips.motion.astype(np.float64))
    after = segment_lengths(out.motion.astype(np.float64))
    np.testing.assert_allclose(
        after / before, np.broadcast_to(scale[:, None, None], after.shape), rtol=1e-5
    )
    assert abs(lowest_point(out.motion).min()) < 1e-5
    np.testing.assert_allclose(
        out.physics[..., 0], clips.physics[..., 0] * scale[:, None], atol=1e-3
    )


def test_scale_never_sinks_the_fixed_size_head_into_the_ground():
    hip, neck = np.array([0.0, HEAD_RADIUS]), np.array([TORSO_LENGTH, HEAD_RADIUS])  # lying down
    frame = np.concatenate([neck, hip, neck, neck - [ARM_LENGTH, 0], neck, neck - [ARM_LENGTH, 0]])
    frame = np.concatenate([frame, hip, hip - [LEG_LENGTH, 0], hip, hip - [LEG_LENGTH, 0]])
    motion = np.repeat(frame[None, None].astype(np.float32), T, axis=1)
    clips = ClipBatch(
        motion,
        np.zeros((1, T), np.int64),
        physics_from_motion(motion),
        np.zeros((1, T, 7), np.float32),
    )
    assert abs(lowest_point(motion).min()) < 1e-6  # the head rests on the ground
    out = scale_figure(clips, np.array([0.85]))
    assert lowest_point(out.motion).min() >= -1e-6
    ratio = segment_lengths(out.motion.astype(np.float64)) / segment_lengths(
        motion.astype(np.float64)
    )
    np.testing.assert_allclose(ratio, 0.85, rtol=1e-5)


def test_position_changes_only_x():
    clips = make_clips()
    shift = np.array([-1.0, 0.5, 2.0])
    out = shift_position(clips, shift)
    np.testing.assert_allclose(
        out.motion[..., 0::2] - clips.motion[..., 0::2],
        np.broadcast_to(shift[:, None, None], (3, T, 10)),
        atol=1e-5,
    )
    np.testing.assert_array_equal(out.motion[..., 1::2], clips.motion[..., 1::2])
    np.testing.assert_array_equal(out.actions, clips.actions)
    np.testing.assert_array_equal(out.face, clips.face)
    np.testing.assert_allclose(out.physics, clips.physics, atol=1e-3)


def test_every_augmentation_recomputes_physics_and_is_deterministic():
    clips = make_clips(batch=4)
    first = augment_batch(clips, np.random.default_rng(7))
    again = augment_batch(clips, np.random.default_rng(7))
    other = augment_batch(clips, np.random.default_rng(8))
    assert [kind for kind, _ in first] == list(AugmentConfig().kinds)
    for (kind, out), (_, same), (_, diff) in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(out.physics, physics_from_motion(out.motion), err_msg=kind)
        np.testing.assert_array_equal(out.motion, same.motion, err_msg=kind)
        if kind != "mirror":
            assert not np.array_equal(out.motion, diff.motion), kind
        assert np.isfinite(out.motion).all() and out.motion.dtype == np.float32


def test_config_rejects_unknown_kinds_and_bad_ranges():
    with pytest.raises(ValueError, match="unknown"):
        AugmentConfig(kinds=("rotate",))
    with pytest.raises(ValueError):
        AugmentConfig(speed_range=(0.0, 1.0))


def test_side_words_are_detected():
    assert mentions_side("A person waves with the left hand")
    assert mentions_side("Turning RIGHT")
    assert not mentions_side("A person walks and waves happily")
    assert not mentions_side("They were leftover brightness")
