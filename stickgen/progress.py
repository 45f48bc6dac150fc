"""The progress-callback convention every long-running library function follows."""

from __future__ import annotations

import re
from collections.abc import Callable

Progress = Callable[[int, int, str], None]
"""Called as `progress(done, total, message)`; `done == total` means finished."""


def no_progress(done: int, total: int, message: str) -> None:
    """The default callback: ignore progress."""


def scaled(progress: Progress, lo: float, hi: float, steps: int = 1000) -> Progress:
    """A callback for one part of a longer task: its progress lands on [lo, hi] of the whole."""

    def report(done: int, total: int, message: str) -> None:
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        progress(round(steps * (lo + (hi - lo) * fraction)), steps, message)

    return report


_LOSS = re.compile(r"\b(?:loss|train) (nan|-?inf|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?!\S)")


def loss_in(message: str) -> float | None:
    """The training loss a training progress message states (`epoch 2/9 loss 0.4123` during
    an epoch, `epoch 2/9 train 0.4123 val 0.5` at its end), or None."""
    found = _LOSS.search(message)
    return float(found.group(1)) if found else None
