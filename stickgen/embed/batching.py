"""Batches without padding: texts grouped by their exact token count, cut from one tokenisation.

A transformer's cost grows with the padded token count of each batch. Grouping texts whose token
counts are equal makes every batch rectangular, so no position is padding and the attention mask
is all ones; each text's vector is what the model gives for that text alone, up to float32
rounding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

Batch = tuple[np.ndarray, dict[str, Any]]


def token_counts(features: Mapping[str, Any]) -> np.ndarray | None:
    """Real (unpadded) token count per text, or None when the features carry no 2-D
    attention mask."""
    mask = features.get("attention_mask")
    if mask is None or getattr(mask, "ndim", 0) != 2:
        return None
    return np.asarray(mask.sum(dim=1).cpu(), dtype=np.int64)


def _per_text(value: Any) -> bool:
    """True for a tensor with a leading texts axis (strings and scalars are shared)."""
    import torch

    return isinstance(value, torch.Tensor) and value.ndim > 0


def _splittable(features: Mapping[str, Any], shape: tuple[int, int]) -> bool:
    """True when every per-text value is a [texts, positions] tensor like the mask."""
    return all(tuple(v.shape) == shape for v in features.values() if _per_text(v))


def exact_length_batches(features: Mapping[str, Any], batch_size: int) -> Iterator[Batch] | None:
    """Split one padded tokenisation of n texts into batches of at most `batch_size` texts that
    all have the same token count, with the padding cut away.

    Yields (rows into the n texts, features of those rows). Works for either padding side (the
    kept positions are the masked-in ones, in order). Returns None when the features hold
    anything other than [texts, positions] tensors (e.g. images), so the caller can fall back
    to the model's own batching.
    """
    counts = token_counts(features)
    if counts is None:
        return None
    mask = features["attention_mask"]
    if not _splittable(features, tuple(mask.shape)):
        return None
    return _batches(features, counts, batch_size)


def _batches(features: Mapping[str, Any], counts: np.ndarray, batch_size: int) -> Iterator[Batch]:
    keep = features["attention_mask"].bool()
    order = np.argsort(counts, kind="stable")
    bounds = np.flatnonzero(np.diff(counts[order])) + 1
    for group in np.split(order, bounds):
        length = int(counts[group[0]])
        for lo in range(0, len(group), batch_size):
            rows = group[lo : lo + batch_size]
            yield rows, _select(features, keep, rows, length)


def _select(
    features: Mapping[str, Any], keep: Any, rows: np.ndarray, length: int
) -> dict[str, Any]:
    """The rows' features with only their real positions (`length` of them per row)."""
    import torch

    index = torch.from_numpy(rows)
    row_keep = keep[index]
    batch: dict[str, Any] = {}
    for name, value in features.items():
        if _per_text(value):
            batch[name] = value[index][row_keep].view(len(rows), length)
        else:
            batch[name] = value
    return batch
