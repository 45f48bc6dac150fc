"""The FastAPI application: `uvicorn app.main:create_app --factory`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from app import problems
from app.auth import require_api_key
from app.routes import animate, artifacts, checkpoint_files, health, jobs, limits, web
from jobcore import db
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


async def _sweep_forever(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.reaper_interval_s)
        try:
            await asyncio.to_thread(sweep, settings, app.state.dispatcher)
        except Exception:
            log.exception("job sweep failed; trying again later")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    settings.ensure_dirs()
    prepare_database(settings)
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
    app = FastAPIOffline(  # /docs and /redoc with their scripts served here: no CDN
        title="Stick-Gen",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
    )
    app.state.settings = settings
    app.state.dispatcher = Dispatcher(settings)
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
    return app
