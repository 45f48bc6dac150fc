"""Reading training data straight from a dataset's memory-mapped arrays: batches in a seeded
order, read ahead in the background, and the statistics a run starts from."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from stickgen.data.store import Dataset
from stickgen.errors import StickGenError
from stickgen.model import MotionStats

T = TypeVar("T")


class BatchReader:
    """Turns an array of sample indices into a batch of tensors, touching only those rows."""

    def __init__(self, dataset: Dataset) -> None:
        if dataset.embeddings is None:
            raise StickGenError(f"dataset {dataset.path} has no embeddings")
        self.dataset = dataset

    def read(self, indices: np.ndarray) -> dict[str, Tensor]:
        """`text [B, D]`, `actions [B, T]` int64, `motion [B, T, 20]`, `physics [B, T, 6]`.

        Rows come in ascending index order (sequential reads from the memory map).
        """
        ds = self.dataset
        idx = np.sort(np.asarray(indices, dtype=np.int64))
        rows = np.asarray(ds.description_index[idx], dtype=np.int64)
        return {
            "text": torch.from_numpy(np.asarray(ds.embeddings[rows], dtype=np.float32)),
            "actions": torch.from_numpy(np.asarray(ds.actions[idx], dtype=np.int64)),
            "motion": torch.from_numpy(np.asarray(ds.motion[idx], dtype=np.float32)),
            "physics": torch.from_numpy(np.asarray(ds.physics[idx], dtype=np.float32)),
        }


def epoch_order(indices: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """The shuffled sample order of one epoch: a function of (seed, epoch) only."""
    return np.random.default_rng([seed, epoch]).permutation(np.asarray(indices, dtype=np.int64))


def split_batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches of `order`; the last one may be smaller."""
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def subset(indices: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """At most `limit` of `indices`, chosen by a seeded shuffle, in ascending order."""
    indices = np.asarray(indices, dtype=np.int64)
    if limit is None or limit >= len(indices):
        return indices
    if limit < 1:
        raise StickGenError(f"sample limit must be at least 1, got {limit}")
    chosen = np.random.default_rng([seed, 0x5EED]).permutation(indices)[:limit]
    return np.sort(chosen)


STATS_SAMPLES = 10_000  # normalisation statistics use at most this many samples


def train_statistics(dataset: Dataset, indices: np.ndarray, seed: int) -> MotionStats:
    """Normalisation statistics of (a seeded subset of at most `STATS_SAMPLES` of) `indices`."""
    chosen = subset(indices, STATS_SAMPLES, seed)
    chunks = (
        (dataset.motion[chosen[i : i + 256]], dataset.physics[chosen[i : i + 256]])
        for i in range(0, len(chosen), 256)
    )
    return MotionStats.from_chunks(chunks)


def distinct_texts(dataset: Dataset, indices: np.ndarray) -> Tensor:
    """`[n, D]` embeddings of the distinct descriptions of the samples `indices`."""
    rows = np.unique(np.asarray(dataset.description_index[indices], dtype=np.int64))
    return torch.from_numpy(np.asarray(dataset.embeddings[rows], dtype=np.float32))


def to_device(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    """`batch` on `device` (through pinned memory, without blocking, for a GPU)."""
    if device.type == "cpu":
        return batch
    return {k: v.pin_memory().to(device, non_blocking=True) for k, v in batch.items()}


_DONE = object()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield `items` in order while a background thread produces up to `depth` ahead (reading
    memory-mapped rows releases the GIL, so the reader overlaps the training step)."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                ahead.put(item)
        except BaseException as exc:  # re-raised in the consumer
            ahead.put(_Failed(exc))
        ahead.put(_DONE)

    thread = threading.Thread(target=produce, daemon=True, name="stickgen-prefetch")
    thread.start()
    try:
        while (item := ahead.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.05)


@dataclass(frozen=True)
class _Failed:
    error: BaseException
