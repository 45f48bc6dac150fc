"""The Celery configuration of both sides: broker, transport options, queues, task limits.

The worker's app (`worker.celery_app`) and the API's producer (`Dispatcher`) are both built by
`make_celery`, so a message is sent with the routing the worker listens on. Job state lives in
the `jobs` table, not in a result backend; messages carry only a job id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery
from kombu import Queue

from jobcore.settings import Settings

QUEUE_DEFAULT = "default"
QUEUE_TRAIN = "train"


def broker_options(settings: Settings) -> dict[str, Any]:
    """Transport options: the filesystem transport's folders, Redis' visibility timeout."""
    if settings.broker.startswith("filesystem://"):
        folder = settings.broker_dir
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.2,
        }
    options: dict[str, Any] = {"visibility_timeout": settings.visibility_timeout_s}
    if settings.redis_key_prefix:
        options["global_keyprefix"] = settings.redis_key_prefix
    return options


def make_celery(settings: Settings, *, include: Sequence[str] = ()) -> Celery:
    """A Celery app for `settings`; `include` names the task modules a worker imports."""
    settings.ensure_dirs()
    celery = Celery("stickgen", broker=settings.broker, include=list(include))
    celery.conf.update(
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency,
        task_soft_time_limit=settings.job_soft_time_limit_s,
        task_time_limit=settings.job_time_limit_s,
        task_default_queue=QUEUE_DEFAULT,
        # each queue bound under its own routing key: bound under the default key, every
        # message would be delivered to both
        task_queues=tuple(Queue(name, routing_key=name) for name in (QUEUE_DEFAULT, QUEUE_TRAIN)),
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_max_tasks_per_child=50,
    )
    return celery
