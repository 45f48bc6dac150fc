"""Deleting jobs, datasets and checkpoints: their rows and their files, never while in use.

In use (the deletion is refused, with one reason per user):
- a job that has not ended (cancel it first), or a step of a pipeline or sharded job (delete
  that job, which deletes its steps);
- a dataset or checkpoint that a job which has not ended names in its parameters (embed, train,
  evaluate, a pipeline's later steps), or whose own job, or a job above it, has not ended (it
  may still write it).
A checkpoint does not hold on to the dataset it was trained from: its row keeps the dataset's
content id (and its model card says it), and a dataset may go before its models.

Deleting a job deletes what it made: its steps, their datasets and checkpoints (rows and files),
its scratch and evaluation folders, and the evaluation it stored on a checkpoint.

The rows go in one transaction that locks them (PostgreSQL) and checks their uses; the files go
after it commits (`remove_files`). Nothing writes into a deleted folder afterwards: files are
published only by a run holding a running job's claim (`jobcore.jobs.hold`), and nothing a job
that has not ended uses is deleted. A run that lost its claim may still write into its own
attempt folder; the clean-up removes such orphans (`jobcore.cleanup.remove_orphans`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobcore.models import TERMINAL, CheckpointRow, DatasetRow, Job
from jobcore.settings import Settings


@dataclass
class Deletion:
    """What one delete removes (rows, then files) and, when it is refused, why."""

    rows: list[Any] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    evaluations: list[CheckpointRow] = field(default_factory=list)  # to clear, not delete
    refusals: list[str] = field(default_factory=list)


def _ids_in(value: Any) -> set[str]:
    """Every string inside a job's parameters (ids are found wherever a kind keeps them)."""
    if isinstance(value, dict):
        return set().union(*(_ids_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_ids_in(v) for v in value))
    return {value} if isinstance(value, str) else set()


def _open_line(job: Job) -> str:
    return f"{job.kind} job {job.id} is {job.status}"


def _uses(
    session: Session, datasets: list[DatasetRow], checkpoints: list[CheckpointRow], skip: set[str]
) -> list[str]:
    """Why `datasets` and `checkpoints` cannot go now: jobs that have not ended (other than
    `skip`) and name them, or that made them and may still write them."""
    names = {row.id: f"dataset {row.id}" for row in datasets}
    names |= {row.id: f"checkpoint {row.id}" for row in checkpoints}
    open_jobs = session.scalars(
        select(Job).where(Job.status.notin_(TERMINAL)).order_by(Job.created_at)
    )
    reasons = []
    for job in open_jobs:
        if job.id in skip:
            continue
        for used in sorted(_ids_in(job.params) & names.keys()):
            reasons.append(f"{_open_line(job)} and uses {names[used]}")
    for row in [*datasets, *checkpoints]:
        maker = session.get(Job, row.job_id) if row.job_id else None
        while maker is not None and maker.id not in skip:
            if maker.status not in TERMINAL:
                reasons.append(f"{_open_line(maker)} and may still write {names[row.id]}")
                break
            maker = session.get(Job, maker.parent_id) if maker.parent_id else None
    return reasons


def _locked(session: Session, model: type, *filters: Any) -> list[Any]:
    return list(session.scalars(select(model).where(*filters).with_for_update()))


def _inside(settings: Settings, paths: list[Path]) -> list[Path]:
    """The paths under the data dir (a row never makes a delete reach outside it)."""
    root = settings.data_path
    return [p for p in paths if p.resolve().is_relative_to(root) and p.resolve() != root]


def dataset_deletion(session: Session, settings: Settings, dataset: DatasetRow) -> Deletion:
    """Delete a dataset: its row and folder (its checkpoints stay)."""
    rows = _locked(session, DatasetRow, DatasetRow.id == dataset.id)
    return Deletion(
        rows=rows,
        files=_inside(settings, [Path(row.path) for row in rows]),
        refusals=_uses(session, rows, [], set()),
    )


def checkpoint_deletion(
    session: Session, settings: Settings, checkpoint: CheckpointRow
) -> Deletion:
    """Delete a checkpoint: its row and file, and its run's folder once no row is left in it."""
    rows = _locked(session, CheckpointRow, CheckpointRow.id == checkpoint.id)
    files = [Path(row.path) for row in rows]
    if rows and rows[0].job_id:
        others = session.scalar(
            select(CheckpointRow.id).where(
                CheckpointRow.job_id == rows[0].job_id, CheckpointRow.id != rows[0].id
            )
        )
        if others is None:
            files.append(settings.checkpoints_dir / rows[0].job_id)
    return Deletion(
        rows=rows, files=_inside(settings, files), refusals=_uses(session, [], rows, set())
    )


def job_deletion(session: Session, settings: Settings, job: Job) -> Deletion:
    """Delete a job that ended, with its steps and everything they made."""
    if job.parent_id is not None:
        return Deletion(refusals=[f"job {job.id} is a step of job {job.parent_id}: delete that"])
    tree, pending = [], [job.id]
    while pending:
        rows = _locked(session, Job, Job.id.in_(pending))
        tree += rows
        pending = list(session.scalars(select(Job.id).where(Job.parent_id.in_(pending))))
    ids = {row.id for row in tree}
    refusals = [f"{_open_line(row)}: cancel it first" for row in tree if row.status not in TERMINAL]
    datasets = _locked(session, DatasetRow, DatasetRow.job_id.in_(ids))
    checkpoints = _locked(session, CheckpointRow, CheckpointRow.job_id.in_(ids))
    refusals += _uses(session, datasets, checkpoints, ids)
    evaluated = [
        row
        for row in session.scalars(
            select(CheckpointRow).where(CheckpointRow.evaluation.is_not(None))
        )
        if (row.evaluation or {}).get("job_id") in ids and row.job_id not in ids
    ]
    folders = [
        root / job_id
        for job_id in sorted(ids)
        for root in (
            settings.checkpoints_dir,
            settings.work_dir,
            settings.data_path / "evaluations",
        )
    ]
    files = [Path(row.path) for row in [*datasets, *checkpoints]] + folders
    # steps before their parent; made rows before the jobs that made them
    jobs = sorted(tree, key=lambda row: row.parent_id is None)
    return Deletion(
        rows=[*checkpoints, *datasets, *jobs],
        files=_inside(settings, files),
        evaluations=evaluated,
        refusals=refusals,
    )


def apply(session: Session, deletion: Deletion) -> None:
    """Delete the rows (and clear the evaluations) of an unrefused deletion; the caller commits,
    then removes its files."""
    assert not deletion.refusals
    for row in deletion.evaluations:
        row.evaluation = None
    for row in deletion.rows:
        session.delete(row)
        session.flush()


def remove_files(paths: list[Path]) -> None:
    """Remove files and folders (gone already is fine)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
