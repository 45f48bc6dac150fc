"""Sending job messages to the broker: which task runs which job, on which queue."""

from __future__ import annotations

import logging
import threading
import uuid

from celery import Celery

from jobcore import jobs
from jobcore.broker import QUEUE_DEFAULT, QUEUE_TRAIN, make_celery
from jobcore.db import session_scope
from jobcore.models import Job, JobKind
from jobcore.settings import Settings

log = logging.getLogger(__name__)

TASK_GENERATE = "stickgen.generate"
TASK_GENERATE_SHARD = "stickgen.generate_shard"
TASK_MERGE = "stickgen.merge"
TASK_EMBED = "stickgen.embed"
TASK_TRAIN = "stickgen.train"
TASK_EVALUATE = "stickgen.evaluate"
TASK_VALIDATE = "stickgen.validate"

LEAF_TASKS = {
    JobKind.GENERATE: TASK_GENERATE,
    JobKind.GENERATE_SHARD: TASK_GENERATE_SHARD,
    JobKind.EMBED: TASK_EMBED,
    JobKind.TRAIN: TASK_TRAIN,
    JobKind.EVALUATE: TASK_EVALUATE,
    JobKind.VALIDATE: TASK_VALIDATE,
}
LONG_TASKS = (TASK_TRAIN, TASK_EVALUATE)


def queue_for(task_name: str) -> str:
    """Training and evaluation get their own queue so a long run never blocks short jobs."""
    return QUEUE_TRAIN if task_name in LONG_TASKS else QUEUE_DEFAULT


def shard_count(job: Job) -> int:
    return int(job.params.get("shards") or 1) if job.kind == JobKind.GENERATE else 1


def task_for(job: Job) -> str:
    """The task that runs a job's own code (for a sharded generate: the merge step)."""
    if shard_count(job) > 1:
        return TASK_MERGE
    return LEAF_TASKS[JobKind(job.kind)]


class Dispatcher:
    """Sends job messages by task name, always after the job row is committed.

    Through `celery` when given (the worker's own app), else through a producer built from
    the settings on first use."""

    def __init__(self, settings: Settings, celery: Celery | None = None) -> None:
        self.settings = settings
        self._celery = celery
        self._lock = threading.Lock()

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            with self._lock:
                if self._celery is None:
                    self._celery = make_celery(self.settings)
        return self._celery

    @property
    def db_url(self) -> str:
        return self.settings.db_url

    def send(self, job: Job, *, resend_after_s: float = 0.0, task_name: str | None = None) -> bool:
        """Send the job's task unless a message went out less than `resend_after_s` ago.

        Returns True when a message was sent."""
        name = task_name or task_for(job)
        task_id = uuid.uuid4().hex
        with session_scope(self.db_url) as session:
            if not jobs.reserve_dispatch(session, job.id, task_id, resend_after_s):
                return False
        try:
            self.celery.send_task(name, args=[job.id], task_id=task_id, queue=queue_for(name))
        except Exception:
            log.exception("could not send %s for job %s; a later sweep retries", name, job.id)
            with session_scope(self.db_url) as session:
                jobs.unreserve_dispatch(session, job.id, task_id)
            return False
        return True

    def revoke(self, task_ids: list[str]) -> None:
        """Ask workers to drop queued messages (never terminate a running task)."""
        if not task_ids:
            return
        try:
            self.celery.control.revoke(task_ids)
        except Exception:  # the job rows are already cancelled; a revoke is only a shortcut
            log.warning("revoke failed for %s", task_ids, exc_info=True)
