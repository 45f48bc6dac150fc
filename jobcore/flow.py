"""The job graph: creating jobs with their children, starting them, and moving parents along.

A pipeline is the library's chain (`stickgen.pipeline.PHASES`: generate -> validate -> embed ->
validate -> train) recorded as one child job per phase (steps 0..4); a
sharded generate has one `generate_shard` child per shard (a group) and a merge step that runs
on the parent row. Parents carry no Celery message of their own: `advance(parent)` reads the
children's rows and sends whatever is due, so the graph survives a lost worker or message.
It runs after every child ends and on every sweep.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from jobcore import jobs
from jobcore.db import session_scope
from jobcore.dispatch import TASK_MERGE, Dispatcher, shard_count
from jobcore.models import TERMINAL, Job, JobKind, JobStatus
from jobcore.settings import Settings
from stickgen.pipeline import PHASES

PIPELINE_WEIGHTS = tuple(phase.share for phase in PHASES)
SHARDS_SHARE = 0.9  # of a sharded generate's progress; the merge step does the rest


def create_job(
    session: Session, kind: JobKind, params: dict[str, Any], *, idempotency_key: str | None = None
) -> Job:
    """Insert a job and its children (pipeline steps, generate shards); caller commits."""
    job = Job(kind=kind, params=params, idempotency_key=idempotency_key)
    session.add(job)
    session.flush()
    if kind == JobKind.PIPELINE:
        for step, phase in enumerate(PHASES):  # the library's pipeline, one child per phase
            child_kind = JobKind(phase.kind)
            if child_kind == JobKind.VALIDATE:
                child_params = {"phase": phase.name}
            else:
                child_params = dict(params[phase.kind])
            child = _add_child(session, job, child_kind, child_params, step)
            if child_kind == JobKind.GENERATE:
                _add_shards(session, child)
    elif kind == JobKind.GENERATE:
        _add_shards(session, job)
    return job


def _add_child(session: Session, parent: Job, kind: JobKind, params: dict, step: int) -> Job:
    child = Job(kind=kind, params=params, parent_id=parent.id, step=step)
    session.add(child)
    session.flush()
    return child


def _add_shards(session: Session, job: Job) -> None:
    count = shard_count(job)
    if count > 1:
        for index in range(count):
            _add_child(session, job, JobKind.GENERATE_SHARD, {"shard": [index, count]}, index)


@dataclass
class DispatchPlan:
    """What one `advance` decided: messages to send, messages to revoke, parents to advance."""

    send: list[tuple[Job, str | None, float]] = field(default_factory=list)
    revoke: list[str] = field(default_factory=list)
    ended: bool = False


def start(settings: Settings, dispatcher: Dispatcher, job_id: str) -> None:
    """Get a committed queued job going: send its task, or advance it if it is a parent."""
    with session_scope(settings.db_url) as session:
        job = session.get(Job, job_id)
        if job is None or job.status in TERMINAL:
            return
        has_children = bool(jobs.children(session, job_id))
    if has_children:
        advance(settings, dispatcher, job_id)
    else:
        dispatcher.send(job, resend_after_s=_resend_wait(job, settings))


def _resend_wait(job: Job, settings: Settings) -> float:
    return jobs.resend_wait(job, settings.claim_wait_s, settings.redispatch_after_s)


def advance(settings: Settings, dispatcher: Dispatcher, parent_id: str | None) -> None:
    """Move a parent along after a change in its children; then its own parent, and so on."""
    while parent_id is not None:
        with session_scope(settings.db_url) as session:
            parent = session.get(Job, parent_id)
            if parent is None or parent.status in TERMINAL or parent.owner is not None:
                return
            kids = jobs.children(session, parent_id)
            if not kids:
                return
            if parent.kind == JobKind.PIPELINE:
                plan = _advance_sequence(session, parent, kids, settings)
            else:
                plan = _advance_group(session, parent, kids, settings)
            grandparent, kind = parent.parent_id, parent.kind
        dispatcher.revoke(plan.revoke)
        if plan.ended and kind == JobKind.GENERATE:  # shards and scratch of a sharded generate
            shutil.rmtree(settings.work_dir / parent_id, ignore_errors=True)
        for job, task_name, resend_after in plan.send:
            if job.kind == JobKind.GENERATE and shard_count(job) > 1 and task_name is None:
                advance(settings, dispatcher, job.id)
            else:
                dispatcher.send(job, resend_after_s=resend_after, task_name=task_name)
        if not plan.ended:
            return
        parent_id = grandparent


def _end_parent(
    session: Session, parent: Job, kids: list[Job], status: JobStatus, error: str | None
) -> DispatchPlan:
    plan = DispatchPlan(ended=True)
    for kid in kids:
        if kid.status not in TERMINAL:
            plan.revoke += [j.task_id for j in jobs.request_cancel(session, kid.id) if j.task_id]
    jobs.finish(session, parent.id, None, status, error=error, message=f"{parent.kind} {status}")
    return plan


def _cancel_if_requested(session: Session, parent: Job, kids: list[Job]) -> DispatchPlan | None:
    if not parent.cancel_requested:
        return None
    if any(kid.status == JobStatus.RUNNING for kid in kids):
        return DispatchPlan()  # wait for the running child to stop at its next check
    return _end_parent(session, parent, kids, JobStatus.CANCELLED, None)


def _advance_sequence(
    session: Session, parent: Job, kids: list[Job], settings: Settings
) -> DispatchPlan:
    """Pipeline: run the steps one after another, each fed the previous step's result. A cancel
    that came after the last step finished is too late: the pipeline succeeded."""
    finished = all(kid.status == JobStatus.SUCCEEDED for kid in kids)
    if not finished and (cancelled := _cancel_if_requested(session, parent, kids)) is not None:
        return cancelled
    carried: dict[str, Any] = {}
    for kid in kids:
        if kid.status == JobStatus.SUCCEEDED:
            carried.update({k: v for k, v in (kid.result or {}).items() if k.endswith("_id")})
            continue
        if kid.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            status = JobStatus.FAILED if kid.status == JobStatus.FAILED else JobStatus.CANCELLED
            error = f"{kid.kind} step {kid.status}: {kid.error}" if kid.error else None
            return _end_parent(session, parent, kids, status, error)
        if kid.status == JobStatus.QUEUED:
            if "dataset_id" in carried and kid.params.get("dataset_id") is None:
                kid.params = {**kid.params, "dataset_id": carried["dataset_id"]}
                session.flush()
            return DispatchPlan(send=[(kid, None, _resend_wait(kid, settings))])
        return DispatchPlan()  # a step is running
    result = {**carried, "steps": {PHASES[kid.step].name: kid.id for kid in kids}}
    jobs.finish(session, parent.id, None, JobStatus.SUCCEEDED, result=result, message="done")
    return DispatchPlan(ended=True)


def _advance_group(
    session: Session, parent: Job, kids: list[Job], settings: Settings
) -> DispatchPlan:
    """Sharded generate: run every shard, then send the merge step once all have succeeded."""
    if (cancelled := _cancel_if_requested(session, parent, kids)) is not None:
        return cancelled
    for kid in kids:
        if kid.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            error = f"shard {kid.step} {kid.status}: {kid.error}" if kid.error else None
            return _end_parent(session, parent, kids, JobStatus(kid.status), error)
    if all(kid.status == JobStatus.SUCCEEDED for kid in kids):
        return DispatchPlan(send=[(parent, TASK_MERGE, settings.stale_after_s)])
    queued = [kid for kid in kids if kid.status == JobStatus.QUEUED]
    return DispatchPlan(send=[(kid, None, _resend_wait(kid, settings)) for kid in queued])


def rollup_progress(session: Session, parent_id: str | None) -> None:
    """Set each unowned ancestor's progress from its children's."""
    while parent_id is not None:
        parent = session.get(Job, parent_id)
        if parent is None or parent.status in TERMINAL or parent.owner is not None:
            return
        kids = jobs.children(session, parent_id)
        done = [1.0 if kid.status == JobStatus.SUCCEEDED else kid.progress for kid in kids]
        if parent.kind == JobKind.PIPELINE:
            weights = PIPELINE_WEIGHTS[: len(done)]
            value = sum(w * d for w, d in zip(weights, done, strict=True)) / sum(weights)
        else:
            value = SHARDS_SHARE * sum(done) / max(len(done), 1)
        session.execute(
            update(Job)
            .where(Job.id == parent_id, Job.owner.is_(None))
            .values(progress=value)
            .execution_options(synchronize_session=False)
        )
        parent_id = parent.parent_id


def mark_ancestors_started(session: Session, parent_id: str | None) -> None:
    """A child began running: its queued ancestors become `running`."""
    while parent_id is not None:
        jobs.mark_started(session, parent_id, message="running")
        parent = session.get(Job, parent_id)
        parent_id = parent.parent_id if parent else None
