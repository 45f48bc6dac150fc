"""A per-frame action classifier over windowed motion features, trained on synthetic clips.

Imported motion capture has no per-frame action labels; this classifier, trained on clips from
the procedural engine (whose labels are exact), infers them. It works on any `[T, 20]` motion,
so evaluation can use it to check what a generated clip is doing.

Features per frame: the pose relative to the hip (neck, hands, feet), hip height, lowest foot,
hip velocity; their mean and spread over a short and a long window around the frame; mean speed.
The model is a small two-layer network (trained with torch, run in numpy), fitted on the clips
and their mirror images so it does not depend on which way the figure faces. Predictions are
smoothed by averaging class probabilities over half a second.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.schema import FPS, NUM_ACTIONS
from stickgen.skeleton import as_segments, mirror_motion

SHORT_WINDOW_S = 0.5
LONG_WINDOW_S = 1.5
SMOOTH_S = 0.5
HIDDEN = 96
BATCH = 1024


def frame_features(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Per-frame quantities `[..., T, 14]`: hip-relative pose, hip height, lowest foot, hip
    velocity (m/s)."""
    seg = as_segments(np.asarray(motion, dtype=np.float64))
    hip = seg[..., 0, 1, :]
    neck = seg[..., 0, 0, :]
    ends = seg[..., 1:, 1, :]  # hands and feet
    pose = np.concatenate([neck[..., None, :], ends], axis=-2) - hip[..., None, :]
    lowest = ends[..., 2:, 1].min(axis=-1, keepdims=True)
    velocity = np.gradient(hip, axis=-2) * fps if motion.shape[-2] > 1 else np.zeros_like(hip)
    flat = pose.reshape(*pose.shape[:-2], -1)
    return np.concatenate([flat, hip[..., 1:], lowest, velocity], axis=-1)


def window_features(motion: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Windowed features `[..., T, F]` (F = 58) for every frame of `[..., T, 20]` motion."""
    per_frame = frame_features(motion, fps)
    axis = per_frame.ndim - 2
    parts = []
    for seconds in (SHORT_WINDOW_S, LONG_WINDOW_S):
        size = max(1, round(seconds * fps))
        mean = uniform_filter1d(per_frame, size, axis=axis, mode="nearest")
        square = uniform_filter1d(per_frame**2, size, axis=axis, mode="nearest")
        parts += [mean, np.sqrt(np.maximum(square - mean**2, 0.0))]
    speed = np.abs(per_frame[..., -2:-1])
    size = max(1, round(SHORT_WINDOW_S * fps))
    parts.append(uniform_filter1d(speed, size, axis=axis, mode="nearest"))
    parts.append(
        uniform_filter1d(speed, max(1, round(LONG_WINDOW_S * fps)), axis=axis, mode="nearest")
    )
    return np.concatenate(parts, axis=-1).astype(np.float32)


@dataclass
class ActionClassifier:
    """Standardised features -> ReLU layer -> ReLU layer -> action logits."""

    mean: np.ndarray
    scale: np.ndarray
    weights: list[np.ndarray]  # w1, b1, w2, b2, w3, b3
    fps: float = FPS

    @classmethod
    def fit(
        cls,
        motion: np.ndarray,
        actions: np.ndarray,
        *,
        fps: float = FPS,
        seed: int = 0,
        steps: int = 400,
        stride: int = 2,
        mirror: bool = True,
        progress: Progress = no_progress,
    ) -> ActionClassifier:
        """Train on clips `[N, T, 20]` with labels `[N, T]` (and their mirror images)."""
        import torch

        motion = np.asarray(motion, dtype=np.float32)
        actions = np.asarray(actions, dtype=np.int64)
        if motion.ndim != 3 or actions.shape != motion.shape[:2]:
            raise StickGenError("fit needs motion [N, T, 20] and actions [N, T]")
        clips = [motion, mirror_motion(motion)] if mirror else [motion]
        feats = np.concatenate([window_features(m, fps)[:, ::stride] for m in clips])
        labels = np.concatenate([actions[:, ::stride]] * len(clips))
        x = feats.reshape(-1, feats.shape[-1])
        y = labels.reshape(-1)
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        counts = np.bincount(y, minlength=NUM_ACTIONS).astype(np.float64)
        class_weight = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
        class_weight *= counts.sum() / max((class_weight * counts).sum(), 1e-12)

        generator = torch.Generator().manual_seed(seed)
        dims = (x.shape[1], HIDDEN, HIDDEN, NUM_ACTIONS)
        params = []
        for fan_in, fan_out in itertools.pairwise(dims):
            bound = 1.0 / np.sqrt(fan_in)
            w = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
            params += [w.requires_grad_(), torch.zeros(fan_out, requires_grad=True)]
        xt = torch.from_numpy(((x - mean) / scale).astype(np.float32))
        yt = torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=torch.tensor(class_weight, dtype=torch.float32), label_smoothing=0.05
        )
        optimizer = torch.optim.Adam(params, lr=3e-3, weight_decay=1e-5)
        batch = min(BATCH, xt.shape[0])
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small matrices: extra threads only contend for the cores
        try:
            for step in range(steps):
                idx = torch.randint(0, xt.shape[0], (batch,), generator=generator)
                loss = loss_fn(_forward_torch(params, xt[idx]), yt[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if step % 50 == 0 or step == steps - 1:
                    progress(step + 1, steps, f"classifier loss {loss.item():.3f}")
        finally:
            torch.set_num_threads(threads)
        weights = [p.detach().numpy().astype(np.float32) for p in params]
        return cls(mean.astype(np.float32), scale.astype(np.float32), weights, float(fps))

    def _logits(self, features: np.ndarray) -> np.ndarray:
        x = (features - self.mean) / self.scale
        w1, b1, w2, b2, w3, b3 = self.weights
        h = np.maximum(x @ w1 + b1, 0.0)
        h = np.maximum(h @ w2 + b2, 0.0)
        return h @ w3 + b3

    def _smoothed(self, logits: np.ndarray) -> np.ndarray:
        logits = logits - logits.max(axis=-1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=-1, keepdims=True)
        size = max(1, round(SMOOTH_S * self.fps))
        return uniform_filter1d(p, size, axis=p.ndim - 2, mode="nearest")

    def probabilities(self, motion: np.ndarray) -> np.ndarray:
        """Smoothed class probabilities `[..., T, NUM_ACTIONS]` for `[..., T, 20]` motion."""
        return self._smoothed(self._logits(window_features(motion, self.fps)))

    def predict(self, motion: np.ndarray) -> np.ndarray:
        """int64 action labels `[..., T]`."""
        return self.probabilities(motion).argmax(axis=-1).astype(np.int64)

    def predict_many(self, motions: list[np.ndarray]) -> list[np.ndarray]:
        """Labels for clips of different lengths (`[T_i, 20]` each), in one network pass."""
        if not motions:
            return []
        features = [window_features(m, self.fps) for m in motions]
        logits = self._logits(np.concatenate(features))
        bounds = np.cumsum([len(f) for f in features])[:-1]
        return [
            self._smoothed(part).argmax(axis=-1).astype(np.int64)
            for part in np.split(logits, bounds)
        ]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays = {f"w{i}": w for i, w in enumerate(self.weights)}
        np.savez(path, mean=self.mean, scale=self.scale, fps=np.array(self.fps), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ActionClassifier:
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                weights = [data[f"w{i}"] for i in range(6)]
                return cls(data["mean"], data["scale"], weights, float(data["fps"]))
        except (OSError, KeyError, ValueError) as exc:
            raise StickGenError(f"cannot load an action classifier from {path}: {exc}") from None


def _forward_torch(params, x):
    import torch

    w1, b1, w2, b2, w3, b3 = params
    h = torch.relu(x @ w1 + b1)
    h = torch.relu(h @ w2 + b2)
    return h @ w3 + b3


def synthetic_training_clips(
    num_scenes: int, seed: int = 0, fps: int = FPS
) -> tuple[np.ndarray, np.ndarray]:
    """Random scenes from the story sampler through the procedural motion engine."""
    try:
        from stickgen.motion import synthesize_batch
        from stickgen.story import sample_scene
    except ImportError as exc:  # the engines are separate parts of Stick-Gen
        raise StickGenError(f"the synthetic motion engine is unavailable ({exc})") from None
    rng = np.random.default_rng(seed)
    scenes = [sample_scene(rng) for _ in range(num_scenes)]
    motion, actions, _ = synthesize_batch(scenes, fps=fps, rng=rng)
    return np.asarray(motion, dtype=np.float32), np.asarray(actions, dtype=np.int64)


def train_on_synthetic(
    num_scenes: int = 256, seed: int = 0, fps: int = FPS, progress: Progress = no_progress
) -> ActionClassifier:
    """Fit an ActionClassifier on `num_scenes` random synthetic scenes."""
    motion, actions = synthetic_training_clips(num_scenes, seed, fps)
    return ActionClassifier.fit(motion, actions, fps=fps, seed=seed, progress=progress)
