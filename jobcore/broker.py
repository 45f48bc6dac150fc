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


WORKER_SOCKET_TIMEOUT_S = 10.0  # above the consumer's 1 s BRPOP


def broker_options(settings: Settings, role: str = "producer") -> dict[str, Any]:
    """Transport options: the filesystem transport's folders; Redis' visibility timeout and
    socket deadlines (the producer's are `broker_timeout_s`, so a hanging broker cannot hold
    an API request; the worker's consumer gets a longer one)."""
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
    timeout = settings.broker_timeout_s
    if role == "worker":
        timeout = max(WORKER_SOCKET_TIMEOUT_S, timeout)
    options: dict[str, Any] = {
        "visibility_timeout": settings.visibility_timeout_s,
        "socket_timeout": timeout,
        "socket_connect_timeout": settings.broker_timeout_s,
        "socket_keepalive": True,
    }
    if settings.redis_key_prefix:
        options["global_keyprefix"] = settings.redis_key_prefix
    return options


def make_celery(
    settings: Settings, *, include: Sequence[str] = (), role: str = "producer"
) -> Celery:
    """A Celery app for `settings`; `include` names the task modules a worker imports. A
    producer (the API) publishes once, within `broker_timeout_s`: a job whose message could
    not go out stays queued for the sweep."""
    settings.ensure_dirs()
    celery = Celery("stickgen", broker=settings.broker, include=list(include))
    producer = role == "producer"
    celery.conf.update(
        broker_transport_options=broker_options(settings, role),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=settings.broker_timeout_s,
        task_publish_retry=not producer,
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
        # task events (sent, received, started, succeeded, ...) for Flower and `celery events`
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_max_tasks_per_child=50,
    )
    return celery
