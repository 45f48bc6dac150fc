"""`/v1/jobs`: create, read, list, cancel and delete background jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from app import deps, job_service
from app.problems import problem_responses
from app.routes.artifacts import DELETED, delete
from app.schemas import (
    JOB_CREATE_EXAMPLES,
    MAX_INT,
    JobCreate,
    JobKindName,
    JobOut,
    JobPage,
    JobStatusName,
)
from jobcore import lifecycle
from jobcore.models import Job
from jobcore.settings import Settings

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
JOB_ID = r"^[0-9a-f]{32}$"


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={
        202: {"description": "Accepted; `Location` names the job"},
        **problem_responses(400, 401, 409, 413, 422, 503),
    },
    dependencies=[Depends(deps.disk_space)],
)
def create_job(
    request: Request,
    response: Response,
    body: Annotated[JobCreate, Body(openapi_examples=JOB_CREATE_EXAMPLES)],
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            description="Repeat a request safely: the same key returns the job it created",
        ),
    ] = None,
) -> Job:
    """Create a job (generate, embed, train, pipeline or evaluate); it runs in a worker.

    A pipeline runs generate -> embed -> train as three child jobs (see `parent_id`)."""
    job, replayed = job_service.create(
        session, settings, request.app.state.dispatcher, body.kind, body.params, idempotency_key
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return job


@router.get("", response_model=JobPage, responses=problem_responses(401, 422))
def list_jobs(
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
    kind: JobKindName | None = None,
    status: JobStatusName | None = None,
    parent_id: Annotated[str | None, Query(pattern=JOB_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description=deps.LIMIT_HELP)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> JobPage:
    """Jobs, newest first, filtered by kind, status and parent."""
    filters = []
    if kind is not None:
        filters.append(Job.kind == kind)
    if status is not None:
        filters.append(Job.status == status)
    if parent_id is not None:
        filters.append(Job.parent_id == parent_id)
    deps.check_page_limit(limit, settings)
    rows, total = job_service.page(session, Job, filters, limit, offset, Job.created_at)
    return JobPage(
        items=[JobOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{job_id}", response_model=JobOut, responses=problem_responses(401, 404, 409))
def get_job(job_id: str, session: Annotated[Session, Depends(deps.session)]) -> Job:
    """One job with its progress, result or error (`job_id`: the id or an unambiguous prefix of
    8+ characters)."""
    return job_service.get(session, job_id)


@router.post(
    "/{job_id}/cancel",
    status_code=202,
    response_model=JobOut,
    responses=problem_responses(401, 404, 409),
)
def cancel_job(
    request: Request,
    job_id: str,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Job:
    """Cancel: a queued job ends now; a running one stops at its next check (training keeps its
    last checkpoint); a pipeline cancels its unfinished steps."""
    return job_service.cancel(session, settings, request.app.state.dispatcher, job_id)


@router.delete(
    "/{job_id}", status_code=204, responses={**DELETED, **problem_responses(401, 404, 409)}
)
def delete_job(
    job_id: str,
    session: Annotated[Session, Depends(deps.session)],
    settings: Annotated[Settings, Depends(deps.settings)],
) -> Response:
    """Delete a job that ended, with its steps and what they made (datasets, checkpoints,
    evaluation files: rows and files); 409 while it (or a step) has not ended, for a step of a
    pipeline, and while another job that has not ended uses what it made. A repeated delete
    answers 404."""
    job = job_service.get(session, job_id)
    return delete(session, lifecycle.job_deletion(session, settings, job), f"job {job.id}")
