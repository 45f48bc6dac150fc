"""Concatenate datasets: the service's shard merge, and synthetic data plus motion capture.

`merge_datasets` streams its inputs block by block into one new dataset:

- samples keep their order (input by input), their split and their augmentation code;
- descriptions are unified (one table, first appearance order), so merging the shards of one
  generation gives back exactly the unsharded dataset;
- scene ids stay as they are when the inputs' id ranges are disjoint (shards use global ids),
  otherwise each input after the first is offset past the previous ones;
- sources: each input's source names (or its tag, when `source_tags` is given) form the merged
  `sources` list, the per-sample `source` column indexes it, and `source_counts` counts samples
  per source;
- `merged_from` keeps what made each input (seed, generator config, label method, and an
  imported input's per-clip origins and skipped files), since the merged `seed` and `generator`
  are set only when every input shares them;
- embeddings are carried over when every input has them from the same model, dropped with a note
  in the manifest when only some have them, and inputs embedded with different models are refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.data.store import EMBEDDINGS, Dataset, DatasetWriter, iter_chunks
from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.schema import action_vocabulary

BLOCK = 2048  # samples copied per step


def _tagged_names(ds: Dataset, tag: str | None) -> list[str]:
    names = list(ds.manifest.get("sources") or ["unknown"])
    if tag is None:
        return names
    return [tag] if len(names) == 1 else [f"{tag}/{name}" for name in names]


def _scene_offsets(datasets: Sequence[Dataset]) -> list[int]:
    """0 for every input when their scene-id ranges are disjoint, else stacking offsets."""
    ranges = []
    for ds in datasets:
        ids = np.load(ds.path / "scene_id.npy", mmap_mode="r")
        ranges.append((int(ids.min()), int(ids.max())))
    ordered = sorted(ranges)
    if all(a[1] < b[0] for a, b in itertools.pairwise(ordered)):
        return [0] * len(datasets)
    offsets, next_free = [], 0
    for lo, hi in ranges:
        offsets.append(next_free - lo)
        next_free = hi + offsets[-1] + 1
    return offsets


def _embedding_plan(datasets: Sequence[Dataset]) -> tuple[dict[str, Any] | None, list[str]]:
    """(embedding entry to carry, or None; notes). Refuses inputs from different models."""
    entries = [
        ds.manifest.get("embedding") if ds.embeddings is not None else None for ds in datasets
    ]
    present = [e for e in entries if e]
    kinds = {(e.get("model"), e.get("dim"), e.get("pooling")) for e in present}
    if len(kinds) > 1:
        described = ", ".join(f"{m} ({d}-d, {p})" for m, d, p in sorted(kinds, key=str))
        raise StickGenError(
            f"cannot merge datasets embedded with different text models: {described}; "
            "re-embed them with one model first"
        )
    if present and len(present) < len(datasets):
        missing = [str(ds.path) for ds, e in zip(datasets, entries, strict=True) if not e]
        return None, [
            f"embeddings dropped: {', '.join(missing)} had none; run `stick-gen data embed` "
            "on the merged dataset"
        ]
    return (dict(present[0]) if present else None), []


def _generator_of(datasets: Sequence[Dataset]) -> tuple[Any, Any]:
    """(seed, generator config) shared by all inputs; a complete set of shards of one generation
    merges back to the unsharded config. (None, None) when the inputs differ."""
    seeds = {repr(ds.manifest.get("seed")) for ds in datasets}
    configs = [dict(ds.manifest.get("generator") or {}) for ds in datasets]
    shards = [c.pop("shard", None) for c in configs]
    if len(seeds) != 1 or any(c != configs[0] for c in configs):
        return None, None
    seed, config = datasets[0].manifest.get("seed"), configs[0] or None
    if config is None:
        return seed, None
    count = len(shards)
    complete = all(
        s is not None and s.get("index") == i and s.get("count") == count
        for i, s in enumerate(shards)
    )
    if all(s is None for s in shards) or complete:
        return seed, {**config, "shard": None}
    return None, None


def _origin_of(ds: Dataset) -> dict[str, Any]:
    """What made an input (see the module doc), for `merged_from`."""
    keys = ("seed", "generator", "labels_inferred", "label_method", "origins", "skipped")
    return {key: ds.manifest[key] for key in keys if key in ds.manifest}


def _summed_histogram(datasets: Sequence[Dataset]) -> dict[str, int]:
    vocab = action_vocabulary()
    return {
        name: sum(int(ds.manifest.get("action_histogram", {}).get(name, 0)) for ds in datasets)
        for name in vocab
    }


def merge_datasets(
    sources: Sequence[str | Path],
    out_dir: str | Path,
    *,
    source_tags: Sequence[str] | None = None,
    overwrite: bool = False,
    progress: Progress = no_progress,
) -> Path:
    """Merge datasets with the same frame count into `out_dir`; see the module doc."""
    if not sources:
        raise StickGenError("nothing to merge: give at least one dataset")
    if source_tags is not None and len(source_tags) != len(sources):
        raise StickGenError(f"{len(source_tags)} tags for {len(sources)} datasets")
    out_dir = Path(out_dir)
    paths = [Path(p) for p in sources]
    if any(p.resolve() == out_dir.resolve() for p in paths):
        raise StickGenError(f"the output {out_dir} is one of the inputs")
    datasets = [Dataset(p) for p in paths]
    frames = {ds.frames for ds in datasets}
    if len(frames) > 1:
        raise StickGenError(f"cannot merge clips of different lengths: {sorted(frames)} frames")
    embedding, notes = _embedding_plan(datasets)
    tags = list(source_tags) if source_tags is not None else [None] * len(datasets)
    names_per_input = [_tagged_names(ds, tag) for ds, tag in zip(datasets, tags, strict=True)]
    merged_sources = list(dict.fromkeys(n for names in names_per_input for n in names))
    if len(merged_sources) > 255:
        raise StickGenError(f"{len(merged_sources)} sources; a dataset holds at most 255")
    offsets = _scene_offsets(datasets)
    total = sum(len(ds) for ds in datasets)
    seed, generator = _generator_of(datasets)

    with DatasetWriter(
        out_dir, total, frames.pop(), sources=merged_sources, overwrite=overwrite
    ) as writer:
        start = 0
        counts = np.zeros(len(merged_sources), dtype=np.int64)
        for ds, names, offset in zip(datasets, names_per_input, offsets, strict=True):
            source_map = np.array([merged_sources.index(n) for n in names], dtype=np.uint8)
            fields = ("motion", "actions", "physics", "face", "description_index")
            fields += ("scene_id", "split", "augmentation", "source")
            streams = [iter_chunks(ds.path / f"{f}.npy", len(ds), BLOCK) for f in fields]
            for blocks_of_input in zip(*streams, strict=True):
                block = {f: rows for f, (_, rows) in zip(fields, blocks_of_input, strict=True)}
                texts = [ds.descriptions[i] for i in block.pop("description_index")]
                block["scene_id"] = block["scene_id"] + offset
                block["source"] = source_map[block["source"]]
                counts += np.bincount(block["source"], minlength=len(merged_sources))
                writer.write(start, descriptions=texts, **block)
                start += len(texts)
                progress(start, total, f"merging {ds.path.name}")
        if embedding is not None:
            embedding["count"] = _write_embeddings(writer, datasets)
        manifest: dict[str, Any] = {
            "seed": seed,
            "generator": generator,
            "embedding": embedding,
            "merged_from": [
                {
                    "path": str(ds.path),
                    "dataset_id": ds.dataset_id,
                    "num_samples": len(ds),
                    "sources": names,
                    "scene_id_offset": offset,
                    **_origin_of(ds),
                }
                for ds, names, offset in zip(datasets, names_per_input, offsets, strict=True)
            ],
            "source_counts": dict(zip(merged_sources, counts.tolist(), strict=True)),
            "notes": notes,
        }
        fps = {ds.manifest.get("fps") for ds in datasets}
        if len(fps) == 1 and None not in fps:
            manifest["fps"] = fps.pop()
        histogram = _summed_histogram(datasets)
        frames_total = max(sum(histogram.values()), 1)
        manifest["action_share"] = {k: round(v / frames_total, 6) for k, v in histogram.items()}
        return writer.finish(manifest)


def _write_embeddings(writer: DatasetWriter, datasets: Sequence[Dataset]) -> int:
    """Fill the merged embedding table (row i embeds merged description i); returns its rows."""
    plans, rows = [], 0
    for ds in datasets:
        used = np.unique(np.load(ds.path / "description_index.npy", mmap_mode="r"))
        ids = writer.description_ids([ds.descriptions[i] for i in used])
        plans.append((ds, used, ids))
        rows = max(rows, int(ids.max()) + 1)
    dim = int(datasets[0].embeddings.shape[1])
    table = np.lib.format.open_memmap(
        writer.tmp / EMBEDDINGS, mode="w+", dtype=np.float32, shape=(rows, dim)
    )
    filled = np.zeros(rows, dtype=bool)
    for ds, used, ids in plans:
        for lo in range(0, len(used), BLOCK):
            table[ids[lo : lo + BLOCK]] = ds.embeddings[used[lo : lo + BLOCK]]
            filled[ids[lo : lo + BLOCK]] = True
    table.flush()
    del table
    if not filled.all():  # every merged description comes from some input's used rows
        raise RuntimeError("merged embedding table has rows no input filled")
    return rows
