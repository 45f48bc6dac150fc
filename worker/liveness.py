"""A worker consumes only while it can reach the database.

- At start (`worker_init`) it waits for the database before it connects to the broker: a worker
  with a wrong URL, or started during an outage, never says "ready" and takes no message.
- While it runs, its main process heartbeats a `workers` row (readiness counts live workers per
  queue). When the database stays out of reach for `db_retry_s`, the consumer stops taking
  messages (its queues are cancelled) until a heartbeat gets through again.
- A task that cannot claim its job through a database fault puts its message back
  (`worker.tasks._run`), so no message is acked for work that did not run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import bootsteps
from sqlalchemy import delete

from jobcore.db import ping, session_scope
from jobcore.models import WorkerRow, utcnow
from jobcore.settings import Settings

log = logging.getLogger(__name__)


def wait_for_database(settings: Settings, *, report_every_s: float = 5.0) -> None:
    """Block until the database answers, saying why every few seconds."""
    started = last = time.monotonic()
    while True:
        try:
            ping(settings.db_url)
            return
        except Exception as error:
            now = time.monotonic()
            if now - last >= report_every_s or last == started:
                log.error(
                    "database unreachable (%s); not consuming until it answers (waiting %.0f s)",
                    type(error).__name__,
                    now - started,
                )
                last = now
            time.sleep(min(1.0, settings.heartbeat_interval_s))


class Liveness:
    """The main process's heartbeat row and what it tells the consumer gate."""

    def __init__(self) -> None:
        self.database_ok = True
        self.settings: Settings | None = None
        self.name = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None

    def start(self, settings: Settings, name: str, queues: list[str]) -> None:
        self.settings, self.name = settings, name
        self.queues = ",".join(sorted(queues))
        self._thread = threading.Thread(target=self._run, name="worker-liveness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.settings is None:
            return
        try:
            with session_scope(self.settings.db_url) as session:
                session.execute(delete(WorkerRow).where(WorkerRow.name == self.name))
        except Exception:
            log.warning("could not remove this worker's row", exc_info=True)

    def beat(self) -> None:
        assert self.settings is not None
        with session_scope(self.settings.db_url) as session:
            row = session.get(WorkerRow, self.name)
            if row is None:
                row = WorkerRow(name=self.name, queues=self.queues, pid=os.getpid())
                session.add(row)
            row.queues, row.pid, row.heartbeat_at = self.queues, os.getpid(), utcnow()

    def _run(self) -> None:
        assert self.settings is not None
        interval = self.settings.heartbeat_interval_s
        while True:
            try:
                self.beat()
                if not self.database_ok:
                    log.warning("database reachable again: consuming")
                self._failing_since, self.database_ok = None, True
            except Exception as error:
                now = time.monotonic()
                self._failing_since = self._failing_since or now
                if self.database_ok and now - self._failing_since >= self.settings.db_retry_s:
                    log.error("database unreachable for %.0f s (%s): not consuming",
                              now - self._failing_since, type(error).__name__)  # fmt: skip
                    self.database_ok = False
            if self._stop.wait(interval if self.database_ok else min(interval, 1.0)):
                return


LIVENESS = Liveness()


class DatabaseGate(bootsteps.StartStopStep):
    """Consumer step: cancel the task queues while `LIVENESS` says the database is out of
    reach, add them back once it answers."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.paused: list[str] = []
        self.timer_ref: Any = None

    def start(self, consumer: Any) -> None:
        self.timer_ref = consumer.timer.call_repeatedly(0.5, self.check, (consumer,), priority=10)

    def check(self, consumer: Any) -> None:
        if not LIVENESS.database_ok and not self.paused:
            self.paused = [queue.name for queue in consumer.task_consumer.queues]
            for name in self.paused:
                consumer.cancel_task_queue(name)
        elif LIVENESS.database_ok and self.paused:
            for name in self.paused:
                consumer.add_task_queue(name)
            self.paused = []

    def stop(self, consumer: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
