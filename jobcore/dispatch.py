"""Sending job messages to the broker: which task runs which job, on which queue."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

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
_publishers: dict[int, ThreadPoolExecutor] = {}


def _publisher() -> ThreadPoolExecutor:
    """This process's publishing threads (a forked child gets its own), so a caller waits for
    the broker no longer than `broker_timeout_s`."""
    pid = os.getpid()
    if pid not in _publishers:
        _publishers[pid] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="publish")
    return _publishers[pid]


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
        self._quiet_until = 0.0  # after a failed publish, leave sends to the sweep until then
        self._waiting: set[threading.Event] = set()  # one per send waiting on its publish
        self._waiting_lock = threading.Lock()

    @property
    def broker_failing(self) -> bool:
        """True for a short while after a publish failed (requests do not wait on it again)."""
        return time.monotonic() < self._quiet_until

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

        Returns True when a message was sent. Waits at most half of `broker_timeout_s` for the
        broker (a healthy one answers in milliseconds); a publish still pending then is left to
        finish in the background and the job to the sweep. Once one send finds the broker
        failing, the sends waiting beside it stop too, and for a few seconds sends are left to
        the sweep instead of each waiting on the broker again."""
        if self.broker_failing:
            return False
        name = task_name or task_for(job)
        task_id = uuid.uuid4().hex
        with session_scope(self.db_url) as session:
            if not jobs.reserve_dispatch(session, job.id, task_id, resend_after_s):
                return False
        publish = _publisher().submit(
            self.celery.send_task, name, args=[job.id], task_id=task_id, queue=queue_for(name)
        )
        try:
            self._wait(publish, self.settings.broker_timeout_s / 2)
            return True
        except FutureTimeout:  # it may still go out: a second message would be harmless
            error = f"no answer within {self.settings.broker_timeout_s / 2:g} s"
            if self.broker_failing:
                error = "another send found the broker failing"
        except Exception as exc:
            error = type(exc).__name__
        self._broker_failed()
        self._unreserve(job.id, task_id)
        log.error("could not send %s for job %s (%s); a later sweep retries", name, job.id, error)
        return False

    def _wait(self, publish: Future, timeout_s: float) -> None:
        """Wait for `publish` for up to `timeout_s`, or until another send finds the broker
        failing; raise its error, or FutureTimeout when it is still pending."""
        settled = threading.Event()
        publish.add_done_callback(lambda _: settled.set())
        with self._waiting_lock:
            self._waiting.add(settled)
        try:
            settled.wait(timeout_s)
        finally:
            with self._waiting_lock:
                self._waiting.discard(settled)
        publish.result(timeout=0)

    def _broker_failed(self) -> None:
        """Leave sends to the sweep for a while, and stop the ones waiting now: their publishes
        wait on the same broker."""
        self._quiet_until = time.monotonic() + 2 * self.settings.broker_timeout_s
        with self._waiting_lock:
            for settled in self._waiting:
                settled.set()

    def _unreserve(self, job_id: str, task_id: str) -> None:
        """The message may not have gone out: let the sweep send the job again."""
        try:
            with session_scope(self.db_url) as session:
                jobs.unreserve_dispatch(session, job_id, task_id)
        except Exception as exc:  # the sweep resends it after `resend_after_s` anyway
            log.warning("could not clear the dispatch of job %s (%s)", job_id, type(exc).__name__)

    def revoke(self, task_ids: list[str]) -> None:
        """Ask workers to drop queued messages (never terminate a running task)."""
        if not task_ids or self.broker_failing:
            return  # the job rows are already cancelled; a revoke is only a shortcut
        try:
            self.celery.control.revoke(task_ids)
        except Exception:
            self._broker_failed()
            log.warning("revoke failed for %s", task_ids, exc_info=True)
