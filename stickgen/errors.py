"""User-facing errors: the CLI prints them without a traceback, the API maps them to 4xx."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any


class StickGenError(ValueError):
    """Bad input or an unusable artefact, explained in words a user can act on."""


class NotFoundError(StickGenError):
    """A named thing (file, checkpoint, dataset, model) does not exist."""


class Cancelled(Exception):
    """Raised inside long work when its caller asked it to stop."""


def refuse_unknown_keys(data: Mapping[str, Any], cls: type, what: str) -> None:
    """A StickGenError naming the keys of `data` that are not fields of the dataclass `cls`."""
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise StickGenError(f"unknown {what}: {sorted(unknown)}")
