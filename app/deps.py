"""Request-scoped dependencies: settings, a DB session, the job dispatcher."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from jobcore.db import session_scope
from jobcore.settings import Settings

LIMIT_HELP = "Rows per page, at most the server's page_limit (the schema's maximum)"


def check_page_limit(limit: int, settings_: Settings) -> None:
    from app.problems import ProblemError

    if limit > settings_.page_limit:
        raise ProblemError(
            422,
            "invalid-request",
            "Invalid request",
            f"limit: at most {settings_.page_limit} rows per page",
        )


def settings(request: Request) -> Settings:
    return request.app.state.settings


def session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings.db_url) as db:
        yield db


def disk_space(request: Request) -> None:
    """Refuse new work (503 with Retry-After) while the data folder is nearly full."""
    from app.problems import unavailable
    from app.routes.health import disk_free_mb

    settings_ = request.app.state.settings
    free = disk_free_mb(settings_)
    if free < settings_.min_free_disk_mb:
        raise unavailable(
            "disk-full",
            "Disk full",
            f"the server has {free} MB of disk space left (needs {settings_.min_free_disk_mb} "
            "MB to take new work); try again later",
        )
