"""Embeddings of a dataset's unique descriptions: write them, require a model (their checks are
part of `stickgen.data.validate`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.data.store import (
    EMBEDDINGS,
    MANIFEST,
    Dataset,
    save_npy_atomic,
    sha256_file,
    write_json_atomic,
)
from stickgen.embed.cache import EmbeddingCache
from stickgen.embed.embedder import DEFAULT_MODEL, Embedder
from stickgen.embed.texts import embed_texts_with_stats
from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress


def embed_dataset(
    dataset_dir: str | Path,
    *,
    model: str | Path = DEFAULT_MODEL,
    batch_size: int = 64,
    device: str = "cpu",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: Progress = no_progress,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """Embed every unique description of a dataset and record the model in its manifest.

    Writes `embeddings.npy` (float32 [U, D], row i embeds descriptions line i) and the manifest's
    `embedding` entry and checksum; embedding again with another model replaces both.
    """
    started = time.perf_counter()
    dataset = Dataset(dataset_dir)
    embedder = embedder or Embedder(model, device=device, batch_size=batch_size)
    cache = EmbeddingCache(cache_dir) if use_cache else None
    try:
        result = embed_texts_with_stats(embedder, dataset.descriptions, cache, progress)
        info = cache.model_info(embedder.cache_key) if cache and not embedder.loaded else None
    finally:
        if cache is not None:
            cache.close()
    vectors = result.vectors
    pooling = str(info["pooling"]) if info else embedder.pooling
    if vectors.shape[0] != len(dataset.descriptions) or not np.isfinite(vectors).all():
        raise StickGenError(f"text model {embedder.model_id} produced unusable embeddings")
    entry = {
        "model": embedder.model_id,
        "revision": embedder.revision,  # hub commit, or sha256 of a local folder's files
        **({"package": embedder.package} if embedder.package else {}),
        # where to load the same model from later (hub name or local directory)
        "source": str(embedder.local_dir or embedder.source),
        "dim": int(vectors.shape[1]),
        "pooling": pooling,
        "normalized": True,
        "count": int(vectors.shape[0]),
    }
    write_embeddings(dataset.path, vectors, entry)
    seconds = time.perf_counter() - started
    return {
        "dataset": str(dataset.path),
        "model": entry["model"],
        "dim": entry["dim"],
        "pooling": pooling,
        "samples": len(dataset),
        "unique_texts": result.unique,
        "encoded": result.encoded,
        "cache_hits": result.cache_hits,
        "seconds": round(seconds, 3),
    }


def write_embeddings(dataset_dir: Path, vectors: np.ndarray, entry: dict[str, Any]) -> None:
    """Replace a dataset's embeddings and manifest entry so that no crash leaves a manifest
    describing vectors it does not have: the old entry is withdrawn first, then the array is
    renamed into place, then the new entry and checksum are written."""
    manifest_path = dataset_dir / MANIFEST
    manifest = Dataset(dataset_dir).manifest
    if manifest.get("embedding") is not None or EMBEDDINGS in manifest.get("checksums", {}):
        manifest["embedding"] = None
        manifest.get("checksums", {}).pop(EMBEDDINGS, None)
        write_json_atomic(manifest_path, manifest)
    path = dataset_dir / EMBEDDINGS
    save_npy_atomic(path, np.ascontiguousarray(vectors, dtype=np.float32))
    manifest["embedding"] = entry
    manifest.setdefault("checksums", {})[EMBEDDINGS] = sha256_file(path)
    write_json_atomic(manifest_path, manifest)


def _as_dataset(dataset: Dataset | str | Path) -> Dataset:
    return dataset if isinstance(dataset, Dataset) else Dataset(dataset)


def require_embedding_model(
    dataset: Dataset | dict[str, Any] | str | Path, model_id: str
) -> dict[str, Any]:
    """The dataset's embedding entry, or a StickGenError when it was embedded with another model
    (or not at all) than `model_id`, the model training or inference is about to use."""
    if isinstance(dataset, dict):
        manifest, where = dataset, "the dataset"
    else:
        ds = _as_dataset(dataset)
        manifest, where = ds.manifest, str(ds.path)
    entry = manifest.get("embedding")
    if not entry:
        raise StickGenError(
            f"{where} has no text embeddings; run `stick-gen data embed DATASET --model {model_id}`"
        )
    if entry.get("model") != model_id:
        raise StickGenError(
            f"{where} was embedded with text model {entry.get('model')!r} but this run uses "
            f"{model_id!r}; re-embed it with `stick-gen data embed DATASET --model ...` or use "
            "the same model (embeddings from different models are not comparable)"
        )
    return dict(entry)
