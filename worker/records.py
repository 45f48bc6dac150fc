"""Dataset and checkpoint rows, written only after their files are in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobcore.models import CheckpointRow, DatasetRow, utcnow

MANIFEST_SUMMARY_KEYS = (
    "num_samples",
    "frames",
    "unique_descriptions",
    "splits",
    "sources",
    "seed",
    "embedding",
    "action_histogram",
    "generator",
    "version",
)
CHECKPOINT_METRICS = (
    "train_loss",
    "val_loss",
    "val_smoothness",
    "val_position",
    "val_action_accuracy",
    "step",
    "is_best",
    "preset",
    "num_parameters",
)


def manifest_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without checksums: what a client wants to see about a dataset."""
    return {key: manifest[key] for key in MANIFEST_SUMMARY_KEYS if key in manifest}


def test_prompts(files: Any) -> int:
    """Original (not augmented) clips in the test split: the prompts an evaluation scores."""
    import numpy as np

    from stickgen.data.store import SPLITS

    split = np.asarray(files.split) == SPLITS.index("test")
    return int((split & (np.asarray(files.augmentation) == 0)).sum())


def upsert_dataset(session: Session, path: Path, *, name: str, job_id: str | None) -> DatasetRow:
    """Create or refresh the row of the finished dataset directory at `path`."""
    from stickgen.data.store import Dataset

    files = Dataset(path)
    row = session.scalar(select(DatasetRow).where(DatasetRow.path == str(path)))
    if row is None:
        row = DatasetRow(path=str(path), name=name, job_id=job_id)
        session.add(row)
    row.samples = len(files)
    row.manifest = {
        **manifest_summary(files.manifest),
        "content_id": files.dataset_id,
        "test_prompts": test_prompts(files),
    }
    row.embedding_model = files.embedding_model
    row.updated_at = utcnow()
    session.flush()
    return row


def upsert_checkpoint(
    session: Session, info: dict[str, Any], *, job_id: str, dataset_id: str | None
) -> CheckpointRow:
    """Create or refresh the row of a checkpoint file the trainer just wrote (`on_checkpoint`).

    A job has one row per kind (`last`, `best`) and per epoch file: a later file of the same
    kind (the next epoch, or the same checkpoint in a later attempt's folder) moves the row, so
    its id stays valid for clients."""
    path = str(Path(info["path"]).resolve())
    kind = str(info.get("kind") or "last")
    epoch = int(info.get("epoch") or 0)
    same = [CheckpointRow.job_id == job_id, CheckpointRow.kind == kind]
    if kind not in ("last", "best"):
        same.append(CheckpointRow.epoch == epoch)
    row = session.scalar(select(CheckpointRow).where(*same).order_by(CheckpointRow.created_at))
    row = row or session.scalar(select(CheckpointRow).where(CheckpointRow.path == path))
    if row is None:
        row = CheckpointRow(path=path, job_id=job_id, dataset_id=dataset_id)
        session.add(row)
    row.path = path
    row.epoch = epoch
    row.kind = kind
    metrics = {key: info[key] for key in CHECKPOINT_METRICS if key in info}
    row.metrics = json_safe({**metrics, "history_entry": info.get("metrics") or {}})
    row.dataset_content_id = info.get("dataset_id")
    row.embedding_model = info.get("embedding_model")
    row.updated_at = utcnow()
    session.flush()
    return row


def drop_pruned_epochs(session: Session, job_id: str) -> int:
    """Delete the train job's epoch checkpoint rows whose file the trainer's retention removed
    (`TrainConfig.keep_epoch_checkpoints`); returns how many."""
    rows = session.scalars(
        select(CheckpointRow).where(CheckpointRow.job_id == job_id, CheckpointRow.kind == "epoch")
    )
    gone = [row for row in rows if not Path(row.path).is_file()]
    for row in gone:
        session.delete(row)
    session.flush()
    return len(gone)


def checkpoint_ids(session: Session, job_id: str) -> dict[str, str]:
    """Checkpoint row ids of a train job by kind (last, best; epoch files by their epoch)."""
    rows = session.scalars(select(CheckpointRow).where(CheckpointRow.job_id == job_id))
    return {
        row.kind if row.kind in ("last", "best") else f"epoch_{row.epoch}": row.id for row in rows
    }


def last_epoch(session: Session, job_id: str) -> int | None:
    """Epoch of a train job's `last` checkpoint row (where a resumed run starts)."""
    return session.scalar(
        select(CheckpointRow.epoch).where(
            CheckpointRow.job_id == job_id, CheckpointRow.kind == "last"
        )
    )


def store_evaluation(session: Session, checkpoint_id: str, evaluation: dict[str, Any]) -> bool:
    """Put an evaluation on a checkpoint row; False when the row is gone."""
    row = session.get(CheckpointRow, checkpoint_id)
    if row is None:
        return False
    row.evaluation = json_safe(evaluation)
    row.updated_at = utcnow()
    session.flush()
    return True


def evaluation_summary(evaluation: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
    """Metric means of the systems of the given kinds: {system: {metric: mean}}."""
    return {
        name: {key: (cell or {}).get("mean") for key, cell in row.get("metrics", {}).items()}
        for name, row in evaluation.get("systems", {}).items()
        if row.get("kind") in kinds
    }


def relative_to(value: Any, root: Path) -> Any:
    """`value` with every path under `root` written relative to it (clients never see where
    the server keeps its files)."""
    prefix = str(root).rstrip("/") + "/"
    if isinstance(value, dict):
        return {k: relative_to(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_to(v, root) for v in value]
    if isinstance(value, str):
        return value.replace(prefix, "")
    return value


def json_safe(value: Any) -> Any:
    """Plain JSON values (numpy scalars and NaN become floats / None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if number == number and abs(number) != float("inf") else None
