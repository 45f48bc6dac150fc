"""What gets scored: the test set, and every system that turns its prompts into motion.

A system's `generate(items, seeds)` returns float32 motion `[len(items), T, 20]` for test items
`items` (indices into the `TestSet`), item k drawn with integer seed `seeds[k]`. Ground truth,
baselines and calibration rows all go through this one path, like a trained checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.schema import FPS, TRAVELS, Scene
from stickgen.skeleton import BODY_HEIGHT

NOISE_LEVELS = (0.005, 0.01, 0.02, 0.05)  # calibration noise std, in body heights
POOL_LIMIT = 10_000  # training clips kept in memory for the retrieval and random baselines


@dataclass
class TestSet:
    """The scored prompts: dataset descriptions with their real motion and the story engine's
    plan for each description (the labels a generator is asked to follow)."""

    indices: np.ndarray  # dataset sample indices
    descriptions: list[str]
    motion: np.ndarray  # float32 [N, T, 20], the ground truth
    labels: np.ndarray  # int64 [N, T], the dataset's own labels
    scenes: list[Scene]  # parse_prompt(description, T / fps)
    plan: np.ndarray  # int64 [N, T], actor 0's action track of each scene
    fps: int = FPS

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def frames(self) -> int:
        return int(self.motion.shape[1])

    @property
    def in_place(self) -> np.ndarray:
        """bool `[N]`: every action of the plan has no travel speed (the figure stays put)."""
        return ~TRAVELS[self.plan].any(axis=1)

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        split: str = "test",
        *,
        include_augmented: bool = False,
        max_samples: int | None = None,
        seed: int = 0,
    ) -> TestSet:
        """The split's samples (original clips only unless `include_augmented`), at most
        `max_samples` of them drawn with `seed`, in dataset order."""
        from stickgen.story import parse_prompt

        indices = dataset.split_indices(split)
        if not include_augmented:
            indices = indices[np.asarray(dataset.augmentation)[indices] == 0]
        if max_samples is not None and len(indices) > max_samples:
            indices = np.sort(
                np.random.default_rng(seed).choice(indices, max_samples, replace=False)
            )
        if len(indices) < 2:
            raise StickGenError(
                f"the {split} split of {dataset.path} has {len(indices)} usable samples; "
                "evaluation needs at least 2"
            )
        fps = int(dataset.manifest.get("fps", FPS))
        descriptions = [dataset.description(int(i)) for i in indices]
        duration = dataset.frames / fps
        scenes = [parse_prompt(text, duration) for text in descriptions]
        return cls(
            indices=indices,
            descriptions=descriptions,
            motion=np.asarray(dataset.motion[indices], dtype=np.float32),
            labels=np.asarray(dataset.actions[indices], dtype=np.int64),
            scenes=scenes,
            plan=np.stack([scene.action_track(0, fps) for scene in scenes]),
            fps=fps,
        )


@dataclass
class TrainingPool:
    """Original training clips and their descriptions (for retrieval and random baselines)."""

    indices: np.ndarray
    motion: np.ndarray  # float32 [M, T, 20]
    description_rows: np.ndarray  # row of dataset.descriptions per clip

    @classmethod
    def from_dataset(cls, dataset: Dataset, seed: int = 0, limit: int = POOL_LIMIT) -> TrainingPool:
        indices = dataset.split_indices("train")
        indices = indices[np.asarray(dataset.augmentation)[indices] == 0]
        if len(indices) > limit:
            indices = np.sort(np.random.default_rng(seed).choice(indices, limit, replace=False))
        if len(indices) == 0:
            raise StickGenError(f"{dataset.path} has no original training clips")
        return cls(
            indices=indices,
            motion=np.asarray(dataset.motion[indices], dtype=np.float32),
            description_rows=np.asarray(dataset.description_index)[indices].astype(np.int64),
        )


@dataclass
class System:
    """A named way of producing motion for test prompts (see the module docstring)."""

    name: str
    kind: str  # "reference", "baseline", "calibration" or "checkpoint"
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class GroundTruth(System):
    """The test set's own motion."""

    def __init__(self, test: TestSet, name: str = "ground truth", kind: str = "reference"):
        super().__init__(name, kind)
        self.test = test

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        return self.test.motion[np.asarray(items)]


class Procedural(System):
    """The procedural motion engine animating the story engine's plan of each description
    (style drawn from the seed)."""

    def __init__(self, test: TestSet) -> None:
        super().__init__("procedural engine", "baseline")
        self.test = test

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        from stickgen.motion import synthesize

        return np.stack(
            [
                synthesize(
                    self.test.scenes[int(i)], self.test.fps, np.random.default_rng(int(s))
                ).motion
                for i, s in zip(items, seeds, strict=True)
            ]
        ).astype(np.float32)


class NearestTraining(System):
    """The training clip whose description is nearest (cosine) to the test description in a
    text embedding space; deterministic."""

    def __init__(
        self,
        test: TestSet,
        pool: TrainingPool,
        test_embeddings: np.ndarray,
        pool_text_embeddings: np.ndarray,
        text_model: str,
    ) -> None:
        super().__init__("nearest training motion", "baseline", [f"retrieval by {text_model}"])
        similarity = np.asarray(test_embeddings) @ np.asarray(pool_text_embeddings).T
        self.choice = similarity.argmax(axis=1)  # [N] -> pool clip
        self.pool = pool

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        return self.pool.motion[self.choice[np.asarray(items)]]


class RandomTraining(System):
    """A training clip drawn at random (with the seed), whatever the prompt says."""

    def __init__(self, pool: TrainingPool) -> None:
        super().__init__("random training motion", "baseline")
        self.pool = pool

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        picks = [np.random.default_rng(int(s)).integers(len(self.pool.motion)) for s in seeds]
        return self.pool.motion[np.asarray(picks, dtype=np.int64)]


class StaticMeanPose(System):
    """The mean training pose (every coordinate averaged over the pool's frames), held still
    for the whole clip."""

    def __init__(self, pool: TrainingPool, frames: int) -> None:
        super().__init__("static mean pose", "baseline")
        self.pose = pool.motion.reshape(-1, pool.motion.shape[-1]).mean(axis=0)
        self.frames = frames

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.pose, (len(items), self.frames, len(self.pose))).astype(
            np.float32
        )


class NoisyGroundTruth(System):
    """Ground truth plus i.i.d. Gaussian noise on every coordinate of every frame, with a
    standard deviation of `fraction` x body height (a calibration row)."""

    def __init__(self, test: TestSet, fraction: float) -> None:
        super().__init__(f"ground truth + {100 * fraction:g}% noise", "calibration")
        self.test = test
        self.sigma = fraction * BODY_HEIGHT

    def generate(self, items: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        clean = self.test.motion[np.asarray(items)]
        noise = np.stack(
            [np.random.default_rng(int(s)).normal(0.0, self.sigma, clean.shape[1:]) for s in seeds]
        )
        return (clean + noise).astype(np.float32)


def baseline_systems(
    test: TestSet,
    pool: TrainingPool,
    test_embeddings: np.ndarray,
    pool_text_embeddings: np.ndarray,
    text_model: str,
    noise_levels: tuple[float, ...] = NOISE_LEVELS,
) -> list[System]:
    """Ground truth, the baselines and the noise calibration rows, in table order."""
    return [
        GroundTruth(test),
        Procedural(test),
        NearestTraining(test, pool, test_embeddings, pool_text_embeddings, text_model),
        RandomTraining(pool),
        StaticMeanPose(pool, test.frames),
        *(NoisyGroundTruth(test, level) for level in noise_levels),
    ]
