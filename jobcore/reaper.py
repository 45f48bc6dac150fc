"""The sweep that keeps jobs moving when a worker or a message is lost.

- a running job whose heartbeat went stale is sent again (it resumes: training from last.pt),
  or failed after `max_attempts` runs, or marked cancelled if a cancel was pending;
- a top-level queued job whose message never went out is sent;
- every unfinished parent (pipeline, sharded generate) is advanced.
Every change is a compare-and-set on the row, so several sweepers can run at once.
"""

from __future__ import annotations

import logging

from jobcore import flow, jobs
from jobcore.db import session_scope
from jobcore.dispatch import Dispatcher
from jobcore.models import JobStatus, utcnow
from jobcore.settings import Settings

log = logging.getLogger(__name__)


def sweep(settings: Settings, dispatcher: Dispatcher) -> dict[str, int]:
    """One pass; returns how many jobs it resent, ended and advanced."""
    counts = {"resent": 0, "ended": 0, "started": 0, "advanced": 0}
    now = utcnow()
    with session_scope(settings.db_url) as session:
        stale = jobs.stale_running(session, settings.stale_after_s)
        waiting = jobs.undispatched(
            session, now, settings.claim_wait_s, settings.redispatch_after_s
        )
        parents = jobs.open_parents(session)
    for job in stale:
        counts[_recover(settings, dispatcher, job)] += 1
    for job in waiting:
        flow.start(settings, dispatcher, job.id)
        counts["started"] += 1
    for job in parents:
        flow.advance(settings, dispatcher, job.id)
        counts["advanced"] += 1
    if counts["resent"] or counts["ended"]:
        log.info("sweep: %s", counts)
    return counts


def _recover(settings: Settings, dispatcher: Dispatcher, job) -> str:
    """A running job lost its worker: run it again, or end it."""
    status, error = None, None
    if job.cancel_requested:
        status = JobStatus.CANCELLED
    elif job.attempts >= settings.max_attempts:
        status = JobStatus.FAILED
        error = f"the worker was lost {job.attempts} times while running this job"
    if status is None:
        sent = dispatcher.send(job, resend_after_s=settings.stale_after_s)
        if sent:
            log.warning("job %s lost its worker; sent again (attempt %s)", job.id, job.attempts + 1)
        return "resent"
    with session_scope(settings.db_url) as session:
        jobs.finish(session, job.id, job.owner, status, error=error, message=str(status))
    flow.advance(settings, dispatcher, job.parent_id)
    return "ended"
