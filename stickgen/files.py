"""Replacing a file whole: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp(\.\w+)?$")


@contextmanager
def replacing(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """A new temporary sibling of `path` for the block to write (`suffix` for writers that
    append their own extension); when the block succeeds it is synced to disk and renamed over
    `path`, otherwise removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{suffix}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Replace `path` with `text` (UTF-8) whole."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files `replacing` left in `folder` when its process was killed
    mid-write; returns what was removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and _TEMPORARY.match(p.name)]
    for tmp in found:
        tmp.unlink(missing_ok=True)
    return found
