"""The progress-callback convention every long-running library function follows."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
"""Called as `progress(done, total, message)`; `done == total` means finished."""


def no_progress(done: int, total: int, message: str) -> None:
    """The default callback: ignore progress."""
