"""Creating and cancelling jobs for the API: row first (committed), then the message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import ids, validation
from app.problems import ProblemError
from jobcore import flow, jobs
from jobcore.dispatch import Dispatcher
from jobcore.models import TERMINAL, Job, JobKind, JobStatus
from jobcore.settings import Settings


def _same_request(job: Job, kind: str, params: dict[str, Any]) -> bool:
    return job.kind == kind and job.params == params


def create(
    session: Session,
    settings: Settings,
    dispatcher: Dispatcher,
    kind: str,
    params: Any,
    idempotency_key: str | None,
) -> tuple[Job, bool]:
    """Validate, insert (with children), commit, send. Returns (job, replayed)."""
    stored = validation.job_params(kind, params, settings, session)
    if idempotency_key is not None:
        existing = session.scalar(select(Job).where(Job.idempotency_key == idempotency_key))
        if existing is not None:
            return _replay(existing, kind, stored), True
    try:
        job = flow.create_job(session, JobKind(kind), stored, idempotency_key=idempotency_key)
        job_id = job.id
        session.commit()  # read nothing more before the send: no connection held while it waits
    except IntegrityError:
        session.rollback()
        existing = session.scalar(select(Job).where(Job.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return _replay(existing, kind, stored), True
    flow.start(settings, dispatcher, job_id)
    session.refresh(job)
    return job, False


def _replay(existing: Job, kind: str, params: dict[str, Any]) -> Job:
    if not _same_request(existing, kind, params):
        raise ProblemError(
            409,
            "idempotency-key-reused",
            "Idempotency key reused",
            "this Idempotency-Key was used for a different request",
        )
    return existing


def get(session: Session, job_id: str) -> Job:
    """The job an id (or an unambiguous id prefix) names; 404 when there is none."""
    job = ids.find(session, Job, job_id)
    if job is None:
        raise ProblemError(404, "unknown-job", "Unknown job", f"no job {job_id!r}")
    return job


def cancel(session: Session, settings: Settings, dispatcher: Dispatcher, job_id: str) -> Job:
    """Cancel a queued job now, or ask a running one to stop; finished jobs are a conflict."""
    job = get(session, job_id)
    job_id = job.id
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        raise ProblemError(
            409, "job-finished", "Job already finished", f"job {job_id} already {job.status}"
        )
    if job.status not in TERMINAL:
        parent_id = job.parent_id
        revoked = [j.task_id for j in jobs.request_cancel(session, job_id) if j.task_id]
        session.commit()  # no connection held while the broker and the flow are told
        dispatcher.revoke(revoked)
        flow.advance(settings, dispatcher, job_id)  # a parent with nothing running ends now
        flow.advance(settings, dispatcher, parent_id)
    session.refresh(job)
    return job


def page(
    session: Session,
    model: type,
    filters: list[Any],
    limit: int,
    offset: int,
    order: Any,
) -> tuple[list[Any], int]:
    """One page of rows and the total count matching `filters`."""
    total = session.scalar(select(func.count()).select_from(model).where(*filters)) or 0
    rows = session.scalars(
        select(model).where(*filters).order_by(order.desc(), model.id).limit(limit).offset(offset)
    )
    return list(rows), int(total)
