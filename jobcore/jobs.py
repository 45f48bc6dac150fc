"""Job-row state changes, each one a single compare-and-set UPDATE so concurrent workers agree.

A running job has an `owner` (one task execution, its claim token) and an attempt number (the
claim's count) and heartbeats; every write from a task is guarded by that owner (`hold` fences
a transaction: it takes the job row only while the claim is still held), so a task that lost
its job (reclaimed after a stale heartbeat) cannot overwrite the new owner's work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from jobcore.models import TERMINAL, Job, JobStatus, utcnow


def claim(session: Session, job_id: str, owner: str, stale_after_s: float) -> bool:
    """Take the job: `queued`, or `running` with no owner or a stale heartbeat -> `running`.

    Returns False when another execution holds it, it ended, or cancel was requested (on it or
    its parent). Idempotent for one owner: a retry after a commit whose answer was lost finds
    the claim already made and does not count another attempt."""
    if session.scalar(select(Job.owner).where(Job.id == job_id)) == owner:
        return True
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s)
    claimable = or_(
        Job.status == JobStatus.QUEUED,
        and_(
            Job.status == JobStatus.RUNNING,
            or_(Job.owner.is_(None), Job.heartbeat_at.is_(None), Job.heartbeat_at < stale),
        ),
    )
    parent = aliased(Job)
    parent_cancelled = exists().where(parent.id == Job.parent_id, parent.cancel_requested)
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable, Job.cancel_requested.is_(False), ~parent_cancelled)
        .values(
            status=JobStatus.RUNNING,
            owner=owner,
            heartbeat_at=now,
            attempts=Job.attempts + 1,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.started_at.is_(None))
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def hold(session: Session, job_id: str, owner: str) -> bool:
    """Fence the current transaction: True (and the job row locked until commit, its heartbeat
    refreshed) while `owner` still holds the running job; False once another claim took it or
    it ended. Writes that must come from the owner only (checkpoint and dataset rows) follow it
    in the same transaction, so they commit only while the claim is held."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.owner == owner, Job.status == JobStatus.RUNNING)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def heartbeat(session: Session, job_id: str, owner: str) -> tuple[bool, bool]:
    """Refresh the heartbeat; returns (still owned, cancel requested)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.owner == owner, Job.status == JobStatus.RUNNING)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False, True
    cancel = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return True, bool(cancel)


def set_progress(session: Session, job_id: str, owner: str, fraction: float, message: str) -> bool:
    """Write progress (0..1) and message; False when the job is no longer ours."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.owner == owner, Job.status == JobStatus.RUNNING)
        .values(
            progress=min(max(fraction, 0.0), 1.0), message=message[:2000], heartbeat_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(
    session: Session,
    job_id: str,
    owner: str | None,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    message: str | None = None,
    details: str | None = None,
) -> bool:
    """End a job (guarded by owner when given); False when it was not ours to end. `error` is
    the short reason shown to people, `details` its full cause (a long message, a traceback)."""
    assert status in TERMINAL
    values: dict[str, Any] = {"status": status, "owner": None, "finished_at": utcnow()}
    if status == JobStatus.SUCCEEDED:
        values["progress"] = 1.0
    if result is not None:
        values["result"] = result
    if error is not None:
        values["error"] = error[:4000]
    if message is not None:
        values["message"] = message[:2000]
    if details is not None:
        values["details"] = details[:20000]
    guard = [Job.id == job_id, Job.status.notin_(TERMINAL)]
    if owner is not None:
        guard.append(Job.owner == owner)
    updated = session.execute(
        update(Job).where(*guard).values(**values).execution_options(synchronize_session=False)
    )
    return updated.rowcount == 1


def release(session: Session, job_id: str, owner: str, message: str) -> bool:
    """Give up ownership but stay `running` (a parent waiting for its children)."""
    updated = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.owner == owner, Job.status == JobStatus.RUNNING)
        .values(owner=None, heartbeat_at=utcnow(), message=message)
        .execution_options(synchronize_session=False)
    )
    return updated.rowcount == 1


def mark_started(session: Session, job_id: str, message: str = "") -> None:
    """A parent whose first child started: `queued` -> `running` without an owner."""
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False))
        .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, message=message)
        .execution_options(synchronize_session=False)
    )


def reserve_dispatch(session: Session, job_id: str, task_id: str, resend_after_s: float) -> bool:
    """Record that `task_id` is about to be sent for the job, unless another message was sent
    less than `resend_after_s` ago (so concurrent sweeps send one message, not many)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=resend_after_s)
    result = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status.notin_(TERMINAL),
            or_(Job.dispatched_at.is_(None), Job.dispatched_at < cutoff),
        )
        .values(task_id=task_id, dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def unreserve_dispatch(session: Session, job_id: str, task_id: str) -> None:
    """The message for `task_id` could not be sent: let the next sweep try again."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.task_id == task_id)
        .values(dispatched_at=None)
        .execution_options(synchronize_session=False)
    )


def request_cancel(session: Session, job_id: str) -> list[Job]:
    """Cancel a job and its unfinished descendants; returns the queued ones cancelled outright
    (their messages should be revoked). Running ones get `cancel_requested` and stop themselves."""
    revoked: list[Job] = []
    pending = [job_id]
    while pending:
        current = pending.pop()
        job = session.get(Job, current, with_for_update=False)
        if job is None:
            continue
        pending.extend(session.scalars(select(Job.id).where(Job.parent_id == current)))
        if job.status in TERMINAL:
            continue
        session.execute(
            update(Job)
            .where(Job.id == current, Job.status.notin_(TERMINAL))
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        ended = session.execute(
            update(Job)
            .where(Job.id == current, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.CANCELLED,
                finished_at=utcnow(),
                message="cancelled before it started",
            )
            .execution_options(synchronize_session=False)
        )
        if ended.rowcount == 1:
            revoked.append(job)
    return revoked


def stale_running(session: Session, stale_after_s: float) -> list[Job]:
    """Owned running jobs whose worker stopped heartbeating (killed, lost)."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    return list(
        session.scalars(
            select(Job).where(
                Job.status == JobStatus.RUNNING,
                Job.owner.is_not(None),
                Job.heartbeat_at < cutoff,
            )
        )
    )


def resend_wait(job: Job, first_s: float, longest_s: float) -> float:
    """How long a queued job's latest message may go unclaimed before another is sent: `first_s`
    after the first send, then as long as the job had already waited (so waits double and a job
    queued behind long work gets a few spare messages, not one per sweep), at most `longest_s`.
    A spare message is harmless: its task finds the job claimed or ended and exits."""
    if job.dispatched_at is None or job.created_at is None:
        return first_s
    waited = (job.dispatched_at - job.created_at).total_seconds()
    return min(max(first_s, waited), longest_s)


def undispatched(session: Session, now: datetime, first_s: float, longest_s: float) -> list[Job]:
    """Top-level queued jobs whose message never went out, or went out `resend_wait` ago and
    was not claimed (lost with a killed API, or taken by a worker that could not run it)."""
    candidates = session.scalars(
        select(Job).where(
            Job.status == JobStatus.QUEUED,
            Job.parent_id.is_(None),
            Job.created_at < now - timedelta(seconds=first_s),
            or_(Job.dispatched_at.is_(None), Job.dispatched_at < now - timedelta(seconds=first_s)),
        )
    )
    return [
        job
        for job in candidates
        if job.dispatched_at is None
        or job.dispatched_at < now - timedelta(seconds=resend_wait(job, first_s, longest_s))
    ]


def open_parents(session: Session) -> list[Job]:
    """Unowned jobs with children that have not ended (pipelines, sharded generates)."""
    children = select(Job.parent_id).where(Job.parent_id.is_not(None)).distinct()
    return list(
        session.scalars(
            select(Job).where(
                Job.status.notin_(TERMINAL), Job.owner.is_(None), Job.id.in_(children)
            )
        )
    )


def children(session: Session, job_id: str) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.parent_id == job_id).order_by(Job.step)))
