"""A persistent embedding cache keyed by (model id, text), stored in one SQLite file.

Vectors are float32 blobs keyed by the sha256 of the text, one row per (model, text), in a
`WITHOUT ROWID` table whose primary key is the lookup index, so 100k+ texts per model stay cheap
to look up. SQLite's write-ahead log makes every batch of writes atomic (a crash mid-write loses
at most that batch, never corrupts earlier ones) and lets readers run while another process writes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from stickgen.errors import StickGenError

CACHE_ENV = "STICKGEN_CACHE_DIR"
DEFAULT_CACHE_ROOT = Path("data") / "cache"
CACHE_FILE = "embeddings.sqlite3"
_QUERY_CHUNK = 500  # keys per SELECT ... IN (...), well under SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dim INTEGER NOT NULL,
    pooling TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    model INTEGER NOT NULL REFERENCES models(id),
    key BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, key)
) WITHOUT ROWID;
"""


def default_cache_dir(kind: str = "embeddings") -> Path:
    """Where a cache of `kind` (embeddings, evaluators) lives by default:
    `$STICKGEN_CACHE_DIR/KIND`, or `data/cache/KIND` under the working directory."""
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else DEFAULT_CACHE_ROOT) / kind


def text_key(text: str) -> bytes:
    """The cache key of a text: its UTF-8 sha256 digest."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Embeddings already computed, per model id; safe to share between processes."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.directory / CACHE_FILE, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._db:
                self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StickGenError(
                f"cannot open the embedding cache in {self.directory}: {exc}"
            ) from exc

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def model_info(self, model_id: str) -> dict[str, int | str] | None:
        """`{"dim", "pooling"}` recorded for a model, or None if it has no entries yet."""
        row = self._db.execute(
            "SELECT dim, pooling FROM models WHERE name = ?", (model_id,)
        ).fetchone()
        return {"dim": int(row[0]), "pooling": str(row[1])} if row else None

    def register_model(self, model_id: str, dim: int, pooling: str) -> None:
        """Record a model's dimension and pooling; an existing entry must agree."""
        info = self.model_info(model_id)
        if info is None:
            with self._db:
                self._db.execute(
                    "INSERT OR IGNORE INTO models (name, dim, pooling) VALUES (?, ?, ?)",
                    (model_id, int(dim), pooling),
                )
            info = self.model_info(model_id)
        if info != {"dim": int(dim), "pooling": pooling}:
            raise StickGenError(
                f"embedding cache {self.directory} holds {model_id} as {info}, but the model "
                f"now gives dim={dim}, pooling={pooling}; delete the cache directory"
            )

    def _model_row(self, model_id: str) -> tuple[int, int] | None:
        row = self._db.execute("SELECT id, dim FROM models WHERE name = ?", (model_id,)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def get(self, model_id: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Look texts up: (found bool [n], vectors float32 [n, dim] with zero rows where missing);
        vectors is None when the model has no entries at all."""
        found = np.zeros(len(texts), dtype=bool)
        row = self._model_row(model_id)
        if row is None:
            return found, None
        model, dim = row
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        position = {key: i for i, key in enumerate(keys)}
        for lo in range(0, len(keys), _QUERY_CHUNK):
            chunk = keys[lo : lo + _QUERY_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                (model, *chunk),
            )
            for key, blob in rows:
                if len(blob) != dim * 4:
                    continue  # a damaged row is a miss; it is rewritten on the next put
                i = position[key]
                vectors[i] = np.frombuffer(blob, dtype="<f4")
                found[i] = True
        # duplicate texts share one key: copy the hit to every position
        if len(position) != len(keys):
            for i, key in enumerate(keys):
                j = position[key]
                if j != i and found[j]:
                    vectors[i], found[i] = vectors[j], True
        return found, vectors

    def put(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors for texts in one transaction (the model must be registered)."""
        row = self._model_row(model_id)
        if row is None:
            raise StickGenError(f"register {model_id} in the embedding cache before storing")
        model, dim = row
        vectors = np.asarray(vectors, dtype="<f4")
        if vectors.shape != (len(texts), dim):
            raise ValueError(f"vectors shape {vectors.shape}, expected {(len(texts), dim)}")
        rows = [(model, text_key(t), v.tobytes()) for t, v in zip(texts, vectors, strict=True)]
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, vector) VALUES (?, ?, ?)", rows
            )

    def count(self, model_id: str) -> int:
        """Number of texts cached for a model."""
        row = self._model_row(model_id)
        if row is None:
            return 0
        return int(
            self._db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (row[0],)).fetchone()[
                0
            ]
        )
