"""`JobRun`: one task execution holding one job row (claim, heartbeat, progress, end)."""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from types import TracebackType
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from jobcore import jobs
from jobcore.db import session_scope
from jobcore.dispatch import Dispatcher
from jobcore.flow import advance, mark_ancestors_started, rollup_progress
from jobcore.models import Job, JobStatus
from jobcore.settings import Settings
from stickgen.errors import Cancelled, StickGenError

log = logging.getLogger(__name__)


class LostClaim(Exception):
    """Another execution holds the job, it already ended, or it was cancelled before starting."""


class JobRun:
    """Context manager around the library call of one job.

    Entering claims the row (compare-and-set) and starts a heartbeat thread that also watches
    `cancel_requested`; `progress` and `should_stop` are handed to the library function; leaving
    ends the row: succeeded (after `succeed`), cancelled (library raised Cancelled), failed
    (any other error, with its message), then moves the parent job along.
    """

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        job_id: str,
        *,
        progress_span: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.job_id = job_id
        self.owner = uuid.uuid4().hex
        self.span = progress_span
        self.job: Job
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_progress = 0.0
        self._deadline = time.monotonic() + settings.job_soft_time_limit_s - 60
        self._result: dict[str, Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> JobRun:
        with session_scope(self.settings.db_url) as session:
            if not jobs.claim(session, self.job_id, self.owner, self.settings.stale_after_s):
                raise LostClaim(self.job_id)
            job = session.get(Job, self.job_id)
            assert job is not None
            self.job = job
            mark_ancestors_started(session, job.parent_id)
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{self.job_id}")
        self._thread.daemon = True
        self._thread.start()
        log.info("job %s (%s) claimed, attempt %s", self.job_id, self.job.kind, self.job.attempts)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        status, cause = self._outcome(exc)
        error = short_error(cause) if cause else None
        with session_scope(self.settings.db_url) as session:
            ended = jobs.finish(
                session,
                self.job_id,
                self.owner,
                status,
                result=self._result if status == JobStatus.SUCCEEDED else None,
                error=error,
                message=_ending_message(status, error),
                details=cause if cause and cause != error else None,
            )
            rollup_progress(session, self.job.parent_id)
        if not ended:
            log.warning("job %s ended as %s but was no longer ours", self.job_id, status)
        else:
            log.info("job %s %s", self.job_id, status)
        advance(self.settings, self.dispatcher, self.job.parent_id)
        return exc is None or isinstance(exc, Exception)  # recorded in the row: not a task error

    def _outcome(self, exc: BaseException | None) -> tuple[JobStatus, str | None]:
        if exc is None:
            return JobStatus.SUCCEEDED, None
        if isinstance(exc, Cancelled):
            if self.cancel_requested or self._lost.is_set():
                return JobStatus.CANCELLED, None
            return JobStatus.FAILED, (
                f"stopped after the soft time limit of {self.settings.job_soft_time_limit_s} s"
            )
        if isinstance(exc, SoftTimeLimitExceeded):
            return JobStatus.FAILED, f"time limit of {self.settings.job_soft_time_limit_s} s hit"
        if isinstance(exc, StickGenError):
            return JobStatus.FAILED, str(exc)
        trace = "".join(traceback.format_exception(exc))
        log.error("job %s crashed:\n%s", self.job_id, trace)
        return JobStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}\n\n{trace}"

    def succeed(self, result: dict[str, Any]) -> None:
        """Record the result written when the block exits without error."""
        self._result = result

    # -- what the library gets --------------------------------------------------------------
    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def should_stop(self) -> bool:
        """True once cancel was requested, the job was taken over, or time is nearly up."""
        return self._stop.is_set() or self._lost.is_set() or time.monotonic() > self._deadline

    def progress(self, done: int, total: int, message: str) -> None:
        """Library progress callback; writes at most every `progress_interval_s` (and at end)."""
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not finished and now - self._last_progress < self.settings.progress_interval_s:
            return
        self._last_progress = now
        lo, hi = self.span
        fraction = lo + (hi - lo) * (done / total if total > 0 else 0.0)
        with session_scope(self.settings.db_url) as session:
            if not jobs.set_progress(session, self.job_id, self.owner, fraction, message):
                self._lost.set()
                return
            rollup_progress(session, self.job.parent_id)

    # -- heartbeat ----------------------------------------------------------------------------
    def _beat(self) -> None:
        while not self._done.wait(self.settings.heartbeat_interval_s):
            try:
                with session_scope(self.settings.db_url) as session:
                    owned, cancel = jobs.heartbeat(session, self.job_id, self.owner)
            except Exception:  # a DB hiccup: try again at the next beat
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                continue
            if not owned:
                self._lost.set()
            if cancel:
                self._stop.set()


SHORT_ERROR_CHARS = 240


def short_error(cause: str, limit: int = SHORT_ERROR_CHARS) -> str:
    """One or two lines for people: the cause's first line, cut at a sentence or clause end
    within `limit` characters (the full cause goes to the job's `details`)."""
    first = " ".join(cause.strip().splitlines()[0].split()) if cause.strip() else ""
    if len(first) <= limit:
        return first
    head = first[:limit]
    cut = max(head.rfind(". "), head.rfind("; "), head.rfind(": "))
    if cut >= limit // 3:
        return head[:cut].rstrip(" .;:") + " (see details)"
    return head[: limit - 1].rstrip() + "… (see details)"


def _ending_message(status: JobStatus, error: str | None) -> str:
    if status == JobStatus.SUCCEEDED:
        return "done"
    if status == JobStatus.CANCELLED:
        return "cancelled"
    return f"failed: {error}" if error else "failed"
