"""`JobRun`: one task execution holding one job row (claim, heartbeat, progress, end).

The claim is the run's token: its `owner` id and `attempt` number. Every write the run makes is
conditional on still holding it (`fenced`), and its files go to a folder of its own attempt,
published only by such a write, so a run that lost its claim (frozen, partitioned, reclaimed
after a stale heartbeat) changes nothing anyone can see. Database faults are retried with
backoff within `db_retry_s` (`jobcore.retry`): a blip is not a lost worker.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session

from jobcore import jobs
from jobcore.db import session_scope
from jobcore.dispatch import Dispatcher
from jobcore.flow import advance, mark_ancestors_started, rollup_progress
from jobcore.models import Job, JobStatus
from jobcore.public import public_text
from jobcore.retry import retrying, transient
from jobcore.settings import Settings
from stickgen.errors import Cancelled, StickGenError

log = logging.getLogger(__name__)
T = TypeVar("T")


class LostClaim(Exception):
    """Another execution holds the job, it already ended, or it was cancelled before starting."""


class FencedOut(Exception):
    """This run no longer holds the job's claim: it stops and writes nothing more."""


class DatabaseUnavailable(Exception):
    """The database stayed out of reach for longer than `db_retry_s`."""


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
        self._broken: BaseException | None = None
        self.attempt = 0

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> JobRun:
        def claim() -> Job | None:
            with session_scope(self.settings.db_url) as session:
                if not jobs.claim(session, self.job_id, self.owner, self.settings.stale_after_s):
                    return None
                job = session.get(Job, self.job_id)
                assert job is not None
                mark_ancestors_started(session, job.parent_id)
                return job

        try:
            job = retrying(claim, budget_s=self.settings.db_retry_s, what=f"claim {self.job_id}")
        except Exception as error:
            if transient(error):
                raise DatabaseUnavailable(f"cannot claim job {self.job_id}: {error}") from error
            raise
        if job is None:
            raise LostClaim(self.job_id)
        self.job = job
        self.attempt = job.attempts
        # the heartbeat thread logs with this context (the job's id)
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._beat,), name=f"heartbeat-{self.job_id}"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("job %s (%s) claimed, attempt %s, process %d", self.job_id, self.job.kind,
                 self.attempt, os.getpid())  # fmt: skip
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
        if self._lost.is_set() or isinstance(exc, FencedOut):
            log.warning("job %s: attempt %s lost its claim; it wrote nothing more", self.job_id,
                        self.attempt)  # fmt: skip
            return exc is None or isinstance(exc, Exception)
        if self._broken is not None or isinstance(exc, DatabaseUnavailable):
            # the row could not be kept up to date: leave it to the sweep, which runs the job
            # again (from its last published checkpoint) once its heartbeat is stale
            log.error("job %s: database out of reach; the sweep will run it again", self.job_id)
            return exc is None or isinstance(exc, Exception)
        status, cause = self._outcome(exc)
        if cause:
            cause = public_text(cause, self.settings.public_roots)
        error = short_error(cause) if cause else None

        def end() -> bool:
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
                return ended

        try:
            ended = retrying(end, budget_s=self.settings.db_retry_s, what=f"end {self.job_id}")
        except Exception:
            log.exception("job %s %s, but the row could not be written", self.job_id, status)
            return exc is None or isinstance(exc, Exception)
        if not ended:
            log.warning("job %s ended as %s but was no longer ours", self.job_id, status)
        else:
            log.info("job %s %s", self.job_id, status)
        try:
            advance(self.settings, self.dispatcher, self.job.parent_id)
        except Exception:  # the sweep advances every open parent
            log.warning("could not advance the parent of %s", self.job_id, exc_info=True)
        return exc is None or isinstance(exc, Exception)  # recorded in the row: not a task error

    def _outcome(self, exc: BaseException | None) -> tuple[JobStatus, str | None]:
        if exc is None:
            return JobStatus.SUCCEEDED, None
        if isinstance(exc, Cancelled):
            if self.cancel_requested:
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

    # -- writes that need the claim ---------------------------------------------------------
    def fenced(self, write: Callable[[Session], T], what: str = "write") -> T:
        """`write(session)` in a transaction that commits only while this run holds the claim
        (`jobs.hold`), retried through database faults. Raises FencedOut once it does not."""

        def attempt() -> T:
            with session_scope(self.settings.db_url) as session:
                if not jobs.hold(session, self.job_id, self.owner):
                    raise FencedOut(self.job_id)
                return write(session)

        try:
            return retrying(
                attempt, budget_s=self.settings.db_retry_s, what=f"{what} {self.job_id}"
            )
        except FencedOut:
            self._lost.set()
            raise

    def query(self, read: Callable[[Session], T], what: str = "read") -> T:
        """`read(session)`, retried through database faults."""

        def attempt() -> T:
            with session_scope(self.settings.db_url) as session:
                return read(session)

        return retrying(attempt, budget_s=self.settings.db_retry_s, what=f"{what} {self.job_id}")

    def publish(self, write: Callable[[Session], Any], what: str) -> bool:
        """A fenced write from inside a library callback: never raises (a callback's error could
        strand the library's own processes). When the claim is lost, or the database stays out
        of reach, it returns False and `should_stop` turns true, so the run stops without
        having made anything visible."""
        try:
            self.fenced(write, what)
            return True
        except FencedOut:
            return False
        except Exception as error:
            if not transient(error):
                raise
            self._broken = error
            return False

    # -- what the library gets --------------------------------------------------------------
    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def holds_claim(self) -> bool:
        return not self._lost.is_set() and self._broken is None

    def should_stop(self) -> bool:
        """True once cancel was requested, the job was taken over, the database stayed out of
        reach, or time is nearly up."""
        return self._stop.is_set() or not self.holds_claim or time.monotonic() > self._deadline

    def progress(self, done: int, total: int, message: str) -> None:
        """Library progress callback; writes at most every `progress_interval_s` (and at end).
        Best effort: a write the database refuses is skipped (the heartbeat keeps the claim)."""
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not finished and now - self._last_progress < self.settings.progress_interval_s:
            return
        self._last_progress = now
        lo, hi = self.span
        fraction = lo + (hi - lo) * (done / total if total > 0 else 0.0)
        try:
            with session_scope(self.settings.db_url) as session:
                if not jobs.set_progress(session, self.job_id, self.owner, fraction, message):
                    self._lost.set()
                    return
                rollup_progress(session, self.job.parent_id)
        except Exception as error:
            if not transient(error):
                raise
            log.warning("progress of job %s not written: %s", self.job_id, type(error).__name__)

    # -- heartbeat ----------------------------------------------------------------------------
    def _beat(self) -> None:
        interval = self.settings.heartbeat_interval_s
        wait = interval
        while not self._done.wait(wait):
            try:
                with session_scope(self.settings.db_url) as session:
                    owned, cancel = jobs.heartbeat(session, self.job_id, self.owner)
            except Exception:  # a DB hiccup: try again soon
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                wait = min(interval, 0.5)
                continue
            wait = interval
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
