"""Reading the project's own torch artefacts (checkpoints, evaluators) safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stickgen.errors import NotFoundError, StickGenError
from stickgen.files import replacing


def write_artefact(path: str | Path, payload: dict[str, Any]) -> Path:
    """`torch.save` `payload` to `path` whole (`stickgen.files.replacing`)."""
    with replacing(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


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
