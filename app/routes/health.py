"""`/healthz` (the process answers) and `/readyz` (database and broker reachable)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.schemas import Health
from jobcore.db import ping

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the API process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and the broker accepts a connection."""
    settings = request.app.state.settings
    checks: dict[str, str] = {}
    try:
        ping(settings.db_url)
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("database not ready: %s", exc)
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        celery = request.app.state.dispatcher.celery
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        log.warning("broker not ready: %s", exc)
        checks["broker"] = f"unavailable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    body = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
