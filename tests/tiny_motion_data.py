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


def write_tiny_dataset(
    out_dir: Path, num_samples: int = 48, frames: int = 100, seed: int = 0
) -> Path:
    """A dataset of `num_samples` single-action clips; splits 70/15/15 by sample; no embeddings."""
    rng = np.random.default_rng(seed)
    kinds = list(ACTIONS)
    actions = [kinds[i % len(kinds)] for i in range(num_samples)]
    motion = np.stack([make_clip(a, frames, rng) for a in actions])
    split = np.zeros(num_samples, dtype=np.uint8)
    split[int(0.7 * num_samples) :] = 1
    split[int(0.85 * num_samples) :] = 2
    with DatasetWriter(out_dir, num_samples, frames) as writer:
        writer.write(
            0,
            descriptions=[ACTIONS[a] for a in actions],
            motion=motion,
            actions=np.repeat(np.array(actions, dtype=np.uint8)[:, None], frames, axis=1),
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
