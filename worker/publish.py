"""Where a run writes files, and how they become visible, so that only the claim's holder
publishes anything.

- Training writes into `checkpoints/<job>/attempt-<n>/`, a folder of its own attempt; a
  checkpoint becomes visible when its row (moved to the new file) commits in a fenced
  transaction. A new attempt first takes over the published files (hard links into its folder)
  and moves the rows to them, so no row points into the folder of an attempt that lost its
  claim; the old folders are then removed.
- A dataset (or a generate shard) is written into a scratch folder of its own attempt and moved
  into place with one `rename`, which fails when the target exists: the first complete copy
  wins and a late one is dropped. Its row is written in a fenced transaction.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobcore.models import CheckpointRow

ATTEMPT_PREFIX = "attempt-"
RUN_FILES = ("metrics.jsonl", "loss_curve.png")  # rewritten whole (temp file + replace)


def attempt_dir(root: Path, attempt: int) -> Path:
    return root / f"{ATTEMPT_PREFIX}{attempt}"


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # checkpoints are replaced, never written in place: safe to share
    except OSError:
        shutil.copy2(source, target)


def take_over_checkpoints(session: Session, job_id: str, out: Path) -> dict[str, Path]:
    """Make `out` hold the job's published checkpoints (and its run files) under their own
    names; returns {row id: new path}. Run before training resumes in `out`."""
    rows = list(session.scalars(select(CheckpointRow).where(CheckpointRow.job_id == job_id)))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    moved: dict[str, Path] = {}
    for row in rows:
        source = Path(row.path)
        if not source.is_file():
            continue
        target = out / source.name
        if source.resolve() != target.resolve():
            _link_or_copy(source, target)
        moved[row.id] = target
    last = next((Path(row.path) for row in rows if row.kind == "last"), None)
    if last is not None:
        for name in RUN_FILES:
            if (last.parent / name).is_file() and not (out / name).exists():
                shutil.copy2(last.parent / name, out / name)
    return moved


def move_rows(session: Session, moved: dict[str, Path]) -> None:
    """Point the checkpoint rows at their files in the new attempt's folder (fenced by caller)."""
    for row_id, path in moved.items():
        row = session.get(CheckpointRow, row_id)
        if row is not None:
            row.path = str(path.resolve())
    session.flush()


def remove_other_attempts(root: Path, keep: Path) -> None:
    """Delete the folders of other attempts (their runs lost the claim; no row points there)."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name.startswith(ATTEMPT_PREFIX) and folder != keep:
            shutil.rmtree(folder, ignore_errors=True)


def publish_dir(scratch: Path, final: Path, complete: callable) -> Path:  # type: ignore[valid-type]
    """Move the finished folder `scratch` to `final` in one rename. When `final` is already
    there (another attempt of the same job published first) and `complete(final)` says it is
    whole, that copy stays and `scratch` is dropped; an incomplete one is replaced."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            os.rename(scratch, final)
            return final
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
        if complete(final):
            shutil.rmtree(scratch, ignore_errors=True)
            return final
        shutil.rmtree(final, ignore_errors=True)
    os.rename(scratch, final)
    return final
