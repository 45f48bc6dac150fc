"""Learned inference: generate from text (+ plan) with a trained checkpoint, and its refusals."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from tiny_motion_data import ACTIONS, SEQUENCES, embed_tiny_dataset, write_tiny_dataset

from stickgen.errors import StickGenError
from stickgen.infer import constant_segment_lengths, hold_in_place, load_generator
from stickgen.physics import physics_from_motion
from stickgen.schema import MIN_DURATION, NUM_ACTIONS, ActionSegment, ActionType, Actor, Scene
from stickgen.skeleton import segment_lengths
from stickgen.train import TrainConfig, load_checkpoint, train
from stickgen.train.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, text_model_path):
    root = tmp_path_factory.mktemp("infer")
    dataset = write_tiny_dataset(root / "tiny", num_samples=48, frames=50)  # 2 s clips
    embed_tiny_dataset(dataset, text_model_path)
    config = TrainConfig(
        preset="tiny",
        epochs=60,
        batch_size=8,
        accumulate=1,
        lr=3e-3,
        warmup_epochs=1,
        checkpoint_every=60,
        precision="fp32",
    )
    result = train(dataset, root / "run", config, threads=1, text_model=text_model_path)
    return result.last_checkpoint


def _text_only(description: str, duration: float = 2.0) -> Scene:
    return Scene(description, actors=[], duration=duration)


def _hip_travel(clip) -> float:
    return float(clip.motion[-1, 2] - clip.motion[0, 2])


def test_generates_the_described_action_from_text_alone(checkpoint):
    generator = load_generator(checkpoint)
    walk = generator.generate(_text_only(ACTIONS[ActionType.WALK]))
    stand = generator.generate(_text_only(ACTIONS[ActionType.IDLE]))
    wave = generator.generate(_text_only(ACTIONS[ActionType.WAVE]))
    assert np.mean(walk.actions == ActionType.WALK) > 0.8
    assert np.mean(stand.actions == ActionType.IDLE) > 0.8
    assert np.mean(wave.actions == ActionType.WAVE) > 0.8
    assert _hip_travel(walk) > 2.0  # the data walks at 1.2-1.6 m/s
    assert abs(_hip_travel(stand)) < 0.5
    # waving raises the right hand (end of segment 2) above the neck; standing does not
    assert np.mean(wave.motion[:, 11] > wave.motion[:, 9]) > 0.8
    assert np.mean(stand.motion[:, 11] > stand.motion[:, 9]) < 0.2


def test_seed_picks_the_noise_deterministically(checkpoint):
    generator = load_generator(checkpoint)
    scene = _text_only(ACTIONS[ActionType.JUMP])
    one, again, two = (generator.generate(scene, seed=s).motion for s in (1, 1, 2))
    assert np.array_equal(one, again)
    assert not np.array_equal(one, two)
    assert np.array_equal(generator.generate(scene).motion, generator.generate(scene).motion)


def _walk_then_wave(switch: float, duration: float = 2.0) -> Scene:
    segments = [
        ActionSegment(ActionType.WALK, 0.0, switch),
        ActionSegment(ActionType.WAVE, switch, duration),
    ]
    return Scene(SEQUENCES[(ActionType.WALK, ActionType.WAVE)], [Actor(segments)], duration)


def test_the_action_plan_says_when_actions_change(checkpoint):
    generator = load_generator(checkpoint)
    for switch in (0.6, 1.4):  # same text, different plans
        scene = _walk_then_wave(switch)
        clip = generator.generate(scene, seed=0)
        assert np.mean(clip.actions == scene.action_track()) > 0.9


@pytest.mark.parametrize("duration", [MIN_DURATION, 4.0, 7.3])
def test_output_contract_for_any_duration(checkpoint, duration):
    scene = _walk_then_wave(duration / 2, duration)
    clip = load_generator(checkpoint).generate(scene, seed=1)
    frames = scene.num_frames()
    assert clip.motion.shape == (frames, 20) and clip.motion.dtype == np.float32
    assert clip.actions.shape == (frames,) and clip.actions.dtype == np.int64
    assert clip.physics.shape == (frames, 6)
    assert np.isfinite(clip.motion).all() and np.isfinite(clip.physics).all()
    assert ((clip.actions >= 0) & (clip.actions < NUM_ACTIONS)).all()
    lengths = segment_lengths(clip.motion)
    assert np.ptp(lengths, axis=0).max() < 1e-5  # one length per segment for the whole clip
    assert (lengths > 0.2).all()
    seg = clip.motion.reshape(-1, 5, 2, 2)
    np.testing.assert_allclose(seg[:, 1, 0], seg[:, 0, 0], atol=1e-6)  # arms start at the neck
    np.testing.assert_allclose(seg[:, 3, 0], seg[:, 0, 1], atol=1e-6)  # legs start at the hip
    np.testing.assert_allclose(clip.physics, physics_from_motion(clip.motion), atol=1e-4)
    again = load_generator(checkpoint).generate(scene, seed=1)
    assert np.array_equal(again.motion, clip.motion)


def test_loader_is_cached_per_path_and_mtime(checkpoint):
    first = load_generator(checkpoint)
    assert load_generator(str(checkpoint)) is first
    stat = checkpoint.stat()
    os.utime(checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_generator(checkpoint) is not first


def test_constant_segment_lengths_keeps_directions_and_uses_the_median():
    rng = np.random.default_rng(0)
    seg = np.zeros((30, 5, 2, 2))
    hip = rng.normal(size=(30, 2))
    dirs = rng.normal(size=(30, 5, 2))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    true_lengths = np.array([0.5, 0.7, 0.7, 0.9, 0.9])
    noisy = true_lengths * rng.uniform(0.9, 1.1, size=(30, 5))
    neck = hip - noisy[:, :1] * dirs[:, 0]
    seg[:, 0, 0], seg[:, 0, 1] = neck, hip
    for k, start in ((1, neck), (2, neck), (3, hip), (4, hip)):
        seg[:, k, 0] = start + rng.normal(scale=0.01, size=(30, 2))  # slightly detached
        seg[:, k, 1] = seg[:, k, 0] + noisy[:, k : k + 1] * dirs[:, k]
    fixed = constant_segment_lengths(seg.reshape(30, 20))
    np.testing.assert_allclose(
        segment_lengths(fixed), np.broadcast_to(np.median(noisy, 0), (30, 5)), atol=1e-5
    )
    out = fixed.reshape(30, 5, 2, 2)
    np.testing.assert_allclose(out[:, 0, 1], hip, atol=1e-6)
    got_dirs = (out[:, :, 1] - out[:, :, 0]) / segment_lengths(fixed)[..., None]
    np.testing.assert_allclose(got_dirs, dirs, atol=1e-5)  # every segment keeps its direction


def test_refusals(checkpoint, tmp_path, text_model_path):
    with pytest.raises(StickGenError, match="no checkpoint"):
        load_generator(tmp_path / "missing.pt")
    payload = load_checkpoint(checkpoint)

    other = dict(payload, embedding_model="BAAI/bge-large-en-v1.5")
    path = save_checkpoint(tmp_path / "other_text_model.pt", other)
    with pytest.raises(StickGenError, match=r"trained with text model 'BAAI/bge-large-en-v1\.5'"):
        load_generator(path)

    unknown = dict(
        payload, embedding={k: v for k, v in payload["embedding"].items() if k != "source"}
    )
    path = save_checkpoint(tmp_path / "no_source.pt", unknown)
    with pytest.raises(StickGenError, match="directory is not known"):
        load_generator(path)
    assert load_generator(path, text_model=text_model_path).text_dim == 384

    narrow = dict(
        payload,
        config={**payload["config"], "model": {**payload["config"]["model"], "text_dim": 16}},
    )
    narrow["model"] = dict(payload["model"])
    narrow["model"]["text_mlp.0.weight"] = torch.zeros(64, 16)
    narrow["model"]["text_mean"] = torch.zeros(16)  # the text standardisation's centre
    path = save_checkpoint(tmp_path / "narrow.pt", narrow)
    with pytest.raises(StickGenError, match="expects 16-d text embeddings"):
        load_generator(path)

    generator = load_generator(checkpoint)
    with pytest.raises(StickGenError):
        generator.generate(_text_only("   "))
    for duration in (0.0, MIN_DURATION / 2, 61.0):  # the library's one duration limit
        with pytest.raises(StickGenError, match=r"duration must be between 0\.5 and 60"):
            generator.generate(_text_only("a person walking", duration=duration))


def _standing_slide(frames: int, metres: float, lift: float = 0.0) -> np.ndarray:
    """A figure standing with straight legs whose whole body slides `metres` along x."""
    hip = np.array([0.0, 0.9 + lift])
    neck = hip + np.array([0.0, 0.55])
    hand = neck - np.array([0.0, 0.7])
    foot = hip - np.array([0.0, 0.9])
    row = np.concatenate([neck, hip, neck, hand, neck, hand, hip, foot, hip, foot])
    motion = np.tile(row, (frames, 1)).astype(np.float32)
    motion[:, 0::2] += np.linspace(0.0, metres, frames, dtype=np.float32)[:, None]
    return motion


def test_the_hip_stays_put_only_while_the_action_does_not_travel() -> None:
    sliding = _standing_slide(100, 1.0)
    idle = np.full(100, int(ActionType.IDLE))
    walk = np.full(100, int(ActionType.WALK))
    held = hold_in_place(sliding, idle)
    # the hip no longer travels (the smoothing moves it 1 cm within half a window of the ends)
    assert np.ptp(held[:, 2]) < 0.03 and np.ptp(held[5:-5, 2]) < 1e-3
    np.testing.assert_allclose(held[:, 1::2], sliding[:, 1::2])  # heights untouched
    np.testing.assert_allclose(hold_in_place(sliding, walk), sliding)  # walking travels
    airborne = _standing_slide(100, 1.0, lift=0.3)  # a hop in place holds its place too
    assert np.ptp(hold_in_place(airborne, idle)[5:-5, 2]) < 1e-3
    half = np.where(np.arange(100) < 50, int(ActionType.IDLE), int(ActionType.WALK))
    mixed = hold_in_place(sliding, half)
    assert np.ptp(mixed[5:45, 2]) < 1e-3 and mixed[-1, 2] - mixed[55, 2] > 0.4


def test_feet_that_move_under_a_held_hip_move_as_the_model_made_them() -> None:
    """Sitting or lying down, the engine keeps the hip and moves the feet: so does the hold."""
    stretching = _standing_slide(100, 0.0)
    stretching[:, [14, 18]] += np.linspace(0.0, 0.8, 100, dtype=np.float32)[:, None]  # feet
    sit = np.full(100, int(ActionType.SIT))
    np.testing.assert_allclose(hold_in_place(stretching, sit), stretching)
