"""Tiny hand-made motion datasets for the model, training and inference tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stickgen.data.store import DatasetWriter
from stickgen.physics import physics_from_motion
from stickgen.schema import FACE_DIM, FPS, ActionType
from stickgen.skeleton import ARM_LENGTH, LEG_LENGTH, TORSO_LENGTH

ACTIONS = {
    ActionType.IDLE: "a person standing still",
    ActionType.WALK: "a person walking forward",
    ActionType.WAVE: "a person waving a hand",
    ActionType.JUMP: "a person jumping up and down",
}


def _limb(start: np.ndarray, angle: np.ndarray, length: float) -> np.ndarray:
    """End point of a limb hanging at `angle` radians from straight down (positive = forward)."""
    return start + length * np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def make_clip(action: ActionType, frames: int, rng: np.random.Generator) -> np.ndarray:
    """float32 `[frames, 20]` motion of one action with random phase, speed and start."""
    t = np.arange(frames) / FPS
    phase = rng.uniform(0, 2 * np.pi)
    x0 = rng.uniform(-1.0, 1.0)
    hip = np.stack([np.full(frames, x0), np.full(frames, LEG_LENGTH)], axis=-1)
    swing = np.zeros(frames)
    left_arm = np.full(frames, 0.15)
    right_arm = np.full(frames, -0.15)
    if action == ActionType.WALK:
        speed = rng.uniform(1.2, 1.6)
        hip[:, 0] += speed * t
        swing = 0.45 * np.sin(2 * np.pi * 1.8 * t + phase)
        left_arm, right_arm = -0.8 * swing, 0.8 * swing
        hip[:, 1] -= 0.03 * (1 - np.cos(2 * swing))
    elif action == ActionType.WAVE:
        right_arm = np.pi - 0.5 + 0.45 * np.sin(2 * np.pi * 2.0 * t + phase)
    elif action == ActionType.JUMP:
        hop = np.maximum(0.0, np.sin(2 * np.pi * 1.2 * t + phase))
        hip[:, 1] += 0.35 * hop
        left_arm = right_arm = 0.3 + 2.2 * hop
    neck = hip + np.array([0.0, TORSO_LENGTH])
    motion = np.concatenate(
        [
            neck,
            hip,
            neck,
            _limb(neck, left_arm, ARM_LENGTH),
            neck,
            _limb(neck, right_arm, ARM_LENGTH),
            hip,
            _limb(hip, swing, LEG_LENGTH),
            hip,
            _limb(hip, -swing, LEG_LENGTH),
        ],
        axis=-1,
    )
    return motion.astype(np.float32)


SEQUENCES = {  # two-action clips: the switch time is random, so only a plan can say when
    (ActionType.WALK, ActionType.WAVE): "a person walking forward, then waving a hand",
    (ActionType.IDLE, ActionType.JUMP): "a person standing still, then jumping up and down",
}


def make_sequence(
    first: ActionType, second: ActionType, switch: int, frames: int, rng: np.random.Generator
) -> np.ndarray:
    """`first` until frame `switch`, then `second`, continuing from where the figure stood."""
    a, b = make_clip(first, frames, rng), make_clip(second, frames, rng)
    b[:, 0::2] += a[switch, 2] - b[switch, 2]  # same hip x at the switch
    return np.concatenate([a[:switch], b[switch:]])


def write_tiny_dataset(
    out_dir: Path, num_samples: int = 48, frames: int = 100, seed: int = 0
) -> Path:
    """A dataset of `num_samples` clips (every third one a two-action sequence); splits
    70/15/15 by sample; no embeddings."""
    rng = np.random.default_rng(seed)
    kinds, pairs = list(ACTIONS), list(SEQUENCES)
    labels, clips, descriptions = [], [], []
    for i in range(num_samples):
        if i % 3 == 2:
            first, second = pairs[(i // 3) % len(pairs)]
            switch = int(rng.integers(frames * 3 // 10, frames * 7 // 10))
            clips.append(make_sequence(first, second, switch, frames, rng))
            labels.append(np.where(np.arange(frames) < switch, first, second))
            descriptions.append(SEQUENCES[(first, second)])
        else:
            action = kinds[(i - i // 3) % len(kinds)]
            clips.append(make_clip(action, frames, rng))
            labels.append(np.full(frames, action))
            descriptions.append(ACTIONS[action])
    motion = np.stack(clips)
    split = np.zeros(num_samples, dtype=np.uint8)
    split[int(0.7 * num_samples) :] = 1
    split[int(0.85 * num_samples) :] = 2
    with DatasetWriter(out_dir, num_samples, frames) as writer:
        writer.write(
            0,
            descriptions=descriptions,
            motion=motion,
            actions=np.stack(labels).astype(np.uint8),
            physics=physics_from_motion(motion),
            face=np.zeros((num_samples, frames, FACE_DIM), dtype=np.float32),
            scene_id=np.arange(num_samples, dtype=np.int64),
            split=split,
            augmentation=np.zeros(num_samples, dtype=np.uint8),
        )
        return writer.finish({"seed": seed})


def embed_tiny_dataset(dataset_dir: Path, text_model: Path) -> Path:
    """Embed a tiny dataset's descriptions with the real small text model (no cache)."""
    from stickgen.embed import embed_dataset

    embed_dataset(dataset_dir, model=text_model, use_cache=False)
    return dataset_dir
