"""A dataset on disk: memory-mapped arrays, a manifest, unique descriptions; written atomically.

Layout of a dataset directory::

    manifest.json          format, version, counts, seed, generator config, action vocabulary,
                           split counts, action histogram, embedding info, checksums
    motion.npy             float32 [N, T, 20]
    actions.npy            uint8   [N, T]   (read back as int64 labels)
    physics.npy            float32 [N, T, 6]
    face.npy               float32 [N, T, 7]
    description_index.npy  int32   [N]      row of descriptions.jsonl for each sample
    scene_id.npy           int64   [N]      base scene of a sample (augmented copies share it)
    split.npy              uint8   [N]      0 train, 1 val, 2 test (by scene)
    augmentation.npy       uint8   [N]      0 none, 1 speed, 2 position, 3 scale, 4 mirror
    source.npy             uint8   [N]      index into manifest["sources"]
    descriptions.jsonl     one JSON string per line, unique
    embeddings.npy         float32 [U, D]   optional, row i embeds descriptions line i

A directory is built as `NAME.tmp/` and renamed to `NAME/` only when complete, so a crash never
leaves something that looks like a finished dataset.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stickgen.errors import NotFoundError, StickGenError
from stickgen.files import replacing, write_text_atomic
from stickgen.schema import FACE_DIM, MOTION_DIM, NUM_ACTIONS, PHYSICS_DIM, action_vocabulary

FORMAT = "stickgen-dataset"
VERSION = 2  # 2: 49 actions (hug, handshake, high five appended); 1: 46 actions
MANIFEST = "manifest.json"
DESCRIPTIONS = "descriptions.jsonl"
EMBEDDINGS = "embeddings.npy"
SPLITS = ("train", "val", "test")
AUGMENTATIONS = ("none", "speed", "position", "scale", "mirror")

# field -> (disk dtype, trailing shape given frames)
PER_SAMPLE_FIELDS: dict[str, tuple[np.dtype, Any]] = {
    "motion": (np.dtype(np.float32), lambda t: (t, MOTION_DIM)),
    "actions": (np.dtype(np.uint8), lambda t: (t,)),
    "physics": (np.dtype(np.float32), lambda t: (t, PHYSICS_DIM)),
    "face": (np.dtype(np.float32), lambda t: (t, FACE_DIM)),
    "description_index": (np.dtype(np.int32), lambda t: ()),
    "scene_id": (np.dtype(np.int64), lambda t: ()),
    "split": (np.dtype(np.uint8), lambda t: ()),
    "augmentation": (np.dtype(np.uint8), lambda t: ()),
    "source": (np.dtype(np.uint8), lambda t: ()),
}


def sha256_file(path: Path, chunk: int = 1 << 24) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path: Path, payload: Any) -> None:
    """Replace `path` with `payload` as indented JSON, whole."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True))


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    """Replace `path` with `array` (`np.save`), whole."""
    with replacing(path, suffix=".npy") as tmp:
        np.save(tmp, array)


class DatasetWriter:
    """Fill a new dataset's arrays in any order of sample ranges, then `finish()` to publish it.

    Rows go to the files with positioned writes (no memory map, so resident memory does not grow
    with the dataset). Writes in sample order are checksummed on the fly; any other order falls
    back to reading the files back in `finish()`.

    Used as a context manager: leaving the block without `finish()` (an exception, a cancel)
    deletes the temporary directory.
    """

    def __init__(
        self,
        out_dir: str | Path,
        num_samples: int,
        frames: int,
        *,
        sources: Sequence[str] = ("synthetic",),
        overwrite: bool = False,
    ) -> None:
        if num_samples <= 0:
            raise StickGenError("a dataset needs at least one sample")
        self.final = Path(out_dir)
        if self.final.exists() and not overwrite:
            raise StickGenError(f"{self.final} already exists (pass overwrite to replace it)")
        self.tmp = self.final.with_name(self.final.name + ".tmp")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.num_samples = num_samples
        self.frames = frames
        self.sources = list(sources)
        self._fields: dict[str, _FieldFile] = {}
        for name, (dtype, shape) in PER_SAMPLE_FIELDS.items():
            self._fields[name] = _FieldFile(
                self.tmp / f"{name}.npy", dtype, (num_samples, *shape(frames))
            )
        self._text_index: dict[str, int] = {}
        self._written = np.zeros(num_samples, dtype=bool)
        self._hashed_upto: int | None = 0  # rows checksummed in order so far; None: out of order
        self._finished = False

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._finished:
            self.abort()

    def description_ids(self, texts: Sequence[str]) -> np.ndarray:
        """Map texts to rows of the unique-description table, adding new ones."""
        ids = np.empty(len(texts), dtype=np.int32)
        for i, text in enumerate(texts):
            ids[i] = self._text_index.setdefault(text, len(self._text_index))
        return ids

    def write(self, start: int, *, descriptions: Sequence[str], **fields: np.ndarray) -> None:
        """Write samples `start .. start+len(descriptions)`; every per-sample field but
        description_index must be given (source defaults to 0)."""
        fields.setdefault("source", np.zeros(len(descriptions), dtype=np.uint8))
        missing = set(PER_SAMPLE_FIELDS) - {"description_index"} - set(fields)
        if missing:
            raise ValueError(f"missing fields: {sorted(missing)}")
        self._record(start, descriptions, fields)

    def slots(self) -> dict[str, RowSlot]:
        """Where each per-sample field's rows go (description_index excepted), for another
        process to write rows with `write_rows` before the range is `adopt`ed here."""
        return {name: f.slot for name, f in self._fields.items() if name != "description_index"}

    def adopt(self, start: int, *, descriptions: Sequence[str], **fields: np.ndarray) -> None:
        """Record samples `start .. start+len(descriptions)` whose per-sample fields another
        process already wrote with `write_rows`, except those given here (written now). Rows
        arriving in order are read back for the running checksums."""
        self._record(start, descriptions, fields)

    def _record(
        self, start: int, descriptions: Sequence[str], fields: dict[str, np.ndarray]
    ) -> None:
        n = len(descriptions)
        stop = start + n
        if start < 0 or stop > self.num_samples:
            raise IndexError(f"samples {start}..{stop} outside 0..{self.num_samples}")
        rows = {}
        for name, value in fields.items():
            target = self._fields[name]
            value = np.asarray(value)
            if value.shape != (n, *target.shape[1:]):
                raise ValueError(f"{name}: shape {value.shape}, expected {(n, *target.shape[1:])}")
            rows[name] = value
        rows["description_index"] = self.description_ids(descriptions)
        in_order = self._hashed_upto == start
        for name, f in self._fields.items():
            if name in rows:
                f.write(start, rows[name], hash_it=in_order)
            elif in_order:
                f.hash_back(start, n)
        self._hashed_upto = stop if in_order else None
        self._written[start:stop] = True

    def finish(self, manifest: dict[str, Any] | None = None) -> Path:
        """Flush, checksum, write the manifest and atomically publish the dataset."""
        if not self._written.all():
            raise StickGenError(f"{int((~self._written).sum())} samples were never written")
        texts = sorted(self._text_index, key=self._text_index.__getitem__)
        with open(self.tmp / DESCRIPTIONS, "w") as fh:
            for text in texts:
                fh.write(json.dumps(text) + "\n")
        streamed = self._hashed_upto == self.num_samples
        digests = {f"{name}.npy": f.close(digest=streamed) for name, f in self._fields.items()}
        histogram = np.zeros(NUM_ACTIONS, dtype=np.int64)
        for _, block in iter_chunks(self.tmp / "actions.npy", self.num_samples):
            histogram += np.bincount(block.ravel(), minlength=NUM_ACTIONS)
        split = np.load(self.tmp / "split.npy")
        vocab = action_vocabulary()
        body = {
            "format": FORMAT,
            "version": VERSION,
            "num_samples": self.num_samples,
            "frames": self.frames,
            "unique_descriptions": len(texts),
            "actions": vocab,
            "action_histogram": {vocab[i]: int(c) for i, c in enumerate(histogram)},
            "splits": {
                name: int(np.count_nonzero(np.asarray(split) == k)) for k, name in enumerate(SPLITS)
            },
            "sources": self.sources,
            "embedding": None,
            **(manifest or {}),
        }
        del split
        known = {name: digest for name, digest in digests.items() if digest is not None}
        body["checksums"] = checksums(self.tmp, known=known)
        write_json_atomic(self.tmp / MANIFEST, body)
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        self._finished = True
        return self.final

    def abort(self) -> None:
        for f in self._fields.values():
            f.close(digest=False, sync=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass(frozen=True)
class RowSlot:
    """Where one per-sample field's rows live in a dataset file being written (picklable)."""

    path: Path
    offset: int  # bytes before row 0 (the .npy header)
    row_bytes: int
    dtype: str
    row_shape: tuple[int, ...]


def _pwrite_all(fd: int, array: np.ndarray, position: int) -> None:
    data = memoryview(array).cast("B")
    while data:
        written = os.pwrite(fd, data, position)
        data, position = data[written:], position + written


def write_rows(slot: RowSlot, start: int, rows: np.ndarray) -> None:
    """Write rows from sample `start` on into a dataset file being built (from any process)."""
    array = np.ascontiguousarray(rows, dtype=slot.dtype)
    if array.shape[1:] != slot.row_shape:
        raise ValueError(f"{slot.path.name}: rows {array.shape[1:]}, expected {slot.row_shape}")
    fd = os.open(slot.path, os.O_WRONLY)
    try:
        _pwrite_all(fd, array, slot.offset + start * slot.row_bytes)
    finally:
        os.close(fd)


class _FieldFile:
    """One `.npy` file of a dataset being written: header first, rows by positioned writes, and
    an optional running sha256 of the whole file while rows arrive in order."""

    def __init__(self, path: Path, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.dtype = np.dtype(dtype)
        header = np.lib.format.open_memmap(path, mode="w+", dtype=self.dtype, shape=shape)
        offset = header.offset
        del header  # the file now holds its header and its full (sparse) size
        row_bytes = self.dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
        self.slot = RowSlot(path, offset, row_bytes, self.dtype.str, tuple(shape[1:]))
        self.fd: int | None = os.open(path, os.O_RDWR)
        self.hash = hashlib.sha256(os.pread(self.fd, offset, 0))

    def write(self, start: int, rows: np.ndarray, *, hash_it: bool) -> None:
        array = np.ascontiguousarray(rows, dtype=self.dtype)
        _pwrite_all(self.fd, array, self.slot.offset + start * self.slot.row_bytes)
        if hash_it:
            self.hash.update(array)

    def hash_back(self, start: int, count: int) -> None:
        """Add rows written by another process to the running checksum, reading them back."""
        size, position = count * self.slot.row_bytes, self.slot.offset + start * self.slot.row_bytes
        while size:
            block = os.pread(self.fd, min(size, 1 << 24), position)
            if not block:
                raise RuntimeError(f"{self.slot.path.name} ends before row {start + count}")
            self.hash.update(block)
            size, position = size - len(block), position + len(block)

    def close(self, *, digest: bool, sync: bool = True) -> str | None:
        """Close the file (synced to disk first when `sync`); its sha256 when `digest` (every
        row was hashed in order)."""
        if self.fd is None:
            return None
        if sync:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        return self.hash.hexdigest() if digest else None


def npy_layout(path: Path) -> tuple[int, np.dtype, tuple[int, ...]]:
    """(header bytes, dtype, shape) of a C-ordered `.npy` file."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(fh)
        if fortran:
            raise StickGenError(f"{path} is stored in Fortran order")
        return fh.tell(), np.dtype(dtype), tuple(shape)


def iter_chunks(path: Path, count: int, size: int = 4096) -> Iterator[tuple[int, np.ndarray]]:
    """Yield `(start, rows)` of the first `count` rows of an `.npy` file in blocks of `size` rows,
    read with plain file reads (no memory map), so resident memory stays bounded by one block."""
    offset, dtype, shape = npy_layout(path)
    row_items = int(np.prod(shape[1:], dtype=np.int64))
    with open(path, "rb") as fh:
        fh.seek(offset)
        for lo in range(0, count, size):
            rows = min(size, count - lo)
            block = np.fromfile(fh, dtype=dtype, count=rows * row_items)
            if block.size != rows * row_items:
                raise StickGenError(f"{path} is shorter than its header says")
            yield lo, block.reshape(rows, *shape[1:])


def read_rows(path: Path, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Rows `indices` of an `.npy` file, read one by one (no memory map): for small samples."""
    offset, dtype, shape = npy_layout(path)
    row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    out = np.empty((len(indices), *shape[1:]), dtype=dtype)
    with open(path, "rb") as fh:
        for j, i in enumerate(indices):
            if not 0 <= int(i) < shape[0]:
                raise IndexError(f"row {i} outside 0..{shape[0]}")
            fh.seek(offset + int(i) * row_bytes)
            out[j] = np.frombuffer(fh.read(row_bytes), dtype=dtype).reshape(shape[1:])
    return out


def checksums(directory: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every data file of a dataset directory (the manifest excluded); digests in
    `known` (computed while writing) are taken as given."""
    names = [f"{n}.npy" for n in PER_SAMPLE_FIELDS] + [DESCRIPTIONS]
    if (directory / EMBEDDINGS).exists():
        names.append(EMBEDDINGS)
    known = known or {}
    return {name: known.get(name) or sha256_file(directory / name) for name in names}


def check_action_vocabulary(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse a dataset labelled with another action vocabulary (an older Stick-Gen's), with a
    message that says what to do: its labels would mean other actions here."""
    vocab = manifest.get("actions")
    current = action_vocabulary()
    if vocab is None or vocab == current:
        return
    if isinstance(vocab, list) and vocab == current[: len(vocab)]:
        added = ", ".join(current[len(vocab) :])
        raise StickGenError(
            f"{path} was made with {len(vocab)} actions; this Stick-Gen has {len(current)} "
            f"({added} were added), so the dataset is out of date: generate it again "
            "(stick-gen data generate) and retrain models made from it"
        )
    count = len(vocab) if isinstance(vocab, list) else "?"
    raise StickGenError(
        f"{path} uses a different action vocabulary ({count} actions) from this Stick-Gen's "
        f"{len(current)}: generate it again"
    )


class Dataset:
    """Read-only view of a dataset directory; arrays are memory-mapped, never loaded whole."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            if self.path.with_name(self.path.name + ".tmp").exists():
                raise StickGenError(f"{self.path} is incomplete (generation did not finish)")
            raise NotFoundError(f"no dataset at {self.path} (missing {MANIFEST})")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        if self.manifest.get("format") != FORMAT:
            raise StickGenError(f"{self.path} is not a Stick-Gen dataset")
        check_action_vocabulary(self.path, self.manifest)
        if self.manifest.get("version") != VERSION:
            raise StickGenError(
                f"{self.path} has dataset version {self.manifest.get('version')}, "
                f"this Stick-Gen reads version {VERSION}"
            )
        for name in PER_SAMPLE_FIELDS:
            setattr(self, name, np.load(self.path / f"{name}.npy", mmap_mode="r"))
        with open(self.path / DESCRIPTIONS) as fh:
            self.descriptions: list[str] = [json.loads(line) for line in fh]
        emb_path = self.path / EMBEDDINGS
        self.embeddings: np.ndarray | None = (
            np.load(emb_path, mmap_mode="r") if emb_path.exists() else None
        )

    motion: np.ndarray
    actions: np.ndarray
    physics: np.ndarray
    face: np.ndarray
    description_index: np.ndarray
    scene_id: np.ndarray
    split: np.ndarray
    augmentation: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return int(self.manifest["num_samples"])

    @property
    def frames(self) -> int:
        return int(self.manifest["frames"])

    @property
    def embedding_model(self) -> str | None:
        info = self.manifest.get("embedding")
        return info["model"] if info else None

    @property
    def dataset_id(self) -> str:
        """A short content id: changes whenever any data file changes."""
        digest = hashlib.sha256(json.dumps(self.manifest["checksums"], sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def chunks(self, field: str, size: int = 4096) -> Iterator[tuple[int, np.ndarray]]:
        """Yield `(start, rows)` blocks of one per-sample field with bounded resident memory."""
        if field not in PER_SAMPLE_FIELDS:
            raise StickGenError(
                f"unknown field {field!r}; expected one of {list(PER_SAMPLE_FIELDS)}"
            )
        return iter_chunks(self.path / f"{field}.npy", len(self), size)

    def rows(self, field: str, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Copies of a few samples' rows of one per-sample field, read without a memory map."""
        if field not in PER_SAMPLE_FIELDS:
            raise StickGenError(
                f"unknown field {field!r}; expected one of {list(PER_SAMPLE_FIELDS)}"
            )
        return read_rows(self.path / f"{field}.npy", indices)

    def split_indices(self, name: str) -> np.ndarray:
        """Sample indices of one split ("train", "val" or "test")."""
        if name not in SPLITS:
            raise StickGenError(f"unknown split {name!r}; expected one of {SPLITS}")
        return np.flatnonzero(np.asarray(self.split) == SPLITS.index(name))

    def description(self, i: int) -> str:
        return self.descriptions[int(self.description_index[i])]

    def embedding(self, i: int) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        return np.asarray(self.embeddings[int(self.description_index[i])], dtype=np.float32)

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i = i % len(self)
        sample: dict[str, Any] = {
            "description": self.description(i),
            "motion": np.asarray(self.motion[i], dtype=np.float32),
            "actions": np.asarray(self.actions[i], dtype=np.int64),
            "physics": np.asarray(self.physics[i], dtype=np.float32),
            "face": np.asarray(self.face[i], dtype=np.float32),
        }
        embedding = self.embedding(i)
        if embedding is not None:
            sample["embedding"] = embedding
        return sample
