"""`/healthz` (the process answers; touches nothing else) and `/readyz` (database, broker and
disk can serve; live workers per queue reported), each answering within about 2 s whatever a
dependency does."""

from __future__ import annotations

import asyncio
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from app.problems import RETRY_AFTER_S
from app.schemas import Health
from jobcore.db import ping, session_scope
from jobcore.models import WorkerRow, utcnow
from jobcore.settings import Settings

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)
# checks run on threads of their own: a full request thread pool cannot delay readiness
_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the API process is up (no dependency is touched)."""
    return Health(status="ok")


def disk_free_mb(settings: Settings) -> int:
    settings.data_path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(settings.data_path).free // (1 << 20)


def _database(settings: Settings) -> str:
    ping(settings.db_url)
    return "ok"


def _broker(settings: Settings) -> str:
    if settings.broker.startswith("filesystem://"):
        folder = settings.broker_dir / "queue"
        if not folder.is_dir():
            raise OSError(f"no broker folder {folder.name}")
        return "ok"
    if settings.broker.startswith(("redis://", "rediss://")):
        import redis

        timeout = settings.broker_timeout_s
        client = redis.Redis.from_url(settings.broker, socket_timeout=timeout,
                                      socket_connect_timeout=timeout)  # fmt: skip
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    from kombu import Connection

    with Connection(settings.broker, connect_timeout=settings.broker_timeout_s) as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.broker_timeout_s)
    return "ok"


def _workers(settings: Settings) -> dict[str, int]:
    """Workers with a fresh heartbeat, per queue they consume."""
    cutoff = utcnow() - timedelta(seconds=settings.stale_after_s)
    with session_scope(settings.db_url) as session:
        rows = session.scalars(select(WorkerRow.queues).where(WorkerRow.heartbeat_at >= cutoff))
        counts: dict[str, int] = {}
        for queues in rows:
            for queue in queues.split(","):
                if queue:
                    counts[queue] = counts.get(queue, 0) + 1
    return counts


async def _bounded(
    check: Any, settings: Settings, timeout_s: float, *, skip: bool = False
) -> tuple[Any, str | None]:
    """`check(settings)` on the readiness threads, within `timeout_s`; (value, None) or
    (None, why not). `skip`: the database is known to be failing, so it is not asked."""
    if skip:
        return None, "unavailable: failing (requests could not reach it)"
    loop = asyncio.get_running_loop()
    try:
        value = await asyncio.wait_for(loop.run_in_executor(_checks, check, settings), timeout_s)
        return value, None
    except TimeoutError:
        return None, f"unavailable: no answer within {timeout_s:g} s"
    except Exception as exc:
        log.warning("readiness check %s failed: %s", check.__name__, exc)
        return None, f"unavailable: {type(exc).__name__}"


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers, the broker accepts a connection and the data folder has
    at least `min_free_disk_mb` free (a 503 with `Retry-After` otherwise). Also reports free
    disk space and the live workers per queue (none is not a failure: jobs wait queued)."""
    settings: Settings = request.app.state.settings
    timeout = settings.db_timeout_s + 0.5
    failing = request.app.state.db_breaker.open  # requests just failed on it: do not wait again
    (
        (database, db_error),
        (broker, broker_error),
        (workers, _),
        (free, disk_error),
    ) = await asyncio.gather(
        _bounded(_database, settings, timeout, skip=failing),
        _bounded(_broker, settings, timeout),
        _bounded(_workers, settings, timeout, skip=failing),
        _bounded(disk_free_mb, settings, timeout),
    )
    checks = {"database": db_error or database, "broker": broker_error or broker}
    if disk_error:
        checks["disk"] = disk_error
    elif free < settings.min_free_disk_mb:
        checks["disk"] = f"unavailable: {free} MB free, under {settings.min_free_disk_mb} MB"
    else:
        checks["disk"] = "ok"
    ready = all(value == "ok" for value in checks.values())
    body = Health(status="ok" if ready else "unavailable", checks=checks, disk_free_mb=free,
                  workers=workers)  # fmt: skip
    headers = None if ready else {"Retry-After": str(RETRY_AFTER_S)}
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503, headers=headers)
