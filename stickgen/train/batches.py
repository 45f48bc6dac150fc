"""Reading training batches straight from a dataset's memory-mapped arrays, in a seeded order."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from stickgen.data.store import Dataset
from stickgen.errors import StickGenError


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


class _Batches(TorchDataset):
    def __init__(self, reader: BatchReader, batches: list[np.ndarray]) -> None:
        self.reader = reader
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return self.reader.read(self.batches[i])


def iterate_batches(
    reader: BatchReader, batches: list[np.ndarray], workers: int = 0
) -> Iterator[dict[str, Tensor]]:
    """Yield the given batches in order through a DataLoader (`workers` > 0 reads ahead)."""
    loader = DataLoader(
        _Batches(reader, batches),
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        persistent_workers=False,
    )
    yield from loader
