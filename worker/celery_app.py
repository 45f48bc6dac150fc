"""The worker's Celery app: `celery -A worker.celery_app:celery_app worker -Q default,train`.

Its configuration is `jobcore.broker.make_celery`, the one the API's producer uses. A worker
consumes only while it reaches the database (`worker.liveness`).
"""

from __future__ import annotations

from typing import Any

from celery.signals import (
    setup_logging,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from jobcore import db, logs
from jobcore.broker import make_celery
from jobcore.db import dispose_engines
from jobcore.settings import get_settings
from worker.liveness import LIVENESS, DatabaseGate, wait_for_database

settings = get_settings()
db.configure(settings.db_timeout_s)
celery_app = make_celery(settings, include=["worker.tasks"], role="worker")
celery_app.steps["consumer"].add(DatabaseGate)


@setup_logging.connect
def _logging(loglevel: int | str | None = None, **_: Any) -> None:
    """The service's logging (`jobcore.logs`) in place of Celery's own, at `--loglevel`."""
    logs.configure(loglevel or "INFO")


@worker_init.connect
def _wait_for_database(**_: Any) -> None:
    """Before the broker connection: a worker that cannot reach the database is not ready."""
    wait_for_database(settings)


@worker_ready.connect
def _start_liveness(sender: Any = None, **_: Any) -> None:
    queues = [queue.name for queue in sender.task_consumer.queues] if sender else []
    LIVENESS.start(settings, sender.hostname if sender else "worker", queues)


@worker_shutdown.connect
def _stop_liveness(**_: Any) -> None:
    LIVENESS.stop()


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not reuse the parent's pooled DB connections, and gets a
    share of the cores for torch (training sets its own budget: `worker.tasks.train_threads`)."""
    dispose_engines()
    import torch

    from stickgen.compute import available_cores

    torch.set_num_threads(max(1, available_cores() // settings.worker_concurrency))
