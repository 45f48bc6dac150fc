"""Phase 1 at scale: random scenes -> motion, actions, physics, face -> augmented dataset on disk.

Work is cut into batches of `batch_size` base scenes. Batch b draws everything (scenes, motion,
augmentation parameters, splits) from `numpy.random.SeedSequence(seed, spawn_key=(b,))`, so the
dataset depends on (seed, num_base, batch_size, augmentation config, code versions) and never on
how many worker processes ran or which one ran a batch. Results are written in batch order.

Sample layout: base scene i gives samples `i*K .. i*K+K-1` (K = 1 + number of augmentations):
the original, then one copy per augmentation in `AugmentConfig.kinds` order. All copies share the
scene's `scene_id` and split, so augmented copies of a scene never straddle splits.

Shards: `shard=(i, n)` generates the i-th of n contiguous ranges of *batches*; merging the n shard
datasets in order (`merge_datasets`) gives exactly the unsharded dataset.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.data.augment import AugmentConfig, ClipBatch, augment_batch, mentions_side
from stickgen.data.store import AUGMENTATIONS, DatasetWriter, RowSlot, write_rows
from stickgen.errors import Cancelled, StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.schema import CLIP_FRAMES, FPS, NUM_ACTIONS, Scene, action_vocabulary

BATCH_SIZE = 128  # base scenes per batch: part of the recipe (changing it changes the data)
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True)
class Recipe:
    """Everything that determines the generated data (recorded in the manifest)."""

    seed: int
    num_base: int
    batch_size: int = BATCH_SIZE
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    fps: int = FPS
    frames: int = CLIP_FRAMES

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("none", *(self.augment.kinds if self.augment else ()))

    @property
    def num_batches(self) -> int:
        return math.ceil(self.num_base / self.batch_size)

    def scenes_of(self, batch: int) -> range:
        lo = batch * self.batch_size
        return range(lo, min(lo + self.batch_size, self.num_base))


@dataclass
class BatchResult:
    """One batch of finished samples, in sample order."""

    batch: int
    first_scene: int
    descriptions: list[str]
    histogram: np.ndarray  # frames per action label
    fields: dict[str, np.ndarray]  # per-sample arrays; {} once a worker wrote them to the files

    def __len__(self) -> int:
        return len(self.descriptions)


def _engines() -> tuple[Callable, Callable, Callable]:
    """The story, motion and face engines (imported lazily: workers import them themselves)."""
    from stickgen.face import face_tracks
    from stickgen.motion import synthesize_batch
    from stickgen.story import sample_scene

    return sample_scene, synthesize_batch, face_tracks


def _interleave(variants: list[np.ndarray]) -> np.ndarray:
    """[V] x [B, ...] -> [B*V, ...] with the V variants of one clip next to each other."""
    stacked = np.stack(variants, axis=1)
    return stacked.reshape(-1, *stacked.shape[2:])


def _sample_scenes(recipe: Recipe, count: int, rng: np.random.Generator) -> list[Scene]:
    """`count` random scenes; refuses descriptions that name a side (mirroring would lie)."""
    sample_scene = _engines()[0]
    scenes = [sample_scene(rng, duration=recipe.frames / recipe.fps) for _ in range(count)]
    for scene in scenes:
        if mentions_side(scene.description):
            raise RuntimeError(
                f"the story sampler named a side in {scene.description!r}; mirrored copies "
                "would contradict it"
            )
    return scenes


def _animate(recipe: Recipe, scenes: list[Scene], rng: np.random.Generator) -> ClipBatch:
    """Motion, actions, physics and face of actor 0 of every scene."""
    _, synthesize_batch, face_tracks = _engines()
    motion, actions, physics = synthesize_batch(scenes, fps=recipe.fps, rng=rng)
    if motion.shape[1] != recipe.frames:
        raise RuntimeError(f"motion engine gave {motion.shape[1]} frames, not {recipe.frames}")
    upper = np.stack([scene.upper_track(0, recipe.fps) for scene in scenes])
    expression = np.stack([scene.expression_track(0, recipe.fps) for scene in scenes])
    face = face_tracks(actions, recipe.fps, upper, expression)
    return ClipBatch(np.asarray(motion, np.float32), np.asarray(actions, np.int64), physics, face)


def _draw_splits(recipe: Recipe, count: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 split code per scene: val with probability val_fraction, test likewise."""
    u = rng.random(count)
    val, test = recipe.val_fraction, recipe.val_fraction + recipe.test_fraction
    split = np.where(u < val, SPLIT_CODES["val"], SPLIT_CODES["train"])
    return np.where((u >= val) & (u < test), SPLIT_CODES["test"], split).astype(np.uint8)


def planned_splits(recipe: Recipe) -> np.ndarray:
    """The split code of every base scene of `recipe`, as `generate_batch` draws it, without
    making any scene (lets a caller refuse, before any work, a dataset too small to have a
    train and a val split)."""
    parts = [np.zeros(0, dtype=np.uint8)]
    for batch in range(recipe.num_batches):
        split_seq = np.random.SeedSequence(recipe.seed, spawn_key=(batch,)).spawn(4)[3]
        count = len(recipe.scenes_of(batch))
        parts.append(_draw_splits(recipe, count, np.random.default_rng(split_seq)))
    return np.concatenate(parts)


def generate_batch(
    recipe: Recipe, batch: int, stage: Callable[[float, str], None] | None = None
) -> BatchResult:
    """Generate every sample of one batch; a pure function of (recipe, batch). `stage(share,
    name)` hears how far into the batch the work is (progress within a batch)."""
    stage = stage or (lambda share, name: None)
    scene_seq, motion_seq, augment_seq, split_seq = np.random.SeedSequence(
        recipe.seed, spawn_key=(batch,)
    ).spawn(4)
    scene_ids = recipe.scenes_of(batch)
    scenes = _sample_scenes(recipe, len(scene_ids), np.random.default_rng(scene_seq))
    stage(0.1, "scenes planned")
    base = _animate(recipe, scenes, np.random.default_rng(motion_seq))
    stage(0.5, "motion made")
    variants = [base]
    if recipe.augment is not None:
        rng = np.random.default_rng(augment_seq)
        variants += [clips for _, clips in augment_batch(base, rng, recipe.augment, recipe.fps)]
        stage(0.9, "augmented")
    copies = len(variants)
    codes = np.array([AUGMENTATIONS.index(k) for k in recipe.kinds], dtype=np.uint8)
    fields = {
        "motion": _interleave([v.motion for v in variants]),
        "actions": _interleave([v.actions for v in variants]).astype(np.uint8),
        "physics": _interleave([v.physics for v in variants]),
        "face": _interleave([v.face for v in variants]),
        "scene_id": np.repeat(np.asarray(scene_ids, dtype=np.int64), copies),
        "split": np.repeat(
            _draw_splits(recipe, len(scenes), np.random.default_rng(split_seq)), copies
        ),
        "augmentation": np.tile(codes, len(scenes)),
    }
    descriptions = [scene.description for scene in scenes for _ in range(copies)]
    histogram = np.bincount(fields["actions"].ravel(), minlength=NUM_ACTIONS)
    return BatchResult(batch, scene_ids.start, descriptions, histogram, fields)


def _generate_into_files(
    recipe: Recipe, batch: int, slots: dict[str, RowSlot], first_scene: int
) -> BatchResult:
    """Worker side: generate one batch and write its rows straight into the dataset files, so
    that only descriptions and counts travel back to the main process."""
    result = generate_batch(recipe, batch)
    start = (result.first_scene - first_scene) * len(recipe.kinds)
    result.fields["source"] = np.zeros(len(result), dtype=np.uint8)
    for name, rows in result.fields.items():
        write_rows(slots[name], start, rows)
    result.fields = {}
    return result


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run_batches(
    recipe: Recipe,
    batches: range,
    workers: int,
    writer: DatasetWriter,
    first_scene: int,
    on_stage: Callable[[int, float, str], None] | None = None,
) -> Iterator[BatchResult]:
    """Results of `batches` in order: computed in-process (rows returned, `on_stage(batch,
    share, name)` hearing progress within each), or by a pool of worker processes that write
    rows into the files themselves, at most 2 batches per worker in flight."""
    if workers <= 1 or len(batches) <= 1 or multiprocessing.current_process().daemon:
        # Daemonic processes (e.g. a Celery prefork child) may not start children: run inline.
        for batch in batches:
            stage = None if on_stage is None else partial(on_stage, batch)
            yield generate_batch(recipe, batch, stage)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context)
    slots = writer.slots()

    def submit(batch: int) -> Future[BatchResult]:
        return pool.submit(_generate_into_files, recipe, batch, slots, first_scene)

    todo = iter(batches)
    pending: deque[Future[BatchResult]] = deque(
        submit(batch) for _, batch in zip(range(2 * workers), todo, strict=False)
    )
    try:
        while pending:
            result = pending.popleft().result()
            next_batch = next(todo, None)
            if next_batch is not None:
                pending.append(submit(next_batch))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _batch_range(recipe: Recipe, shard: tuple[int, int] | None) -> range:
    if shard is None:
        return range(recipe.num_batches)
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise StickGenError(f"shard {index} of {count} does not exist")
    if count > recipe.num_batches:
        raise StickGenError(
            f"{count} shards but only {recipe.num_batches} batches of {recipe.batch_size} scenes"
        )
    n = recipe.num_batches
    return range(index * n // count, (index + 1) * n // count)


def _versions() -> dict[str, Any]:
    import stickgen.motion
    import stickgen.story

    versions: dict[str, Any] = {"stickgen": stickgen.__version__, "numpy": np.__version__}
    for name, module in (("story", stickgen.story), ("motion", stickgen.motion)):
        versions[name] = getattr(module, "VERSION", getattr(module, "__version__", None))
    return versions


def _manifest(
    recipe: Recipe, shard: tuple[int, int] | None, batches: range, histogram: np.ndarray
) -> dict[str, Any]:
    first = recipe.scenes_of(batches.start).start
    last = recipe.scenes_of(batches.stop - 1).stop
    total = max(int(histogram.sum()), 1)
    return {
        "seed": recipe.seed,
        "fps": recipe.fps,
        "generator": {
            "name": "stickgen.data.generate",
            "num_base": recipe.num_base,
            "batch_size": recipe.batch_size,
            "samples_per_scene": len(recipe.kinds),
            "augment": recipe.augment.to_dict() if recipe.augment else None,
            "val_fraction": recipe.val_fraction,
            "test_fraction": recipe.test_fraction,
            "duration": recipe.frames / recipe.fps,
            "versions": _versions(),
            "shard": (
                None
                if shard is None
                else {"index": shard[0], "count": shard[1], "scenes": [first, last]}
            ),
        },
        "action_share": {
            name: round(int(c) / total, 6)
            for name, c in zip(action_vocabulary(), histogram, strict=True)
        },
    }


def _check_arguments(num_base: int, val_fraction: float, test_fraction: float, batch_size: int):
    if num_base < 1:
        raise StickGenError(f"the number of base scenes must be at least 1, got {num_base}")
    if batch_size < 1:
        raise StickGenError(f"batch size must be at least 1, got {batch_size}")
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise StickGenError(
            f"split fractions val={val_fraction}, test={test_fraction} must be >= 0 "
            "and leave some training data"
        )


def generate_dataset(
    out_dir: str | Path,
    num_base: int = 100_000,
    *,
    augment: bool = True,
    seed: int = 0,
    workers: int | None = None,
    shard: tuple[int, int] | None = None,
    val_fraction: float = 0.05,
    test_fraction: float = 0.05,
    overwrite: bool = False,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
) -> Path:
    """Generate a dataset of `num_base` scenes (x5 with augmentation) into `out_dir`.

    Deterministic in `seed` whatever `workers` is (default: all usable cores). `should_stop` is
    polled between batches; when it returns True the partial dataset is deleted and `Cancelled`
    is raised. Returns the dataset directory.
    """
    _check_arguments(num_base, val_fraction, test_fraction, batch_size)
    if workers is not None and workers < 1:
        raise StickGenError(f"workers must be at least 1, got {workers}")
    recipe = Recipe(
        seed=seed,
        num_base=num_base,
        batch_size=batch_size,
        augment=AugmentConfig() if augment else None,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
    batches = _batch_range(recipe, shard)
    first_scene = recipe.scenes_of(batches.start).start
    scenes = recipe.scenes_of(batches.stop - 1).stop - first_scene
    per_scene = len(recipe.kinds)
    total = scenes * per_scene
    stop = should_stop or (lambda: False)
    histogram = np.zeros(NUM_ACTIONS, dtype=np.int64)
    with DatasetWriter(out_dir, total, recipe.frames, overwrite=overwrite) as writer:
        if stop():
            raise Cancelled("dataset generation cancelled before it started")
        progress(0, total, "generating")

        def on_stage(batch: int, share: float, name: str) -> None:
            own = recipe.scenes_of(batch)
            done = (own.start - first_scene + share * len(own)) * per_scene
            number = batch - batches.start + 1
            progress(int(done), total, f"batch {number}/{len(batches)}: {name}")

        workers = workers or default_workers()
        results = _run_batches(recipe, batches, workers, writer, first_scene, on_stage)
        try:
            for done, result in enumerate(results, start=1):
                start = (result.first_scene - first_scene) * per_scene
                if result.fields:
                    writer.write(start, descriptions=result.descriptions, **result.fields)
                else:  # a worker wrote the rows
                    writer.adopt(start, descriptions=result.descriptions)
                histogram += result.histogram
                progress(start + len(result), total, f"batch {done}/{len(batches)}")
                if stop() and done < len(batches):
                    raise Cancelled(f"dataset generation cancelled after {done} batches")
        finally:
            results.close()
        progress(total, total, "checksums")
        return writer.finish(_manifest(recipe, shard, batches, histogram))
