"""Test harness: settings per backend, a real Celery worker process, an in-process API client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from jobcore.settings import Settings

REPO = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get(
    "STICKGEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("STICKGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TERMINAL = {"succeeded", "failed", "cancelled"}
TINY_TRAIN: dict[str, Any] = {  # train params of a job that takes seconds, even on 2 busy cores
    "preset": "tiny",
    "batch_size": 16,
    "accumulate": 1,
    "seed": 3,
    "max_train_samples": 32,  # two steps per epoch
    "max_val_samples": 8,
}

FAST_JOB_SETTINGS: dict[str, Any] = {
    "heartbeat_interval_s": 0.3,
    "stale_after_s": 2.5,
    "reaper_interval_s": 0.5,
    "progress_interval_s": 0.2,
    "max_attempts": 3,
}


def settings_env(values: dict[str, Any]) -> dict[str, str]:
    """The `STICKGEN_*` environment that makes a worker process read the same settings."""
    return {f"STICKGEN_{key.upper()}": str(value) for key, value in values.items()}


def postgres_database() -> tuple[str, Callable[[], None]] | str:
    """A fresh database on the local Postgres (URL, dropper), or why there is none."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={
        "connect_timeout": 3})  # fmt: skip
    name = f"stickgen_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        return f"Postgres at {POSTGRES_ADMIN_URL} unavailable: {type(exc).__name__}: {exc}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    return url.render_as_string(hide_password=False), drop


def redis_reason() -> str | None:
    """None when Redis answers PING, else why not."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unavailable: {type(exc).__name__}: {exc}"
    return None


@dataclass
class Proxied:
    """A fresh Postgres database and the shared Redis, each behind its own `FaultProxy`."""

    direct_url: str  # the database itself, bypassing the proxy
    db_proxy: Any
    redis_proxy: Any
    settings: dict[str, Any]  # database_url, broker_url and redis_key_prefix through the proxies


@contextmanager
def proxied_services(prefix: str) -> Iterator[Proxied]:
    """`Proxied` services for a fault-injection module (skips it when either is missing);
    closes the proxies and drops the database at the end."""
    import pytest
    from faultproxy import FaultProxy
    from sqlalchemy.engine import make_url

    reason = redis_reason()
    database = postgres_database() if reason is None else reason
    if isinstance(database, str):
        pytest.skip(database)
    direct_url, drop = database
    db_target, redis_target = make_url(direct_url), make_url(REDIS_URL)
    db_proxy = FaultProxy(db_target.host or "127.0.0.1", db_target.port or 5432)
    redis_proxy = FaultProxy(redis_target.host or "127.0.0.1", redis_target.port or 6379)
    settings = {
        "database_url": db_target.set(port=db_proxy.port).render_as_string(hide_password=False),
        "broker_url": f"redis://127.0.0.1:{redis_proxy.port}/{redis_target.database or 0}",
        "redis_key_prefix": f"{prefix}-{uuid.uuid4().hex[:8]}:",
    }
    try:
        yield Proxied(direct_url, db_proxy, redis_proxy, settings)
    finally:
        db_proxy.close()
        redis_proxy.close()
        drop()


@dataclass
class WorkerProcess:
    """A real `celery worker` in its own process group (so a test can SIGKILL all of it)."""

    env: dict[str, str]
    log_path: Path
    concurrency: int = 2
    queues: str = "default,train"
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self, timeout_s: float = 60.0, *, wait: bool = True) -> None:
        """Start the worker; with `wait`, return once it says it is ready."""
        self.starts += 1
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        command = [
            sys.executable, "-m", "celery", "-A", "worker.celery_app:celery_app", "worker",
            "-Q", self.queues, "-c", str(self.concurrency), "-n", name,
            "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps writing to it
        log.write(f"\n===== worker start {self.starts} =====\n")
        log.flush()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if wait:
            self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        assert self.process is not None
        marker = f"===== worker start {self.starts} ====="
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if " ready." in text.split(marker, 1)[-1]:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout_s} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no cleanup, no acks."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown of the main process; it stops its pool
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text()[-chars:] if self.log_path.exists() else ""

    def log_text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory (`VmRSS`) or its peak (`VmHWM`) in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


@dataclass
class ApiProcess:
    """The API in its own process: `uvicorn app.main:create_app --factory` (what compose's
    `python -m app.server` runs, less its bind check and log set-up)."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, timeout_s: float = 60.0) -> None:
        import httpx

        self.port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps writing to it
        self.process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **self.env}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"API exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"API not up after {timeout_s} s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Service:
    """The API (in process, lifespan running) plus a worker process, on one backend."""

    name: str
    settings: Settings
    client: TestClient
    worker: WorkerProcess
    notes: dict[str, Any] = field(default_factory=dict)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, kind: str, params: dict[str, Any], **headers: str) -> dict[str, Any]:
        response = self.client.post(
            "/v1/jobs", json={"kind": kind, "params": params}, headers=headers
        )
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
        return response.json()

    def wait(
        self,
        job_id: str,
        until: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in TERMINAL,
        timeout_s: float = 120.0,
        poll_s: float = 0.1,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if until(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {job_id} still {job['status']} after {timeout_s} s: {job}\n"
                    f"worker log:\n{self.worker.log_tail()}"
                )
            time.sleep(poll_s)

    def checkpoint_file(self, job_id: str, kind: str = "last") -> Path:
        """Where the job's checkpoint of `kind` is on disk (its row knows; clients never see it)."""
        from sqlalchemy import select

        from jobcore.db import session_scope
        from jobcore.models import CheckpointRow

        with session_scope(self.settings.db_url) as session:
            path = session.scalar(
                select(CheckpointRow.path).where(
                    CheckpointRow.job_id == job_id, CheckpointRow.kind == kind
                )
            )
        assert path is not None, f"job {job_id} has no {kind} checkpoint"
        return Path(path)

    def checkpoints(self, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get("/v1/checkpoints", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]
