"""`Embedder`: one sentence-transformers model, one pooling, L2-normalized float32 vectors.

Training, inference and the dataset tools all go through this class, so a dataset's embeddings and
a prompt's embedding at inference time always come from the same model with the same pooling.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.compute import available_cores, resolve_device, torch_threads
from stickgen.embed.batching import exact_length_batches
from stickgen.errors import NotFoundError, StickGenError
from stickgen.progress import Progress, no_progress
from stickgen.textmodels import (
    BUNDLED_MODEL,
    PRODUCTION_MODEL,
    bundled_package,
    is_bundled,
    local_dir,
)

DEFAULT_MODEL = PRODUCTION_MODEL  # the library's default; the service's is in jobcore.settings
HUB_PROBE_TIMEOUT_S = 0.8  # how long a missing hub model may take to be reported
ENCODE_WINDOW = 4096  # texts tokenized together (and bucketed by token count) per pass

# Files and folders of a model directory that never change what the torch backend computes.
_IGNORED_NAMES = {"README.md", "onnx", "openvino"}
_MODULES_FILE = "modules.json"


def _model_files(directory: Path) -> list[Path]:
    """The files of a model directory that define its output, in a stable order."""
    files = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if any(p.startswith(".") or p in _IGNORED_NAMES for p in parts) or not path.is_file():
            continue
        files.append(path)
    return files


@lru_cache(maxsize=16)
def _hash_files(stamps: tuple[tuple[str, int, int], ...], root: str) -> str:
    digest = hashlib.sha256()
    for relative, _size, _mtime in stamps:
        digest.update(relative.encode() + b"\0")
        with open(Path(root) / relative, "rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def directory_fingerprint(directory: Path) -> str:
    """sha256 over the relative names and contents of a model directory's files (memoized on
    size and modification time, so a process hashes a large model once)."""
    stamps = []
    for path in _model_files(directory):
        stat = path.stat()
        stamps.append((path.relative_to(directory).as_posix(), stat.st_size, stat.st_mtime_ns))
    return _hash_files(tuple(stamps), str(directory))


def _card_name(directory: Path) -> str | None:
    """The model's name from its model card: `model-index` name, else the first `# ` heading."""
    readme = directory / "README.md"
    if not readme.is_file():
        return None
    text = readme.read_text(errors="replace")
    body = text
    if text.startswith("---"):
        front, _, body = text[3:].partition("\n---")
        try:
            import yaml

            meta = yaml.safe_load(front) or {}
        except Exception:
            meta = {}
        index = meta.get("model-index") if isinstance(meta, dict) else None
        if isinstance(index, list) and index and isinstance(index[0], dict):
            name = index[0].get("name")
            if isinstance(name, str) and name.strip():
                return name.strip()
    for line in body.splitlines():
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip()
    return None


def local_model_id(directory: Path) -> str:
    """`NAME@HASH12`: the card's name (or the directory's) plus a hash of its files."""
    name = _card_name(directory) or directory.resolve().name
    name = "-".join(name.split())
    return f"{name}@{directory_fingerprint(directory)[:12]}"


def _looks_like_path(text: str) -> bool:
    """True for text that can only be a filesystem path (hub names are `name` or `org/name`)."""
    return text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text


def _resolve_local(model: str | Path) -> Path | None:
    """The local directory `model` names (the bundled model's folder for `BUNDLED_MODEL`), None
    for a hub name; a clear error for a bad path."""
    if is_bundled(model):
        return local_dir(model)
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / _MODULES_FILE).is_file():
            raise StickGenError(
                f"{path} is not a sentence-transformers model directory (no {_MODULES_FILE}); "
                "point --model at a folder saved by sentence-transformers, e.g. a downloaded "
                f"copy of {DEFAULT_MODEL}"
            )
        return path
    if path.exists():
        raise StickGenError(f"text model {model}: expected a directory, found a file")
    if isinstance(model, Path) or _looks_like_path(str(model)):
        raise NotFoundError(
            f"text model directory {model} does not exist; pass an existing sentence-transformers "
            f"directory or a Hugging Face hub name such as {DEFAULT_MODEL}"
        )
    return None


class TextModelUnavailable(StickGenError):
    """A hub text model that is not on this machine while the hub cannot be reached."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(
            f"text model {model!r} is not on this machine and {reason}. Name {BUNDLED_MODEL} "
            "(installed with Stick-Gen, works offline) or a downloaded copy instead: --model on "
            "the command line, STICKGEN_EMBEDDING_MODEL for the service"
        )
        self.model = model


def hub_revision(repo_id: str, revision: str | None = None) -> str | None:
    """The commit of the hub model's copy in the local Hugging Face cache (`revision`: a
    branch, tag or commit; None: the default branch); None when it is not cached."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        return None
    found = try_to_load_from_cache(repo_id, _MODULES_FILE, revision=revision)
    return Path(found).parent.name if isinstance(found, str) else None  # snapshots/<commit>/


def _hub_reachable(timeout_s: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """None when the hub answers a TCP connection within `timeout_s`, else why not. Name
    resolution runs in a thread so a resolver without a network cannot stall the caller."""
    import socket
    import threading
    from urllib.parse import urlsplit

    try:
        from huggingface_hub import constants

        endpoint = urlsplit(constants.ENDPOINT)
    except Exception:  # pragma: no cover
        endpoint = urlsplit("https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(f"{host} cannot be reached ({type(exc).__name__})")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return outcome[0] if outcome else f"{host} did not answer within {timeout_s:g} s"


def require_hub_model(model: str, revision: str | None = None) -> None:
    """Fail at once (well under a second) when a hub model (at `revision`) is neither in the
    local cache nor downloadable: offline (HF_HUB_OFFLINE) or the hub does not answer.
    Otherwise return, and the model loads (downloading once when it must)."""
    if hub_revision(model, revision) is not None:
        return
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    if offline:
        raise TextModelUnavailable(model, "HF_HUB_OFFLINE is set")
    reason = _hub_reachable()
    if reason is not None:
        raise TextModelUnavailable(model, f"the Hugging Face hub is out of reach: {reason}")


def _load_error(model: str | Path, exc: Exception) -> StickGenError:
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    if offline:
        hint = "HF_HUB_OFFLINE is set, so a hub model must already be in the Hugging Face cache"
    else:
        hint = (
            "on a machine without internet set HF_HUB_OFFLINE=1 (no slow retries) and use a model "
            "already in the Hugging Face cache"
        )
    return StickGenError(
        f"could not load text model {str(model)!r} ({reason}). {hint}; or download it once on a "
        "machine with internet and name its folder (--model, or STICKGEN_EMBEDDING_MODEL for "
        "the service)"
    )


def _pooling_mode(model: Any) -> str:
    """The pooling recorded in the model's Pooling module config (e.g. 'cls', 'mean')."""
    for module in model:
        if type(module).__name__ != "Pooling":
            continue
        mode = getattr(module, "pooling_mode", None)
        if isinstance(mode, str):
            return mode
        if hasattr(module, "get_pooling_mode_str"):
            return str(module.get_pooling_mode_str())
        config = module.get_config_dict()
        flags = [k for k, v in config.items() if k.startswith("pooling_mode_") and v]
        return "+".join(k.removeprefix("pooling_mode_").removesuffix("_tokens") for k in flags)
    return "none"


class Embedder:
    """A sentence-transformers text model loaded on first use.

    `model` is a Hugging Face hub name or a local sentence-transformers directory; `device` is
    a `stickgen.compute` device choice (vectors are always computed in fp32). `threads` caps
    torch's CPU threads while encoding (default: every core this process may use). `light`
    (for prompts at inference, a few at a time, on the CPU): a local plain-BERT folder runs with
    torch alone (`stickgen.embed.bert`), without importing sentence-transformers. `revision`
    pins a hub model to a commit (or branch or tag); a local folder has none to pin (its id
    carries a hash of its files).
    """

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
        light: bool = False,
        revision: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise StickGenError(f"batch size must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise StickGenError(f"threads must be at least 1, got {threads}")
        self.source = model
        self.device = str(resolve_device(device))
        self.batch_size = batch_size
        self.threads = threads or available_cores()
        self.local_dir = _resolve_local(model)
        self.pinned = revision if self.local_dir is None else None
        self._model_id: str | None = None
        self._cache_key: str | None = None
        self._model: Any = None
        self._light: Any = None
        if light and self.local_dir is not None and self.device == "cpu":
            from stickgen.embed.bert import BertSentenceEncoder

            self._light = BertSentenceEncoder.load(self.local_dir)

    @property
    def model_id(self) -> str:
        """Stable id recorded in artefacts: the hub name, or `NAME@HASH12` for a local dir."""
        if self._model_id is None:
            if self.local_dir is None:
                self._model_id = str(self.source)
            else:
                self._model_id = local_model_id(self.local_dir)
        return self._model_id

    @property
    def revision(self) -> str | None:
        """What fixes the model's weights, recorded beside its id: a hub model's commit (of the
        copy this machine loads; None before it is downloaded), `sha256:` of a local folder's
        files."""
        if self.local_dir is not None:
            return f"sha256:{directory_fingerprint(self.local_dir)}"
        return hub_revision(str(self.source), self.pinned)

    @property
    def package(self) -> str | None:
        """`name==version` of the package that installs the bundled model; None otherwise."""
        return bundled_package() if is_bundled(self.source) else None

    @property
    def cache_key(self) -> str:
        """The model's name in the embedding cache: its id, plus the commit for a hub model (a
        new upstream commit must not be served vectors of the old one); fixed at first use."""
        if self._cache_key is None:
            revision = self.revision if self.local_dir is None else None
            self._cache_key = f"{self.model_id}@{revision}" if revision else self.model_id
        return self._cache_key

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        """The underlying `SentenceTransformer`, loaded on first access."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        if self.local_dir is None:
            require_hub_model(str(self.source), self.pinned)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            shown = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # callers report progress their own way
            try:
                with torch_threads(self.threads):
                    model = SentenceTransformer(
                        str(self.local_dir or self.source), device=self.device, revision=self.pinned
                    )
            finally:
                if shown:
                    hf_logging.enable_progress_bar()
        except StickGenError:
            raise
        except Exception as exc:  # hub, file-format and device errors alike
            raise _load_error(self.source, exc) from exc
        model.eval()
        return model

    @property
    def dim(self) -> int:
        """Embedding dimension, read from the model."""
        if self._light is not None:
            return self._light.dim
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None)
        if getter is None:  # sentence-transformers < 5
            getter = model.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            raise StickGenError(f"text model {self.model_id} does not report its dimension")
        return int(dim)

    @property
    def pooling(self) -> str:
        """Pooling mode from the model's pooling config (e.g. 'cls' for bge, 'mean' for MiniLM)."""
        return _pooling_mode(self.model)

    def encode(self, texts: Sequence[str], progress: Progress = no_progress) -> np.ndarray:
        """Embed `texts` in order: float32 [n, dim], every row L2-normalized.

        Each window of texts is tokenized once and run in batches of equal token count (no
        padding; see `batching`), so a text's vector does not depend on its neighbours.
        """
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if self._light is not None:
            with torch_threads(self.threads):
                for row, text in enumerate(texts):
                    out[row] = self._light.encode_one(text)
                    progress(row + 1, len(texts), "encoding")
            return out
        done = 0
        with torch_threads(self.threads):
            for lo in range(0, len(texts), ENCODE_WINDOW):
                window = texts[lo : lo + ENCODE_WINDOW]
                for rows, vectors in self._encode_window(window):
                    out[rows + lo] = vectors
                    done += len(rows)
                    progress(done, len(texts), "encoding")  # batch by batch
        return out

    def _encode_window(self, texts: list[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rows, normalized vectors) for one window of texts, tokenized once."""
        import torch

        model = self.model
        with torch.inference_mode():
            features = model.preprocess(texts)
            batches = exact_length_batches(features, self.batch_size)
            if batches is None:  # not a plain text model: let sentence-transformers batch
                vectors = model.encode(texts, batch_size=self.batch_size, show_progress_bar=False)
                yield np.arange(len(texts)), _normalize(np.asarray(vectors, dtype=np.float32))
                return
            device = model.device
            for rows, batch in batches:
                batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
                vectors = model(batch)["sentence_embedding"].float().cpu().numpy()
                yield rows, _normalize(vectors)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
