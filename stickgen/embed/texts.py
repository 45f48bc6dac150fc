"""Embed many texts fast: each unique text once, batches without padding, a persistent cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stickgen.embed.cache import EmbeddingCache
from stickgen.embed.embedder import Embedder
from stickgen.errors import StickGenError
from stickgen.progress import Progress, no_progress

# texts per encode call, per cache transaction and per progress report: a crash loses at most
# this much work; sorted by length, a chunk still fills most equal-token-count batches
CHUNK_TEXTS = 1024


@dataclass(frozen=True)
class EmbedResult:
    """Vectors in input order plus what it took to get them."""

    vectors: np.ndarray
    unique: int
    encoded: int
    cache_hits: int


def _within(progress: Progress, done: int, total: int, hits: int) -> Progress:
    """A chunk's own (done, total) as the whole job's progress, batch by batch."""

    def report(chunk_done: int, chunk_total: int, message: str) -> None:
        now = done + chunk_done
        progress(now, total, f"encoded {now - hits}, cached {hits}")

    return report


def embed_texts_with_stats(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    progress: Progress = no_progress,
) -> EmbedResult:
    """Like `embed_texts`, also reporting unique, encoded and cache-hit counts."""
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise StickGenError(f"texts to embed must be strings, got {type(bad).__name__}")
    unique = list(dict.fromkeys(texts))
    total = len(unique)
    progress(0, total, "looking up the embedding cache" if cache else "encoding")
    found = np.zeros(total, dtype=bool)
    table: np.ndarray | None = None
    if cache is not None and unique:
        found, table = cache.get(embedder.cache_key, unique)
    hits = int(found.sum())
    # similar lengths share a chunk, so its equal-token-count batches come out fuller
    missing = sorted(np.flatnonzero(~found).tolist(), key=lambda i: len(unique[i]))
    if missing and not embedder.loaded:
        progress(hits, total, f"loading text model {embedder.model_id}")
    if missing and cache is not None:
        cache.register_model(embedder.cache_key, embedder.dim, embedder.pooling)
    if table is None:
        table = np.zeros((total, embedder.dim), dtype=np.float32)
    done = hits
    step = CHUNK_TEXTS
    for lo in range(0, len(missing), step):
        rows = missing[lo : lo + step]
        batch = [unique[i] for i in rows]
        vectors = embedder.encode(batch, progress=_within(progress, done, total, hits))
        table[rows] = vectors
        if cache is not None:
            cache.put(embedder.cache_key, batch, vectors)
        done += len(rows)
        progress(done, total, f"encoded {done - hits}, cached {hits}")
    progress(total, total, "done")
    if len(unique) == len(texts):
        vectors = table
    else:
        row_of = {text: i for i, text in enumerate(unique)}
        vectors = table[[row_of[t] for t in texts]]
    return EmbedResult(vectors=vectors, unique=total, encoded=len(missing), cache_hits=hits)


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    progress: Progress = no_progress,
) -> np.ndarray:
    """float32 [len(texts), dim] L2-normalized vectors in input order; each unique text is
    encoded once (or taken from `cache`), in batches of equal token count (no padding)."""
    return embed_texts_with_stats(embedder, texts, cache, progress).vectors
