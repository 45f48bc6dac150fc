"""Dataset embedding benchmark: naive per-sample encoding against `stickgen.embed` (run by hand).

    .venv/bin/python benchmarks/embed.py --model PATH_OR_HUB_NAME [--base 20000]
        [--naive-samples N] [--dataset DIR] [--work-dir DIR] [--threads K]

On one dataset of `--base` scenes with 4x augmentation (5 samples per scene, so every
description repeats 5 times), with one loaded model, it times
  * naive (the named baseline): every sample's description, batches of 16 in dataset order;
  * ours, cold: `embed_dataset` with an empty cache (unique texts, length-sorted batches of 64);
  * ours, warm: `embed_dataset` again with a fresh, never-loaded Embedder and the filled cache,
and prints texts encoded, wall time, samples/s and the speed-up over naive, then checks every
sample's vector against the naive one. With `--naive-samples N` the naive side runs on the first N
samples and its time is extrapolated linearly to the whole dataset (and says so).

The dataset comes from `stickgen.data.generate.generate_dataset` when that module exists, else a
stand-in of the same layout (1-frame zero clips, real generated descriptions, 5 samples per text).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from stickgen.data.store import Dataset, DatasetWriter
from stickgen.embed import Embedder, embed_dataset
from stickgen.embed.embedder import torch_threads

AUGMENTED_COPIES = 5  # the base sample and its 4 augmentations

SUBJECTS = ["a man", "a woman", "a child", "an old man", "a tall woman", "a boy", "a girl",
            "a dancer", "a soldier", "a runner", "a teenager", "someone", "a person",
            "a nervous man", "a cheerful girl", "a tired worker"]  # fmt: skip
ACTIONS = ["walks", "runs", "jumps", "waves", "kicks a ball", "punches the air", "dances",
           "sits down", "stands up", "crawls", "climbs a ladder", "throws a stone",
           "catches a ball", "bows", "claps", "cries", "laughs", "shouts", "whispers",
           "sings", "spins around", "does a cartwheel", "falls over", "stretches", "points ahead",
           "looks around", "shrugs", "nods", "shakes his head", "jogs in place", "skips",
           "tiptoes", "limps", "hops on one foot", "salutes", "kneels", "lies down", "rolls over",
           "pushes a box", "pulls a rope", "lifts a heavy bag", "carries a chair", "eats an apple",
           "drinks water", "reads a book", "types on a laptop"]  # fmt: skip
MANNERS = ["", "slowly", "quickly", "happily", "angrily", "sadly", "carefully", "excitedly",
           "nervously", "calmly", "awkwardly", "proudly"]  # fmt: skip
PLACES = ["", "in the park", "to the shop", "across the street", "on the stage", "at home",
          "in the rain", "on the beach", "near a tree", "in a crowded room"]  # fmt: skip


def stand_in_descriptions(count: int, seed: int = 0) -> list[str]:
    """`count` distinct scene descriptions of varied length, deterministic given `seed`."""
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        clauses = []
        for k in range(int(rng.integers(1, 4))):
            words = [ACTIONS[rng.integers(len(ACTIONS))], MANNERS[rng.integers(len(MANNERS))]]
            words.append(PLACES[rng.integers(len(PLACES))])
            clauses.append(("then " if k else "") + " ".join(w for w in words if w))
        text = f"{SUBJECTS[rng.integers(len(SUBJECTS))]} {', '.join(clauses)}"
        seen.setdefault(text, None)
    return list(seen)


def build_dataset(out: Path, base: int, seed: int, stand_in: bool = False) -> tuple[Path, str]:
    """The benchmark dataset and a note on where it came from."""
    if not stand_in:
        try:
            from stickgen.data.generate import generate_dataset

            generate_dataset(out, base, augment=True, seed=seed)
            return out, f"generate_dataset({base}, augment=True, seed={seed})"
        except ImportError as exc:  # the generator or the engines it needs are not there yet
            print(f"generate_dataset unavailable ({exc}); building the stand-in dataset")
    texts = stand_in_descriptions(base, seed)
    n = base * AUGMENTED_COPIES
    with DatasetWriter(out, n, frames=1) as writer:
        for lo in range(0, n, 10_000):
            rows = np.arange(lo, min(n, lo + 10_000))
            writer.write(
                int(lo),
                descriptions=[texts[i // AUGMENTED_COPIES] for i in rows],
                motion=np.zeros((len(rows), 1, 20), np.float32),
                actions=np.zeros((len(rows), 1), np.uint8),
                physics=np.zeros((len(rows), 1, 6), np.float32),
                face=np.zeros((len(rows), 1, 7), np.float32),
                scene_id=rows // AUGMENTED_COPIES,
                split=np.zeros(len(rows), np.uint8),
                augmentation=(rows % AUGMENTED_COPIES).astype(np.uint8),
            )
        writer.finish({"generator": "benchmarks/embed.py stand-in"})
    return out, f"stand-in: {n} samples, {base} descriptions x {AUGMENTED_COPIES} (1-frame clips)"


def naive_encode(embedder: Embedder, texts: list[str], batch: int = 16) -> np.ndarray:
    """The baseline: every sample's text, fixed batches in dataset order, no dedup or cache."""
    model = embedder.model
    out = []
    with torch_threads(embedder.threads):
        for lo in range(0, len(texts), batch):
            out.append(
                model.encode(
                    texts[lo : lo + batch],
                    batch_size=batch,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
    return np.concatenate(out).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="hub name or local model directory")
    parser.add_argument("--base", type=int, default=20_000, help="base scenes (x5 samples)")
    parser.add_argument("--naive-samples", type=int, default=None, help="naive on first N only")
    parser.add_argument("--dataset", type=Path, help="use this dataset instead of building one")
    parser.add_argument("--work-dir", type=Path, help="where to build the dataset and cache")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stand-in", action="store_true", help="skip generate_dataset")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="stickgen-embed-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.dataset:
        path, origin = args.dataset, f"given: {args.dataset}"
    else:
        started = time.perf_counter()
        path, origin = build_dataset(work / "dataset", args.base, args.seed, args.stand_in)
        print(f"dataset built in {time.perf_counter() - started:.1f} s")
    ds = Dataset(path)
    texts = [ds.description(i) for i in range(len(ds))]
    print(f"dataset: {origin}; {len(ds)} samples, {len(ds.descriptions)} unique descriptions")

    embedder = Embedder(args.model, threads=args.threads)
    started = time.perf_counter()
    embedder.model  # noqa: B018 - load once, outside every timing
    print(
        f"model: {embedder.model_id} ({embedder.dim}-d, {embedder.pooling} pooling), loaded in "
        f"{time.perf_counter() - started:.1f} s; {embedder.threads} torch threads"
    )

    subset = min(args.naive_samples or len(texts), len(texts))
    started = time.perf_counter()
    naive = naive_encode(embedder, texts[:subset])
    naive_measured = time.perf_counter() - started
    naive_seconds = naive_measured * len(texts) / subset

    cache_dir = work / "cache"
    cold = embed_dataset(path, embedder=embedder, cache_dir=cache_dir)
    cold_vectors = np.array(Dataset(path).embeddings)
    warm = embed_dataset(path, embedder=Embedder(args.model), cache_dir=cache_dir)
    warm_vectors = np.array(Dataset(path).embeddings)

    index = np.asarray(ds.description_index)
    naive_gap = float(np.abs(cold_vectors[index[:subset]] - naive).max())
    print()
    print(f"{'method':<36}{'encoded':>9}{'wall s':>10}{'samples/s':>12}{'vs naive':>10}")
    naive_label = "naive (batch 16, dataset order)"
    if subset < len(texts):
        naive_label += " *"
    print(
        f"{naive_label:<36}{len(texts):>9}{naive_seconds:>10.1f}"
        f"{len(texts) / naive_seconds:>12.0f}{1.0:>9.1f}x"
    )
    for name, run in (("ours, cold cache", cold), ("ours, warm cache (model not loaded)", warm)):
        seconds = max(run["seconds"], 1e-9)
        print(
            f"{name:<36}{run['encoded']:>9}{seconds:>10.1f}{len(texts) / seconds:>12.0f}"
            f"{naive_seconds / seconds:>9.1f}x"
        )
    if subset < len(texts):
        print(
            f"* naive measured on the first {subset} samples ({naive_measured:.1f} s) "
            f"and extrapolated linearly to {len(texts)}"
        )
    print(
        f"encode throughput: naive {subset / naive_measured:.0f} texts/s, ours cold "
        f"{cold['encoded'] / cold['seconds']:.0f} texts/s (unique, length-sorted, batch 64)"
    )
    print(f"max |ours - naive| over {subset} samples: {naive_gap:.2e}")
    print(f"warm vectors identical to cold: {bool(np.array_equal(warm_vectors, cold_vectors))}")
    if not embedder.model_id == warm["model"]:
        raise SystemExit("warm run recorded another model id")


if __name__ == "__main__":
    main()
