"""Text embeddings: one sentence-transformers `Embedder` for datasets, training and inference."""

from stickgen.embed.cache import EmbeddingCache, default_cache_dir
from stickgen.embed.dataset import (
    embed_dataset,
    require_embedding_model,
    write_embeddings,
)
from stickgen.embed.embedder import DEFAULT_MODEL, Embedder
from stickgen.embed.texts import EmbedResult, embed_texts, embed_texts_with_stats

__all__ = [
    "DEFAULT_MODEL",
    "EmbedResult",
    "Embedder",
    "EmbeddingCache",
    "default_cache_dir",
    "embed_dataset",
    "embed_texts",
    "embed_texts_with_stats",
    "require_embedding_model",
    "write_embeddings",
]
