"""`/v1/datasets` and `/v1/checkpoints`: metadata of what jobs produced (files stay on disk),
and deleting them (`jobcore.lifecycle`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from app import deps, ids, job_service
from app.problems import ProblemError, problem_responses
from app.schemas import MAX_INT, CheckpointOut, CheckpointPage, DatasetOut, DatasetPage
from jobcore import lifecycle
from jobcore.models import CheckpointRow, DatasetRow
from jobcore.settings import Settings

router = APIRouter(prefix="/v1")
Limit = Annotated[int, Query(ge=1, le=1000, description=deps.LIMIT_HELP)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
DELETED = {204: {"description": "Deleted: the row and its files are gone"}}


def delete(session: Session, deletion: lifecycle.Deletion, what: str) -> Response:
    """Carry out a deletion (rows, commit, then files), or answer 409 naming what uses it."""
    if deletion.refusals:
        session.rollback()
        detail = f"{what} is in use: " + "; ".join(deletion.refusals[:5])
        raise ProblemError(409, "in-use", "In use", detail)
    lifecycle.apply(session, deletion)
    session.commit()
    lifecycle.remove_files(deletion.files)
    return Response(status_code=204)


@router.get(
    "/datasets", response_model=DatasetPage, tags=["datasets"], responses=problem_responses(401)
)
def list_datasets(
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
    embedded: bool | None = Query(None, description="Only datasets with (or without) embeddings"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> DatasetPage:
    """Datasets, newest first."""
    filters = []
    if embedded is not None:
        column = DatasetRow.embedding_model
        filters.append(column.is_not(None) if embedded else column.is_(None))
    deps.check_page_limit(limit, settings)
    rows, total = job_service.page(
        session, DatasetRow, filters, limit, offset, DatasetRow.created_at
    )
    return DatasetPage(
        items=[DatasetOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/datasets/{dataset_id}",
    response_model=DatasetOut,
    tags=["datasets"],
    responses=problem_responses(401, 404, 409),
)
def get_dataset(dataset_id: str, session: Annotated[Session, Depends(deps.session)]) -> DatasetRow:
    """One dataset by id (or an unambiguous id prefix of 8+ characters)."""
    return dataset_or_404(session, dataset_id)


def dataset_or_404(session: Session, dataset_id: str) -> DatasetRow:
    """The dataset row an id (or an unambiguous id prefix) names, or a 404 problem."""
    row = ids.find(session, DatasetRow, dataset_id)
    if row is None:
        raise ProblemError(404, "unknown-dataset", "Unknown dataset", f"no dataset {dataset_id!r}")
    return row


@router.delete(
    "/datasets/{dataset_id}",
    status_code=204,
    tags=["datasets"],
    responses={**DELETED, **problem_responses(401, 404, 409)},
)
def delete_dataset(
    dataset_id: str,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Response:
    """Delete a dataset's row and files; 409 while a job that has not ended uses or makes it.
    Checkpoints trained on it stay. A repeated delete answers 404."""
    row = dataset_or_404(session, dataset_id)
    return delete(session, lifecycle.dataset_deletion(session, settings, row), f"dataset {row.id}")


@router.get(
    "/checkpoints",
    response_model=CheckpointPage,
    tags=["checkpoints"],
    responses=problem_responses(401, 422),
)
def list_checkpoints(
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
    job_id: str | None = Query(None, description="Only this train job's checkpoints"),
    kind: str | None = Query(None, description="last, best or epoch"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> CheckpointPage:
    """Checkpoints with their metrics, newest first."""
    filters = []
    if job_id is not None:
        filters.append(CheckpointRow.job_id == job_id)
    if kind is not None:
        filters.append(CheckpointRow.kind == kind)
    deps.check_page_limit(limit, settings)
    rows, total = job_service.page(
        session, CheckpointRow, filters, limit, offset, CheckpointRow.created_at
    )
    return CheckpointPage(
        items=[CheckpointOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/checkpoints/{checkpoint_id}",
    response_model=CheckpointOut,
    tags=["checkpoints"],
    responses=problem_responses(401, 404, 409),
)
def get_checkpoint(
    checkpoint_id: str, session: Annotated[Session, Depends(deps.session)]
) -> CheckpointRow:
    """One checkpoint by id (or an unambiguous id prefix of 8+ characters)."""
    return checkpoint_or_404(session, checkpoint_id)


@router.delete(
    "/checkpoints/{checkpoint_id}",
    status_code=204,
    tags=["checkpoints"],
    responses={**DELETED, **problem_responses(401, 404, 409)},
)
def delete_checkpoint(
    checkpoint_id: str,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Response:
    """Delete a checkpoint's row and file (and its run's folder with the last one); 409 while
    its train job runs or a job that has not ended uses it. A repeated delete answers 404."""
    row = checkpoint_or_404(session, checkpoint_id)
    deletion = lifecycle.checkpoint_deletion(session, settings, row)
    return delete(session, deletion, f"checkpoint {row.id}")


def checkpoint_or_404(session: Session, checkpoint_id: str) -> CheckpointRow:
    """The checkpoint row an id (or an unambiguous id prefix) names, or a 404 problem."""
    row = ids.find(session, CheckpointRow, checkpoint_id)
    if row is None:
        raise ProblemError(
            404, "unknown-checkpoint", "Unknown checkpoint", f"no checkpoint {checkpoint_id!r}"
        )
    return row
