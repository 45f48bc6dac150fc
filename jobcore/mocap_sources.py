"""Motion-capture paths a job names, resolved inside the server's motion-capture folder.

Clients name files by paths relative to `Settings.mocap_path`; the schema already refuses
absolute paths and `..`. Here each path is resolved (symbolic links followed) and must stay inside
the folder, and so must every file a named folder holds, at any depth (a link anywhere below
that leads out refuses the job), so no request reads a file anywhere else. Errors name paths
relative to the folder only. The API checks a job's sources when it is
created (a 4xx before anything is queued) and the worker resolves them again when it runs.
Messages name the relative path only, never the server's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stickgen.data.mocap.importer import SUFFIXES, discover
from stickgen.errors import StickGenError


@dataclass(frozen=True)
class MocapInputs:
    """Resolved, existing absolute paths of a job's motion capture."""

    sources: list[Path]
    body_model: Path | None


def _inside(root: Path, relative: str, what: str) -> Path:
    try:
        path = (root / relative).resolve()
        exists = path.exists()
    except (OSError, ValueError):  # a name too long for the file system, unencodable text
        raise StickGenError(f"{what} {relative!r} is not a usable file name") from None
    if path != root and root not in path.parents:
        raise StickGenError(f"{what} {relative!r} leads outside the motion-capture folder")
    if not exists:
        raise StickGenError(f"{what} {relative!r} is not in the server's motion-capture folder")
    return path


def _motion_source(root: Path, relative: str) -> Path:
    path = _inside(root, relative, "source")
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise StickGenError(
            f"source {relative!r} is not a motion file (expected {', '.join(SUFFIXES)})"
        )
    if path.is_dir():
        try:
            found = discover([path])
            for file, _name, _explicit in found:
                _inside_by_file(root, file, relative)
        except OSError as exc:
            raise StickGenError(f"source {relative!r} cannot be read ({exc.strerror})") from None
        if not found:
            kinds = ", ".join(SUFFIXES)
            raise StickGenError(f"source {relative!r} holds no motion files ({kinds})")
    return path


def _inside_by_file(root: Path, file: Path, named: str) -> None:
    """A file found under a named folder must itself resolve inside `root`."""
    resolved = file.resolve()
    if root not in resolved.parents:
        inner = file.relative_to(root).as_posix() if file.is_relative_to(root) else file.name
        raise StickGenError(
            f"source {named!r} holds {inner!r}, a link that leads outside the motion-capture folder"
        )


def resolve(root: Path, mocap: dict[str, Any]) -> MocapInputs:
    """Resolve stored `{"sources": [...], "body_model": ...}` params under `root`.

    Raises StickGenError when the folder is missing, a path leaves it or names nothing usable,
    or an AMASS `.npz` is named without a body model."""
    root = root.resolve()
    if not root.is_dir():
        raise StickGenError("this server has no motion-capture folder (set STICKGEN_MOCAP_DIR)")
    sources = [_motion_source(root, str(relative)) for relative in mocap["sources"]]
    body_model = None
    if mocap.get("body_model") is not None:
        body_model = _inside(root, str(mocap["body_model"]), "body_model")
        if not body_model.is_file() or body_model.suffix.lower() != ".npz":
            raise StickGenError(f"body_model {mocap['body_model']!r} is not an .npz file")
    for relative, path in zip(mocap["sources"], sources, strict=True):
        if body_model is None and path.is_file() and path.suffix.lower() == ".npz":
            raise StickGenError(
                f"source {relative!r}: AMASS .npz motions need body_model (an SMPL-H .npz)"
            )
    return MocapInputs(sources, body_model)
