"""Dataset embedding benchmark: naive per-sample encoding against `stickgen.embed` (run by hand).

    .venv/bin/python benchmarks/embed.py --model PATH_OR_HUB_NAME [--base 20000]
        [--naive-samples N] [--dataset DIR] [--work-dir DIR] [--threads 1]

On one generated dataset of `--base` scenes with 4x augmentation (5 samples per scene, so every
description repeats 5 times), with one loaded model and the same torch thread count everywhere,
it times
  * naive (the named baseline): every sample's description, batches of 16 in dataset order;
  * ours, cold: `embed_dataset` with an empty cache (unique texts, batches of equal token count);
  * ours, warm: `embed_dataset` again with a fresh, never-loaded Embedder and the filled cache,
and prints texts encoded, wall time, texts/s and the speed-up over naive, checks every sample's
vector against the naive one, and splits the speed-up into its factors: fewer texts (dedup),
fewer tokens (no padding) and tokens/s. A last line bounds what any exact float32 method can do:
the linear layers' FLOPs of ours at this machine's measured single-matmul peak.
With `--naive-samples N` the naive side runs on the first N samples and its time is extrapolated
linearly to the whole dataset (and says so).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.compute import torch_threads
from stickgen.data.generate import generate_dataset
from stickgen.data.store import Dataset
from stickgen.embed import Embedder, embed_dataset

NAIVE_BATCH = 16


def naive_encode(embedder: Embedder, texts: list[str], batch: int = NAIVE_BATCH) -> np.ndarray:
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


def token_counts(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Tokens per text as the model sees them (special tokens and truncation included)."""
    counts = []
    for lo in range(0, len(texts), 4096):
        mask = embedder.model.preprocess(texts[lo : lo + 4096])["attention_mask"]
        counts.append(mask.sum(dim=1).numpy())
    return np.concatenate(counts)


def padded_tokens(per_sample: np.ndarray, batch: int) -> int:
    """Positions the naive side computes: each batch padded to its longest text."""
    return int(
        sum(
            per_sample[lo : lo + batch].max() * len(per_sample[lo : lo + batch])
            for lo in range(0, len(per_sample), batch)
        )
    )


def linear_flops_per_token(embedder: Embedder) -> int:
    """FLOPs of the model's per-token linear layers (the pooler, once per text, left out)."""
    import torch

    return sum(
        2 * module.in_features * module.out_features
        for name, module in embedder.model.named_modules()
        if isinstance(module, torch.nn.Linear) and "pooler" not in name
    )


def matmul_peak(threads: int, rows: int = 1280, hidden: int = 384, repeats: int = 5) -> float:
    """Best FLOP/s of one float32 [rows, hidden] x [hidden, 4 hidden] matmul on `threads`."""
    import torch

    a, b = torch.randn(rows, hidden), torch.randn(hidden, 4 * hidden)
    best = float("inf")
    with torch_threads(threads):
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(20):
                torch.mm(a, b)
            best = min(best, (time.perf_counter() - started) / 20)
    return 2 * rows * hidden * 4 * hidden / best


def row(name: str, encoded: int, seconds: float, samples: int, naive_seconds: float) -> str:
    per_second = f"{encoded / seconds:.0f}" if encoded else "-"
    return (
        f"{name:<38}{encoded:>9}{seconds:>9.1f}{per_second:>11}{samples / seconds:>11.0f}"
        f"{naive_seconds / seconds:>9.1f}x"
    )


def report(
    texts: list[str],
    subset: int,
    naive_measured: float,
    cold: dict[str, Any],
    warm: dict[str, Any],
    gap: float,
    warm_same: bool,
    tokens: np.ndarray,
    index: np.ndarray,
    embedder: Embedder,
) -> None:
    """Print the table, the factor split and the float32 bound."""
    n = len(texts)
    naive_seconds = naive_measured * n / subset
    print(
        f"\n{'method':<38}{'encoded':>9}{'wall s':>9}{'encoded/s':>11}{'samples/s':>11}"
        f"{'vs naive':>10}"
    )
    star = " *" if subset < n else ""
    naive_name = f"naive (batch {NAIVE_BATCH}, dataset order){star}"
    print(row(naive_name, n, naive_seconds, n, naive_seconds))
    print(row("ours, cold cache", cold["encoded"], cold["seconds"], n, naive_seconds))
    warm_seconds = max(warm["seconds"], 1e-9)
    print(
        row("ours, warm cache (model not loaded)", warm["encoded"], warm_seconds, n, naive_seconds)
    )
    if subset < n:
        print(
            f"* naive measured on the first {subset} samples ({naive_measured:.1f} s), "
            f"extrapolated linearly to {n}"
        )
    print(
        f"max |ours - naive| over {subset} samples: {gap:.2e}; "
        f"warm vectors identical to cold: {warm_same}"
    )

    naive_tokens = padded_tokens(tokens[index], NAIVE_BATCH)
    ours_tokens = int(tokens.sum())
    dedup = n / cold["encoded"]
    padding = naive_tokens / n / (ours_tokens / cold["encoded"])
    rate = (ours_tokens / cold["seconds"]) / (naive_tokens / naive_seconds)
    print(
        f"\nwhy: {dedup:.2f}x fewer texts (dedup) x {padding:.2f}x fewer tokens per text "
        f"(naive {naive_tokens / n:.1f} padded, ours {ours_tokens / cold['encoded']:.1f} real) "
        f"x {rate:.2f}x tokens/s (naive {naive_tokens / naive_seconds:.0f}, ours "
        f"{ours_tokens / cold['seconds']:.0f}) = {dedup * padding * rate:.1f}x"
    )
    flops = linear_flops_per_token(embedder)
    peak = matmul_peak(embedder.threads)
    floor = ours_tokens * flops / peak
    print(
        f"bound: ours' linear layers alone are {ours_tokens * flops / 1e12:.2f} TFLOP "
        f"({flops / 1e6:.1f} MFLOP/token); at the measured {peak / 1e9:.0f} GFLOP/s matmul peak "
        f"on {embedder.threads} thread(s) that is {floor:.1f} s, so exact float32 encoding "
        f"can be at most {naive_seconds / floor:.1f}x faster than naive here"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="hub name or local model directory")
    parser.add_argument("--base", type=int, default=20_000, help="base scenes (x5 samples)")
    parser.add_argument("--naive-samples", type=int, default=None, help="naive on first N only")
    parser.add_argument("--dataset", type=Path, help="use this dataset instead of building one")
    parser.add_argument("--work-dir", type=Path, help="where to build the dataset and cache")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="stickgen-embed-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    path = args.dataset
    if path is None:
        started = time.perf_counter()
        path = generate_dataset(
            work / "dataset", args.base, augment=True, seed=args.seed, workers=1
        )
        print(
            f"dataset: generate_dataset({args.base}, augment=True, seed={args.seed}) "
            f"in {time.perf_counter() - started:.1f} s"
        )
    ds = Dataset(path)
    index = np.asarray(ds.description_index)
    texts = [ds.descriptions[i] for i in index]
    print(f"dataset {path}: {len(texts)} samples, {len(ds.descriptions)} unique descriptions")

    embedder = Embedder(args.model, threads=args.threads)
    started = time.perf_counter()
    embedder.model  # noqa: B018 - load once, outside every timing
    print(
        f"model: {embedder.model_id} ({embedder.dim}-d, {embedder.pooling} pooling), loaded in "
        f"{time.perf_counter() - started:.1f} s; {embedder.threads} torch thread(s) for "
        "every side"
    )

    subset = min(args.naive_samples or len(texts), len(texts))
    started = time.perf_counter()
    naive = naive_encode(embedder, texts[:subset])
    naive_measured = time.perf_counter() - started

    cache_dir = work / "cache"
    cold = embed_dataset(path, embedder=embedder, cache_dir=cache_dir)
    cold_vectors = np.array(Dataset(path).embeddings)
    fresh = Embedder(args.model, threads=args.threads)
    warm = embed_dataset(path, embedder=fresh, cache_dir=cache_dir)
    warm_vectors = np.array(Dataset(path).embeddings)
    if fresh.loaded or warm["model"] != embedder.model_id:
        raise SystemExit("the warm run loaded the model or recorded another model id")

    gap = float(np.abs(cold_vectors[index[:subset]] - naive).max())
    tokens = token_counts(embedder, list(ds.descriptions))
    report(
        texts,
        subset,
        naive_measured,
        cold,
        warm,
        gap,
        bool(np.array_equal(warm_vectors, cold_vectors)),
        tokens,
        index,
        embedder,
    )


if __name__ == "__main__":
    main()
