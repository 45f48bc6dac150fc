"""Reading the project's own torch artefacts (checkpoints, evaluators) safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from stickgen.errors import NotFoundError, StickGenError


def write_artefact(path: str | Path, payload: dict[str, Any]) -> Path:
    """`torch.save` `payload` atomically: a temp file in the same directory, fsync, then
    `os.replace`, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def read_artefact(
    path: str | Path, what: str, fmt: str, versions: int | tuple[int, ...]
) -> dict[str, Any]:
    """The payload of the `what` ("checkpoint", "evaluator") at `path`, read with
    `weights_only=True`, after checking that it carries our `fmt` tag and one of `versions`."""
    versions = (versions,) if isinstance(versions, int) else versions
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no {what} at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated or foreign pickle
        raise StickGenError(f"{path} is not a readable Stick-Gen {what}: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise StickGenError(f"{path} is not a Stick-Gen {what}")
    if payload.get("version") not in versions:
        readable = " or ".join(str(v) for v in versions)
        raise StickGenError(
            f"{path} has {what} version {payload.get('version')}, "
            f"this Stick-Gen reads version {readable}"
        )
    return payload
