"""Procedural motion engine benchmark: ten-second scenes per second on one core (run by hand).

    .venv/bin/python benchmarks/motion.py [--scenes 4096] [--seconds 3] [--seed 0]

Times `stickgen.motion.synthesize_batch` (motion, labels and physics, random style) on random
ten-second scenes at 25 fps, in batches of 64, 256 and 1024, and prints scenes/s and the ratio to
the baseline: the 85 samples/s the original plan measured for its motion generator. Scenes come
from the story sampler (`stickgen.story.sample_scene`) when it is available, else from a built-in
sampler of 1-4 back-to-back random segments, a third of them with an upper-body action.
Set OMP_NUM_THREADS=1 (the default here) to measure one core; numpy's element-wise work is
single-threaded anyway.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from stickgen.motion import synthesize_batch
from stickgen.schema import (
    ACTION_SPECS,
    CLIP_SECONDS,
    ActionSegment,
    ActionType,
    Actor,
    Layer,
    Scene,
)

BASELINE = 85.0  # samples/s of the original plan's motion generation
BATCH_SIZES = (64, 256, 1024)
UPPER = [a for a in ActionType if ACTION_SPECS[a].layer == Layer.UPPER]


def random_scene(rng: np.random.Generator) -> Scene:
    """1-4 back-to-back random segments filling ten seconds."""
    count = int(rng.integers(1, 5))
    edges = np.concatenate([[0.0], np.sort(rng.uniform(0, CLIP_SECONDS, count - 1)), [10.0]])
    segments = [
        ActionSegment(
            ActionType(int(rng.integers(len(ActionType)))),
            float(edges[i]),
            float(edges[i + 1]),
            upper=UPPER[int(rng.integers(len(UPPER)))] if rng.random() < 1 / 3 else None,
        )
        for i in range(count)
    ]
    facing = 1 if rng.random() < 0.5 else -1
    return Scene("benchmark scene", [Actor(segments, facing=facing)])


def make_scenes(count: int, seed: int) -> tuple[list[Scene], str]:
    rng = np.random.default_rng(seed)
    try:
        from stickgen.story import sample_scene
    except ImportError:
        return [random_scene(rng) for _ in range(count)], "built-in random scenes"
    return [sample_scene(rng, duration=CLIP_SECONDS) for _ in range(count)], "story sampler"


def scenes_per_second(scenes: list[Scene], batch: int, seconds: float, seed: int) -> float:
    """Synthesize consecutive batches for about `seconds` seconds; return scenes/s."""
    rng = np.random.default_rng(seed)
    synthesize_batch(scenes[:batch], rng=rng)  # warm-up
    done, start, offset = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        if offset + batch > len(scenes):
            offset = 0
        synthesize_batch(scenes[offset : offset + batch], rng=rng)
        offset += batch
        done += batch
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=4096, help="distinct scenes to cycle over")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per batch size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    scenes, source = make_scenes(max(args.scenes, max(BATCH_SIZES)), args.seed)
    print(f"{len(scenes)} ten-second scenes at 25 fps from the {source}")
    print(f"{'batch':>6} {'scenes/s':>10} {'x baseline':>11}")
    for batch in BATCH_SIZES:
        rate = scenes_per_second(scenes, batch, args.seconds, args.seed)
        print(f"{batch:>6} {rate:>10.0f} {rate / BASELINE:>10.1f}x")
    print(f"baseline: {BASELINE:.0f} samples/s (the original plan's motion generator)")


if __name__ == "__main__":
    main()
