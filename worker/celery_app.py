"""The worker's Celery app: `celery -A worker.celery_app:celery_app worker -Q default,train`.

Its configuration is `jobcore.broker.make_celery`, the one the API's producer uses.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init

from jobcore.broker import make_celery
from jobcore.db import dispose_engines
from jobcore.settings import get_settings

celery_app = make_celery(get_settings(), include=["worker.tasks"])


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not reuse the parent's pooled DB connections."""
    dispose_engines()
