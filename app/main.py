"""The FastAPI application, built by `create_app`: `python -m app.server` runs it under uvicorn
with the service's logging and bind check (`uvicorn app.main:create_app --factory` works too)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

import anyio.to_thread
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from app import metrics, problems
from app.auth import require_api_key
from app.deps import Breaker
from app.guard import RequestGuard
from app.routes import animate, artifacts, checkpoint_files, health, jobs, limits, web
from jobcore import cleanup, db, logs
from jobcore.dispatch import Dispatcher
from jobcore.reaper import sweep
from jobcore.settings import Settings, get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Turn a text prompt into an animated stick figure, and run the data and training jobs behind it.

* `POST /v1/animate` renders a prompt (procedural engine, or a trained checkpoint by id).
* `POST /v1/jobs` queues generate / embed / train / pipeline work; poll `GET /v1/jobs/{id}`.
* Errors are `application/problem+json` documents (type, title, status, detail).
* When the server has an API key, send it in `X-API-Key` (health routes excepted).
* Every answer carries `X-Request-ID` (the request's own when it sent a short one): the id its
  log lines carry. `/metrics` serves the Prometheus series.
* `GET /v1/limits` tells the server's limits (prompt length, durations, job sizes) and text
  models, so a client can check its input before sending it.
* Ids: any unambiguous prefix of at least 8 characters of an id works wherever an id goes.
* `/` is a web page over this API: playground, jobs dashboard, checkpoints.
"""
DOCS_ASSETS = "/docs-assets"  # Swagger UI and ReDoc, served from the fastapi-offline package


def prepare_database(settings: Settings) -> None:
    """Upgrade to head (embedded mode) or refuse to run on an out-of-date schema (compose)."""
    if settings.auto_migrate:
        db.upgrade_to_head(settings.db_url)
    else:
        db.require_head(settings.db_url)


REQUEST_THREADS = 128


async def _sweep_forever(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    cleaned = time.monotonic()
    while True:
        await asyncio.sleep(settings.reaper_interval_s)
        try:
            await asyncio.to_thread(sweep, settings, app.state.dispatcher)
        except Exception as exc:
            log.error("job sweep failed (%s); trying again later", type(exc).__name__)
        interval = settings.cleanup_interval_s
        if interval > 0 and time.monotonic() - cleaned >= interval:
            cleaned = time.monotonic()
            await asyncio.to_thread(cleanup.clean, settings)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.ensure_dirs()
    prepare_database(settings)
    # request threads: enough that a burst waiting on a hanging dependency (each bounded by its
    # deadline) is not queued behind itself for a second deadline
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, REQUEST_THREADS)
    _ = app.state.dispatcher.celery  # the broker client is built now (no connection yet)
    await asyncio.to_thread(cleanup.clean, settings)
    task = asyncio.create_task(_sweep_forever(app)) if settings.reaper_interval_s > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    db.configure(settings.db_timeout_s)
    app = FastAPIOffline(  # /docs and /redoc with their scripts served here: no CDN
        title="Stick-Gen",
        version=version("stick-gen"),
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        generate_unique_id_function=lambda route: route.name,  # operation ids: create_job, ...
    )
    app.state.settings = settings
    app.state.dispatcher = Dispatcher(settings)
    app.state.render_slots = threading.BoundedSemaphore(settings.render_slots)
    app.state.db_breaker = Breaker(cooldown_s=settings.db_timeout_s)
    app.add_middleware(RequestGuard, settings=settings)  # key and body size before anything
    metrics.install(app, settings)  # counts what the guard refuses too
    # outermost: every log line of a request, and its answer, carry the request's id
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=logs.REQUEST_ID_HEADER,
        validator=logs.sane_request_id,
    )
    problems.install(app)
    app.include_router(health.router)
    secured = [Depends(require_api_key)]
    routers = (
        jobs.router,
        artifacts.router,
        checkpoint_files.router,
        animate.router,
        limits.router,
    )
    for router in routers:
        app.include_router(router, dependencies=secured)
    web.install(app)
    _state_limits(app, settings)
    return app


def _state_limits(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document states this server's configured limits (not only the static
    bounds): field maxima of /v1/animate and page sizes, the body limit, the render slots."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        problems.document_problems(schema)
        fields = schema["components"]["schemas"]["AnimateRequest"]["properties"]
        fields["prompt"]["maxLength"] = settings.max_prompt_chars
        fields["duration"].update(_number_bounds(settings.min_duration_s, settings.max_duration_s))
        for name in ("width", "height"):
            fields[name]["minimum"] = settings.min_frame_size
            fields[name]["maximum"] = settings.max_frame_size
        for path in schema["paths"].values():
            for operation in path.values():
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "limit" and parameter["in"] == "query":
                        parameter["schema"]["maximum"] = settings.page_limit
        schema["info"]["description"] += (
            f"\n**Limits of this server:** request bodies up to {settings.max_body_bytes} bytes "
            f"(413 beyond, refused before the body is read); at most {settings.render_slots} "
            "animation(s) rendered at once (503 with `Retry-After` beyond); pages of at most "
            f"{settings.page_limit} rows; 503 with `Retry-After` while the database or broker "
            f"is out of reach or under {settings.min_free_disk_mb} MB of disk is free.\n"
        )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _number_bounds(low: float, high: float) -> dict[str, Any]:
    return {"anyOf": [{"type": "number", "minimum": low, "maximum": high}, {"type": "null"}]}
