"""`/metrics`: the API's series in the Prometheus text format.

HTTP requests are counted and timed by prometheus-fastapi-instrumentator (`http_requests_total`,
`http_request_duration_seconds`, ...). The service's own series:

- `stickgen_animate_seconds{engine}`: time to render a `/v1/animate` answer, `model` (a
  checkpoint's predictions) or `procedural`;
- `stickgen_jobs{kind,status}`: jobs per kind and status (`queued` and `running`: the queue);
- `stickgen_job_duration_seconds{kind,status}`: start to end of every ended job;
- `stickgen_train_loss{job_id}`: the last training loss of each running train job;
- `stickgen_database_up`: 0 when the jobs table could not be read for this scrape.

The job series come from the `jobs` table at scrape time (the workers that change it are other
processes): three aggregate queries, each under the database's statement deadline
(`db_timeout_s`), so a scrape never waits longer on a hanging database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy import ColumnElement, case, extract, func, select
from sqlalchemy.orm import Session

from jobcore.db import session_scope
from jobcore.models import TERMINAL, Job, JobKind, JobStatus
from jobcore.settings import Settings
from stickgen.progress import loss_in

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
ANIMATE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
JOB_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 48 * 3600.0)


def install(app: FastAPI, settings: Settings) -> None:
    """Instrument the app's HTTP traffic and serve every series at `/metrics` (one registry
    per app). `app.state.animate_seconds` is the animation histogram the route observes."""
    registry = CollectorRegistry()
    app.state.animate_seconds = Histogram(
        "stickgen_animate_seconds",
        "Time to render a /v1/animate answer, by engine (model or procedural)",
        ["engine"],
        buckets=ANIMATE_BUCKETS,
        registry=registry,
    )
    registry.register(JobsCollector(settings.db_url))
    instrumentator = Instrumentator(registry=registry, excluded_handlers=[METRICS_PATH])
    instrumentator.instrument(app).expose(app, endpoint=METRICS_PATH, include_in_schema=False)


@dataclass
class JobsSnapshot:
    """What one scrape read from the jobs table."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    # (kind, status) -> (count, sum of seconds, cumulative count per bucket of JOB_BUCKETS)
    durations: dict[tuple[str, str], tuple[int, float, list[int]]] = field(default_factory=dict)
    losses: dict[str, float] = field(default_factory=dict)


def read_jobs(session: Session) -> JobsSnapshot:
    """Counts per kind and status, ended jobs' duration histograms, running trainings' loss."""
    snapshot = JobsSnapshot()
    counts = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    snapshot.counts = {(kind, status): n for kind, status, n in session.execute(counts)}
    seconds = _seconds(session)
    buckets = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in JOB_BUCKETS]
    ended = (
        select(Job.kind, Job.status, func.count(), func.sum(seconds), *buckets)
        .where(Job.status.in_(TERMINAL), Job.started_at.is_not(None), Job.finished_at.is_not(None))
        .group_by(Job.kind, Job.status)
    )
    for kind, status, count, total, *cumulative in session.execute(ended):
        snapshot.durations[kind, status] = (count, float(total or 0), [int(n) for n in cumulative])
    running = select(Job.id, Job.message).where(
        Job.kind == JobKind.TRAIN, Job.status == JobStatus.RUNNING
    )
    for job_id, message in session.execute(running):
        loss = loss_in(message or "")
        if loss is not None:
            snapshot.losses[job_id] = loss
    return snapshot


def _seconds(session: Session) -> ColumnElement[float]:
    """A job's run time in seconds, in this database's SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", Job.finished_at - Job.started_at)
    return (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0


class JobsCollector(Collector):
    """The job series, read from the database when scraped."""

    def __init__(self, url: str) -> None:
        self.url = url

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope(self.url) as session:
                snapshot = read_jobs(session)
        except Exception as error:  # the scrape still answers, saying the database is down
            log.warning("metrics: the jobs table could not be read (%s)", type(error).__name__)
            snapshot = None
        yield GaugeMetricFamily(
            "stickgen_database_up",
            "1 when this scrape read the jobs table, 0 when the database did not answer",
            value=0 if snapshot is None else 1,
        )
        if snapshot is None:
            return
        jobs = GaugeMetricFamily(
            "stickgen_jobs",
            "Jobs per kind and status (queued and running: the queue's depth)",
            labels=["kind", "status"],
        )
        for kind in JobKind:
            for status in JobStatus:
                jobs.add_metric([kind, status], snapshot.counts.get((kind, status), 0))
        yield jobs
        durations = HistogramMetricFamily(
            "stickgen_job_duration_seconds",
            "Run time (start to end) of ended jobs, per kind and status",
            labels=["kind", "status"],
        )
        for (kind, status), (count, total, cumulative) in sorted(snapshot.durations.items()):
            buckets = [(str(bound), n) for bound, n in zip(JOB_BUCKETS, cumulative, strict=True)]
            durations.add_metric([kind, status], [*buckets, ("+Inf", count)], total)
        yield durations
        losses = GaugeMetricFamily(
            "stickgen_train_loss",
            "Last training loss reported by each running train job",
            labels=["job_id"],
        )
        for job_id, loss in sorted(snapshot.losses.items()):
            losses.add_metric([job_id], loss)
        yield losses
